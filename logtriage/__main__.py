import sys

from .stream import main

sys.exit(main())

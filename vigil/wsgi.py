import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
application = get_wsgi_application()

# Public status pages are answered from memory in front of Django (see vigil/statuspage/cache.py).
from vigil.statuspage.cache import PublicCache  # noqa: E402

application = PublicCache(application)

"""The `vigil` command: Django's management commands under one name (`vigil migrate`, `vigil serve`, ...)."""

import os
import sys


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if args[:2] == ["logs", "group"]:
        # No database needed: skip Django's start (seconds on a busy machine) for this pipe.
        from vigil.logs import group_command

        sys.exit(group_command.main(args[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
    from django.core.management import execute_from_command_line

    from vigil.accounts.audit import set_channel

    set_channel("cli")
    execute_from_command_line(["vigil", *args])


if __name__ == "__main__":
    main()

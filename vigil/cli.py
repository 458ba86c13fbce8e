"""The `vigil` command: Django's management commands under one name (`vigil migrate`, `vigil serve`, ...)."""

import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        # `vigil run -- COMMAND` runs on the job's machine: no settings, no database, only HTTP.
        from vigil.heartbeats.runner import main as run

        sys.exit(run(argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
    from django.core.management import execute_from_command_line

    from vigil.accounts.audit import set_channel

    set_channel("cli")
    execute_from_command_line(["vigil", *argv])


if __name__ == "__main__":
    main()

"""``tgadmin``: Django's ``manage.py`` for the admin panel, with readable configuration errors.

``tgadmin migrate`` creates Django's own tables; ``tgadmin ensure-superuser`` creates or updates
an admin from ADMIN_USERNAME / ADMIN_PASSWORD / ADMIN_EMAIL. Exit codes: 0 ok, 2 bad or missing
settings, 3 PostgreSQL unreachable. ``tgadmin --version`` prints the release (not Django's).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from tgadmin.config import ConfigError, settings_from_environment
from tgbot.version import VERSION

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3
DEFAULT_SETTINGS_MODULE = "tgadmin.settings"
ALIASES = {
    "ensure-superuser": "ensure_superuser",
    "export-user": "export_user",
    "erase-user": "erase_user",
    "purge-messages": "purge_messages",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # needs no settings; Django's own --version names Django's release
        print(f"tgadmin {VERSION}")
        return 0
    try:
        env = settings_from_environment()
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    from tgbot.observability import configure_logging

    configure_logging(env.log_level, env.log_format, service="tgadmin")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS_MODULE)
    if args:
        args[0] = ALIASES.get(args[0], args[0])

    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(["tgadmin", *args])
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"tgadmin: database unavailable: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

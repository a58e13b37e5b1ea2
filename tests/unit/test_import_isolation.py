"""Each image installs one extra: the bot must import without Django, the admin without aiogram."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is not installed in this image")
        return None
sys.meta_path.insert(0, Block())
"""


def run_with_blocked(blocked: set[str], code: str, env: dict[str, str] | None = None) -> None:
    script = BLOCKER.format(blocked=blocked) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr


def test_bot_service_imports_without_django() -> None:
    run_with_blocked(
        {"django", "gunicorn", "uvicorn", "whitenoise", "tgadmin"},
        """
        import tgbot.cli, tgbot.web.app, tgbot.delivery.dispatcher, tgbot.sandbox.server
        import tgbot.db.migrate
        """,
    )


def test_admin_panel_imports_without_the_bot_stack() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tgadmin.settings",
        "DATABASE_URL": "postgresql://u:p@localhost/db",
        "SECRET_KEY": "import-isolation-test-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
        "DEBUG": "true",
    }
    run_with_blocked(
        {"aiogram", "sqlalchemy", "alembic", "redis", "aiohttp"},
        """
        import django
        django.setup()
        import tgadmin.urls, tgadmin.asgi, tgadmin.panel.admin
        """,
        env=env,
    )

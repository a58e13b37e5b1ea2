"""Settings for mypy's Django plugin only: fixed placeholder values, nothing from a deployment."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "typecheck-only-not-a-secret")
os.environ.setdefault("DATABASE_URL", "postgresql://typecheck@localhost:5432/typecheck")

from tgadmin.settings.base import *  # noqa: F403

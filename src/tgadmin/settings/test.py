"""Settings for the test suite: the environment's settings, with cheap hashing and plain static."""

from tgadmin.settings.base import *  # noqa: F403
from tgadmin.settings.base import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
STATIC_ROOT = None  # served from the apps in tests (no collectstatic)
WHITENOISE_USE_FINDERS = True

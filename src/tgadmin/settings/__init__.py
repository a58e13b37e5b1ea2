"""Default settings module (``DJANGO_SETTINGS_MODULE=tgadmin.settings``): production-safe.

Everything comes from the environment; see :mod:`tgadmin.settings.base`.
"""

from tgadmin.settings.base import *  # noqa: F403

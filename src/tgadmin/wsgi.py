"""WSGI entry point (the image serves ASGI; this is for tools that want WSGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgadmin.settings")

application = get_wsgi_application()

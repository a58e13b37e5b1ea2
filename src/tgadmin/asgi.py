"""ASGI entry point: ``gunicorn -c python:tgadmin.gunicorn_conf tgadmin.asgi:application``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgadmin.settings")

application = get_asgi_application()

"""WSGI entry point (gunicorn allmine.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")

application = get_wsgi_application()

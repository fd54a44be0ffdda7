"""WSGI entry point for gunicorn: ``gunicorn yiwang.conf.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
application = get_wsgi_application()

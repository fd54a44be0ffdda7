# Load the Celery app with Django so @shared_task binds to it (eager in the embedded default).
from yiwang.conf.celery import app as celery_app

__all__ = ["celery_app"]

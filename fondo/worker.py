"""Entry point of Celery workers: ``celery -A fondo.worker worker``.

Builds the Celery app from the same settings as the web process (``FONDO_*`` variables),
without creating the Flask app.
"""

from fondo.celery_app import make_celery
from fondo.config import load_settings

celery = make_celery(load_settings())

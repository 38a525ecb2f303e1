"""The test suite and its own small host project: settings.py, urls.py, celery_app.py and the
host app testapp/ (subscription models, base template, account page). Helpers are in support/.
"""

# As in any Django project using Celery: the app is loaded with the project, so the package's
# @shared_task tasks bind to it.
from .celery_app import app as celery_app

__all__ = ["celery_app"]

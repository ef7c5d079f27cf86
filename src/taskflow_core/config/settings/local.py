"""`make run` on a developer machine."""

import os

from .base import *  # noqa: F403
from .base import env_list

# Off unless asked for: a debug page shows settings and source to whoever triggers an error.
DEBUG = os.environ.get("TASKFLOW_DEBUG", "") == "1"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
# Without nginx in front (`make run` when nginx is not installed) the core serves /static/
# (Swagger UI's files) itself, DEBUG or not; with nginx, nginx serves them first.
TASKFLOW_SERVE_STATIC = True

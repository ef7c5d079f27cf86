"""`make run` on a developer machine."""

import os

from .base import *  # noqa: F403
from .base import env_list

# Off unless asked for: a debug page shows settings and source to whoever triggers an error.
DEBUG = os.environ.get("TASKFLOW_DEBUG", "") == "1"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")

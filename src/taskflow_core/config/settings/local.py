"""`make run` on a developer machine."""

from .base import *  # noqa: F403
from .base import env_list

DEBUG = True
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")

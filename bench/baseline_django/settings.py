"""The production settings with the baseline URLconf in place of the API's."""

from taskflow_core.config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_django.urls"

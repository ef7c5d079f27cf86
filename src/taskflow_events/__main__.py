"""`python -m taskflow_events > docs/event-schema.json` regenerates the committed schema."""

import sys

from taskflow_events.codec import json_schema_text

sys.stdout.write(json_schema_text())

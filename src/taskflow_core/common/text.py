"""What text the API stores: no control characters (docs/api.md, "Limits").

A CR or LF in a title ends up in email subjects (where Django refuses it: every email about the
task would fail) and in logs; other C0 characters and DEL are invisible garbage at best. Long
text (descriptions, comment bodies) may hold newlines and tabs, nothing else.
"""

from __future__ import annotations

from django.core.validators import RegexValidator

SINGLE_LINE_MESSAGE = "Control characters (such as line breaks) are not allowed."
MULTILINE_MESSAGE = "Control characters other than newline and tab are not allowed."

single_line_text = RegexValidator(
    r"[\x00-\x1f\x7f]", inverse_match=True, message=SINGLE_LINE_MESSAGE, code="control_character"
)
multiline_text = RegexValidator(
    r"[\x00-\x08\x0b-\x1f\x7f]",
    inverse_match=True,
    message=MULTILINE_MESSAGE,
    code="control_character",
)

TITLE_MAX_LENGTH = 200
TEAM_NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
USERNAME_MAX_LENGTH = 150

"""Rules for free text that people type: what characters it may hold, how long it may be
(docs/api.md, "Limits").

A CR or LF in a title ends up in email subjects (where Django refuses it: every email about the
task would fail) and in logs; other control characters are invisible garbage at best. Long text
(descriptions, comment bodies) may hold newlines and tabs; single-line text (titles, team
names) none at all.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

TITLE_MAX_LENGTH = 200
TEAM_NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
USERNAME_MAX_LENGTH = 150


class NoControlCharacters:
    """Refuses control characters (Unicode category Cc: NUL, ESC, DEL, C1 codes, CR ...) other
    than those allowed, by default newline and tab. A model and a serializer validator."""

    def __init__(self, allowed: str = "\n\t") -> None:
        self.allowed = allowed

    def __call__(self, value: str) -> None:
        for position, char in enumerate(value):
            if char not in self.allowed and unicodedata.category(char) == "Cc":
                only = " (only newline and tab)" if self.allowed == "\n\t" else ""
                raise ValidationError(
                    f"Control character U+{ord(char):04X} at position {position} is not "
                    f"allowed{only}.",
                    code="control_character",
                )

    def __eq__(self, other: object) -> bool:  # migrations compare validators
        return isinstance(other, NoControlCharacters) and other.allowed == self.allowed

    def __hash__(self) -> int:
        return hash(self.allowed)

    def deconstruct(self) -> tuple[str, tuple[str, ...], dict[str, str]]:
        return ("taskflow_core.common.text.NoControlCharacters", (self.allowed,), {})


single_line_text = NoControlCharacters(allowed="")
multiline_text = NoControlCharacters()

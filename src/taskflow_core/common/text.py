"""Rules for free text that people type: what characters it may hold."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError


class NoControlCharacters:
    """Refuses control characters (Unicode category Cc: NUL, ESC, DEL, C1 codes, CR ...) other
    than those allowed, by default newline and tab. A model and a serializer validator."""

    def __init__(self, allowed: str = "\n\t") -> None:
        self.allowed = allowed

    def __call__(self, value: str) -> None:
        for position, char in enumerate(value):
            if char not in self.allowed and unicodedata.category(char) == "Cc":
                raise ValidationError(
                    f"Control character U+{ord(char):04X} at position {position} is not "
                    "allowed (only newline and tab).",
                    code="control_character",
                )

    def __eq__(self, other: object) -> bool:  # migrations compare validators
        return isinstance(other, NoControlCharacters) and other.allowed == self.allowed

    def __hash__(self) -> int:
        return hash(self.allowed)

    def deconstruct(self) -> tuple[str, tuple[str, ...], dict[str, str]]:
        return ("taskflow_core.common.text.NoControlCharacters", (self.allowed,), {})

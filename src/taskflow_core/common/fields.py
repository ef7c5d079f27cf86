"""Serializer fields with the strictness a JSON API wants."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class JsonBooleanField(serializers.BooleanField):
    """Only JSON `true`/`false`: in a JSON body, `"yes"`, `1` or `"false"` are mistakes."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class JsonStringField(serializers.CharField):
    """Only a JSON string: a number where text is expected is a mistake, not `"42"`."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))

"""Serializer fields with the strictness a JSON API wants."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import serializers


def api_datetime(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """DRF's ISO 8601 rendering of an aware datetime (`serializers.DateTimeField`), for the
    plain functions that build a representation without a serializer: in the current zone
    (`zone`, if the caller has looked it up already), `Z` for UTC."""
    if value is None:
        return None
    text = timezone.localtime(value, zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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

"""Content negotiation that remembers its answers.

DRF parses the `Accept` header and matches it against every renderer on each request, about
2 % of a task create's CPU (bench/NOTES.md, "P2"). The answer depends only on the header, the
format asked for (`?format=`) and the view's renderer classes, and clients send the same few
headers again and again: the answer is remembered per combination, for a bounded number of
them. A request no renderer can serve (406) is answered by DRF every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

REMEMBERED = 256  # combinations kept; past that the memory starts over (any header still works)

Key = tuple[str, str | None, tuple[type[Any], ...]]


class RememberingContentNegotiation(DefaultContentNegotiation):
    answers: dict[Key, tuple[int, str]] = {}  # shared by the process's threads (GIL-atomic)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        format = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        key = (accept, format, tuple(type(renderer) for renderer in renderers))
        answer = self.answers.get(key)
        if answer is None:
            # Raises NotAcceptable (406), which is not remembered.
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            answer = ([id(each) for each in renderers].index(id(renderer)), media_type)
            if len(self.answers) >= REMEMBERED:
                self.answers.clear()  # a flood of odd headers costs DRF's parsing, not memory
            self.answers[key] = answer
        index, media_type = answer
        return renderers[index], media_type

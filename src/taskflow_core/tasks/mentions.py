"""`@username` mentions in task descriptions and comments, resolved to team members."""

from __future__ import annotations

import re
import unicodedata

from django.db.models.functions import Lower

from taskflow_core.accounts.models import User

# A mention is `@` + username characters (Django's: letters, digits, `_ . @ + -`), not preceded
# by one of them, so the `@` inside `ada@example.com` is not a mention.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]{1,150})")
# Trailing characters that end a sentence more often than a username: `@bob.` or `@bob-`.
TRAILING = ".@+-"
# Bounds the lookup whatever the text: further mentions are ignored.
MAX_MENTIONS = 50


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for match in MENTION.finditer(text):
        token = unicodedata.normalize("NFKC", match.group(1)).lower()
        if token not in tokens:
            tokens.append(token)
            if len(tokens) == MAX_MENTIONS:
                break
    return tokens


def has_mentions(text: str) -> bool:
    """Whether `text` mentions anyone (a member or not: the names are not looked up)."""
    return MENTION.search(text) is not None


def mentioned_member_ids(*, team_id: int, text: str) -> list[int]:
    """Ids of the team's members mentioned in `text`, in order of first mention. `@bob.`
    means `bob.` if the team has such a member, else `bob`."""
    tokens = _tokens(text)
    if not tokens:
        return []
    forms = set(tokens) | {token.rstrip(TRAILING) for token in tokens}
    members = dict(
        User.objects.filter(memberships__team_id=team_id)
        .annotate(name=Lower("username"))
        .filter(name__in=forms)
        .values_list("name", "pk")
    )
    found: list[int] = []
    for token in tokens:
        user_id = members.get(token) or members.get(token.rstrip(TRAILING))
        if user_id is not None and user_id not in found:
            found.append(user_id)
    return found

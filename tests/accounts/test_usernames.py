"""Usernames are NFKC-normalised; usernames and addresses are unique ignoring case, and the
database enforces it, so concurrent registrations of case variants cannot both succeed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from tests.conftest import PASSWORD

REGISTER = "/api/v1/auth/register/"


def fullwidth(text: str) -> str:
    """`alice` in fullwidth letters (U+FF41...), which NFKC turns back into ASCII."""
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


def register(username: str, email: str) -> tuple[int, object]:
    response = APIClient().post(
        REGISTER, {"username": username, "email": email, "password": PASSWORD}, format="json"
    )
    return response.status_code, response.json()


@pytest.mark.django_db
def test_a_fullwidth_username_is_stored_normalised_and_signs_in_either_way() -> None:
    status, body = register(fullwidth("alice"), "alice@example.com")

    assert status == 201
    assert body["username"] == "alice"  # type: ignore[index]
    for spelling in ("alice", fullwidth("alice")):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": spelling, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200, spelling


@pytest.mark.django_db
def test_a_fullwidth_variant_of_a_taken_name_is_taken(make_user: Callable[..., User]) -> None:
    make_user("alice")

    status, body = register(fullwidth("ALICE"), "other@example.com")

    assert status == 400
    assert body == {"username": ["A user with that username already exists."]}


@pytest.mark.django_db
def test_normalisation_that_lengthens_a_name_past_150_is_a_400() -> None:
    # U+FDFA is one character that NFKC turns into eighteen.
    status, body = register("\ufdfa" * 10, "long@example.com")

    assert status == 400
    assert isinstance(body, dict)
    assert list(body) == ["username"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "variant"), [("username", "CaRoL"), ("email", "CAROL@EXAMPLE.COM")]
)
def test_the_database_refuses_case_variants(field: str, variant: str) -> None:
    """Not only the registration code: any insert that bypasses it fails too."""
    User.objects.create(username="carol", email="carol@example.com")
    duplicate = {"username": "dave", "email": "dave@example.com", field: variant}

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(**duplicate)


ROUNDS = 10
VARIANTS = ("racer{n}", "Racer{n}", "RACER{n}", "rAcEr{n}", fullwidth("racer") + "{n}", "racer{n}")


def register_in_thread(
    name: str, email: str, barrier: threading.Barrier, results: list[tuple[int, object]]
) -> None:
    try:
        barrier.wait(timeout=30)
        result = register(name, email)
    except Exception as error:  # a 500 surfaces here as an exception from the test client
        result = (500, repr(error))
    finally:
        connection.close()
    results.append(result)  # list.append is atomic


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_case_variants_make_exactly_one_account() -> None:
    failures: list[str] = []
    for n in range(ROUNDS):
        barrier = threading.Barrier(len(VARIANTS))
        results: list[tuple[int, object]] = []
        threads = [
            threading.Thread(
                target=register_in_thread,
                # Each thread also varies the address's case: both constraints race at once.
                args=(
                    variant.format(n=n),
                    f"racer{n}@example.com" if index % 2 else f"RACER{n}@Example.com",
                    barrier,
                    results,
                ),
            )
            for index, variant in enumerate(VARIANTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(status for status, _ in results)
        if statuses != [201] + [400] * (len(VARIANTS) - 1):
            failures.append(f"round {n}: {results}")
        assert User.objects.filter(username__iexact=f"racer{n}").count() == 1
    assert failures == []

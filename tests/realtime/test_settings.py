"""The realtime service refuses to start without a public key, or with the private key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from taskflow_realtime.settings import Settings


def test_no_public_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("JWT_PUBLIC_KEY_FILE", raising=False)
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY"):
        Settings(redis_url="redis://127.0.0.1:6379/0")


def test_the_private_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    private = (
        os.environ.get("JWT_PRIVATE_KEY") or Path(os.environ["JWT_PRIVATE_KEY_FILE"]).read_text()
    )
    monkeypatch.setenv("JWT_PUBLIC_KEY", private)
    with pytest.raises(ValidationError, match="not the private key"):
        Settings(redis_url="redis://127.0.0.1:6379/0")


def test_the_key_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "public.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n")
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    monkeypatch.setenv("JWT_PUBLIC_KEY_FILE", str(key))
    monkeypatch.setenv("TASKFLOW_WS_SEND_QUEUE_SIZE", "8")
    settings = Settings(redis_url="redis://127.0.0.1:6379/0")
    assert settings.jwt_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert settings.ws_send_queue_size == 8

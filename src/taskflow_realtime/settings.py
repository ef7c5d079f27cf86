"""One pydantic-settings `Settings`, read from the environment; no public key, no start."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASKFLOW_", extra="ignore")

    redis_url: str = Field(validation_alias="REDIS_URL")
    # The realtime service verifies tokens; it is never given the key that signs them.
    jwt_public_key: str = Field(default="", validation_alias="JWT_PUBLIC_KEY")
    jwt_public_key_file: Path | None = Field(default=None, validation_alias="JWT_PUBLIC_KEY_FILE")
    # Shared with the core's settings (the publisher appends to this stream).
    event_stream: str = "taskflow:{events}"
    ws_auth_timeout_seconds: float = Field(default=10.0, gt=0)
    # Frames, and bytes, waiting for one slow socket before it is closed (1013).
    ws_send_queue_size: int = Field(default=256, ge=1)
    # A socket that stops reading holds at most this plus its transport's buffer (docs/events.md).
    ws_send_queue_bytes: int = Field(default=512 * 1024, ge=64 * 1024)
    # The kernel's send buffer of each socket (SO_SNDBUF; Linux doubles it): without it the
    # kernel grows it to net.ipv4.tcp_wmem's maximum (~4 MB) for a peer that stops reading,
    # before the queue above even starts. 0 = the kernel's own sizing.
    ws_socket_send_buffer_bytes: int = Field(default=128 * 1024, ge=0)
    # Open sockets per user across every realtime process (the next one is closed with 4429),
    # counted in Redis; each process renews its sockets' entries every heartbeat.
    ws_max_sockets_per_user: int = Field(default=20, ge=1)
    ws_registry_heartbeat_seconds: float = Field(default=10.0, gt=0)
    replay_page_size: int = Field(default=500, ge=1)
    # Log lines written by a thread of their own, so the event loop never waits on a write
    # (log_queue.py). Off only where the app runs inside another program's logging (tests).
    realtime_log_queue: bool = True

    @model_validator(mode="after")
    def _public_key_present(self) -> Settings:
        if not self.jwt_public_key and self.jwt_public_key_file is not None:
            self.jwt_public_key = self.jwt_public_key_file.read_text()
        if not self.jwt_public_key.strip():
            raise ValueError("Set JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE (the PEM public key).")
        if "PRIVATE KEY" in self.jwt_public_key:
            raise ValueError("The realtime service takes the JWT public key, not the private key.")
        return self


@functools.cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # the fields come from the environment

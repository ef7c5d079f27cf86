"""Development secrets: a Django secret key and the JWT signing key pair, kept under `.taskflow/`.

The core signs access tokens with the RSA private key; the realtime service is given only the
public key, so it can verify tokens but never mint them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def ensure_jwt_keys(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "jwt_private.pem", directory / "jwt_public.pem"
    if not private_path.exists() or not public_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_path.touch(mode=0o600)
        private_path.write_bytes(private_pem)
        public_path.write_bytes(public_pem)
    return private_path, public_path


def ensure_secret_key(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()

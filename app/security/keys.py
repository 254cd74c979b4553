"""Where the token signing key comes from: settings, or a dev key kept in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from app.config import Settings
from app.security.tokens import SigningKey

DEV_KEY_FILE = "jwt-secret"


def load_signing_key(settings: Settings) -> SigningKey:
    """RS256 when a private key is configured, else HS256 with the configured secret.

    Without either (development only; production refuses to start) a random 256-bit secret is
    generated once and kept, readable by the owner only, in the data directory.
    """
    if settings.jwt_private_key is not None:
        pem = settings.jwt_private_key.get_secret_value().encode()
        private = serialization.load_pem_private_key(pem, password=None)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return SigningKey("RS256", pem.decode(), public.decode())
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:
        secret = _dev_secret(settings.data_dir / DEV_KEY_FILE)
    return SigningKey("HS256", secret, secret)


def _dev_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret

"""Where the token signing key comes from: settings, or a dev key kept in the data directory."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from app.security.tokens import SigningKey

DEV_KEY_FILE = "jwt-secret"
MIN_SECRET_BYTES = 32


def load_signing_key(
    *, private_key_pem: str | None, secret: str | None, data_dir: Path
) -> SigningKey:
    """RS256 when a private key is configured, else HS256 with the configured secret.

    Without either (development only; production refuses to start) a random 256-bit secret is
    generated once and kept, readable by the owner only, in the data directory.
    """
    if private_key_pem is not None:
        pem = private_key_pem.encode()
        private = serialization.load_pem_private_key(pem, password=None)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return SigningKey("RS256", pem.decode(), public.decode())
    if secret is None:
        secret = _dev_secret(data_dir / DEV_KEY_FILE)
    return SigningKey("HS256", secret, secret)


def pseudonym_key(key: SigningKey) -> bytes:
    """The HMAC key for digests that must not be reversible by guessing their input (request
    fingerprints that contain passwords, throttle keys made of e-mails and IP addresses)."""
    material = b"backoffice pseudonyms\x00" + key.signing_key.encode()
    return hashlib.sha256(material).digest()


def _dev_secret(path: Path) -> str:
    """Created atomically (written aside, then linked into place), so concurrent workers never
    read a half-written key; an existing key shorter than 32 bytes is refused, never used."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise InvalidSigningKey(f"{path} holds a key shorter than {MIN_SECRET_BYTES} bytes")
    return secret


class InvalidSigningKey(Exception):
    """The configured or kept signing key cannot be used."""

"""Integration credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``INGEST_CREDENTIALS_KEY`` (a urlsafe base64 32-byte key, as
``Fernet.generate_key()`` makes); the database only ever holds ciphertext.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class CredentialsKeyError(Exception):
    """The encryption key is missing or does not open the stored credentials."""


def _fernet(key: str | None) -> Fernet:
    if not key:
        raise CredentialsKeyError(
            "INGEST_CREDENTIALS_KEY is not set; create one with "
            "`ingest-pipeline credentials new-key` and keep it secret"
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise CredentialsKeyError(
            "INGEST_CREDENTIALS_KEY is not a valid key (32 urlsafe-base64 bytes)"
        ) from exc


def new_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(info: dict[str, Any], *, key: str | None) -> bytes:
    """Ciphertext of a credentials mapping."""
    return _fernet(key).encrypt(json.dumps(info, sort_keys=True).encode())


def decrypt(token: bytes, *, key: str | None) -> dict[str, Any]:
    """The credentials mapping; `CredentialsKeyError` when the key does not fit."""
    try:
        data = _fernet(key).decrypt(bytes(token))
    except InvalidToken as exc:
        raise CredentialsKeyError(
            "the stored credentials cannot be decrypted with INGEST_CREDENTIALS_KEY "
            "(was the key rotated?)"
        ) from exc
    result: dict[str, Any] = json.loads(data)
    return result

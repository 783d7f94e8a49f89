"""Encryption at rest for Telegram credentials, keyed by TGFLOWS_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from db.settings import get_settings


class SecretKeyMissing(RuntimeError):
    pass


def _fernet(key: str | None = None) -> Fernet:
    secret = key or get_settings().secret_key
    if not secret:
        raise SecretKeyMissing("TGFLOWS_SECRET_KEY must be set to store Telegram credentials")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def encrypt(value: str, key: str | None = None) -> bytes:
    return _fernet(key).encrypt(value.encode())


def decrypt(value: bytes, key: str | None = None) -> str:
    try:
        return _fernet(key).decrypt(value).decode()
    except InvalidToken as err:
        raise SecretKeyMissing(
            "credentials cannot be decrypted with this TGFLOWS_SECRET_KEY"
        ) from err

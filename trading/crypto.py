"""Broker token encryption with keys from settings (never from the database or SECRET_KEY)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from ops.logs import secret_register


class TokenDecryptError(Exception):
    """The stored token cannot be decrypted with the configured keys: re-enter the token."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in settings.TOKEN_KEYS])


def token_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def token_decrypt(cipher: str) -> str:
    try:
        plain = _fernet().decrypt(cipher.encode()).decode()
    except InvalidToken as e:
        raise TokenDecryptError("stored broker token cannot be decrypted with ASIRIKUY_TOKEN_KEYS") from e
    secret_register(plain)  # a decrypted secret never reaches a log line
    return plain


def token_hint(plain: str) -> str:
    """What may be shown back to a user: the last four characters only."""
    return f"…{plain[-4:]}" if len(plain) >= 8 else "…"

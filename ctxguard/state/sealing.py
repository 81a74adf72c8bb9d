"""Sealing what a shared store keeps, so the server (and whoever can write to it) learns nothing and
can forge nothing: AES-GCM under a key derived from a secret the server never sees, with the record's
place (queue, id, purpose) as associated data, so a sealed blob moved to another record fails to open.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ConfigurationError

MIN_KEY_BYTES = 16
_VERSION = b"\x01"
_NONCE = 12


def _frame(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


class Sealer:
    """Seal and open byte strings bound to a place. ``purpose`` separates keys for unrelated uses."""

    def __init__(self, key: bytes, purpose: bytes) -> None:
        if not isinstance(key, bytes):
            raise TypeError(f"key must be bytes, not {type(key).__name__}")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(f"key is too short ({len(key)} bytes); use at least {MIN_KEY_BYTES}")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ctxguard-state-v1", info=purpose).derive(key)
        self._aead = AESGCM(derived)

    def seal(self, plaintext: bytes, *place: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        aad = _frame(*(p.encode("utf-8", "surrogatepass") for p in place))
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, *place: str) -> bytes | None:
        """The plaintext, or None when the blob was not sealed here, for this place, with this key."""
        if not isinstance(sealed, bytes) or len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
            return None
        aad = _frame(*(p.encode("utf-8", "surrogatepass") for p in place))
        try:
            return self._aead.decrypt(sealed[1:1 + _NONCE], sealed[1 + _NONCE:], aad)
        except InvalidTag:
            return None


__all__ = ["Sealer"]

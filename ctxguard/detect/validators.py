"""What a secret must be beyond its shape: checksums, structure, entropy, and not a placeholder.

A regular expression only says that a string looks like a credential. Documentation, tests and
templates are full of strings with the right shape that are not live (``ghp_xxxx…``,
``AKIAZZZZZZZZZZZZZZZZ``, ``${API_TOKEN}``, ``"changeme"``), and a firewall that blocks a tool call
because a README contains one teaches its users to switch it off. So each table row may name a
check here, and every row passes the placeholder test. Every function is a pure function of the
matched value, in time linear in its length; matches are bounded by the table, so none of this
can be driven into long work by hostile input.

The thresholds are arguments from the formats, not fitted to a data set: a run of 7 identical or
consecutive characters occurs in a random 40-character base62 token with probability below 1e-9,
so rejecting it costs no real secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import string
import zlib
from collections import Counter
from itertools import pairwise

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


# ---- entropy and placeholders ---------------------------------------------------------------------

def shannon_entropy(value: str) -> float:
    """Shannon entropy in bits per character of ``value``'s own character distribution."""
    n = len(value)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# Byte tables c -> c-1 and c -> c+1, to find runs of consecutive characters by comparison.
_DEC = bytes((c - 1) % 256 for c in range(256))
_INC = bytes((c + 1) % 256 for c in range(256))


def _equal_run(a: bytes, b: bytes, k: int) -> bool:
    """Whether ``a`` and ``b`` (same length) agree on ``k`` consecutive positions.

    One big-integer XOR and a substring search, both in C: this runs on every candidate.
    """
    if k <= 0 or len(a) < k:
        return k <= 0
    diff = (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")
    return bytes(k) in diff


def has_periodic_run(value: str, period: int, length: int) -> bool:
    """Whether ``value`` holds ``length`` characters repeating with ``period`` (``xxxx``: 1, ``1212``: 2)."""
    raw = value.encode("utf-8", "surrogatepass")
    return len(raw) >= length and _equal_run(raw[period:], raw[:-period], length - period)


def has_sequence(value: str, length: int) -> bool:
    """Whether ``value`` holds ``length`` consecutive characters, up or down (``123456``, ``fedcba``)."""
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) < length:
        return False
    head, tail = raw[:-1], raw[1:]
    return _equal_run(tail.translate(_DEC), head, length - 1) or _equal_run(tail.translate(_INC), head, length - 1)


# Period -> shortest run that counts as filler. Longer periods need longer runs before chance is
# negligible; 4 still catches ``AKIAAKIAAKIA``-style repetition.
_FILLER_RUNS = {1: 7, 2: 10, 3: 12, 4: 12}
_TEMPLATE_MARKERS = ("${", "{{", "}}", "{%", "%s", "%(", "<", ">", "...", "\u2026")


def is_placeholder(value: str) -> bool:
    """Filler, elision or template: ``xxxxxxxx``, ``1231231231231``, ``0123456789``, ``...``, ``${X}``.

    Applies to every row, prefixed formats included: ``ghp_`` followed by 36 ``x`` is a
    documentation example, not a token. Words such as "example" are *not* tested here, because a
    vendor's documented example value (AWS's ``AKIAIOSFODNN7EXAMPLE``) is still worth redacting
    when it shows up in a context; the keyword rows add word tests of their own.
    """
    if not value:
        return True
    if len(set(value)) == 1:
        return True
    if any(m in value for m in _TEMPLATE_MARKERS) or value.startswith("$"):
        return True
    if any(has_periodic_run(value, p, n) for p, n in _FILLER_RUNS.items()):
        return True
    return has_sequence(value, 7)


_PLACEHOLDER_WORDS = (
    "example", "sample", "dummy", "fake", "placeholder", "redacted", "changeme", "change_me", "change-me",
    "your_", "your-", "yourkey", "yoursecret", "yourtoken", "yourpassword", "insert", "replace", "todo",
    "mock", "xxx", "***", "none", "null", "undefined",
)


def looks_random(value: str) -> bool:
    """A machine-made secret has digits or really mixed case; ``insert_key_here``, ``Authorization`` do not.

    Ten random base62 letters hold fewer than two capitals or two small letters with probability
    about 1%; a capitalised word always does.
    """
    if any(c.isdigit() for c in value):
        return True
    return sum(c.isupper() for c in value) >= 2 and sum(c.islower() for c in value) >= 2


def _is_reference(value: str) -> bool:
    """A name of a value rather than the value: ``X25519.secret_length``, ``process.env.KEY``, a path, a URL."""
    if "://" in value or value[:1] in "./~\\" or value.startswith(("file:", "env:", "vault:", "arn:")):
        return True
    lowered = value.lower()
    if lowered.endswith((".pem", ".key", ".p12", ".pfx", ".jks", ".json", ".yaml", ".yml", ".txt", ".env",
                         ".cfg", ".conf", ".ini", ".crt", ".cer", ".der", ".keystore", ".keytab")):
        return True
    parts = value.split(".")
    if len(parts) > 1 and all(p[:1].isalpha() or p[:1] == "_" for p in parts) and all(
            p.replace("_", "").isalnum() for p in parts):
        # A dotted identifier path is code unless its last segment is itself random-looking.
        return sum(c.isdigit() for c in parts[-1]) < 3
    # An UPPER_SNAKE constant (K8S_CRED, SL_API_KEY_ENV) names a secret held elsewhere.
    stripped = value.replace("_", "")
    return "_" in value and stripped.isalnum() and stripped.upper() == stripped and not stripped.isdigit()


def plausible_secret(value: str) -> bool:
    """The value of an assignment or header could be a live credential (keyword and generic rows)."""
    lowered = value.lower()
    return (
        not is_placeholder(value)
        and not any(w in lowered for w in _PLACEHOLDER_WORDS)
        and not _is_reference(value)
        and looks_random(value)
    )


def plausible_password(value: str) -> bool:
    """A password in a URL, connection string or command line: people choose these, so no entropy floor.

    Rejects only what is visibly not a password: templates, masks (``****``), filler, empty quotes.
    """
    value = value.strip().strip("\"'")
    return bool(value) and not is_placeholder(value)


# ---- identifier names (generic assignments) -----------------------------------------------------

_SECRET_WORDS = frozenset({
    "secret", "secrets", "token", "tokens", "password", "passwords", "passwd", "pwd", "pass", "pw",
    "passphrase", "credential", "credentials", "creds", "apikey", "apisecret", "apitoken", "accesskey",
    "secretkey", "privatekey", "authkey", "authtoken", "accesstoken", "refreshtoken", "clientsecret",
    "signingkey", "encryptionkey", "masterkey", "clientkey", "accountkey", "appkey", "appsecret",
    "bearertoken", "sessiontoken", "consumersecret", "webhooksecret",
})
# "<word> key" pairs that name a credential when written as two words (api_key, ACCESS-KEY).
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "auth", "signing", "encryption", "master", "client", "account",
    "app", "license", "service", "storage", "admin", "shared",
})
# Names that hold something about a secret rather than the secret itself.
_NOT_SECRET_LAST = frozenset({
    "id", "ids", "uuid", "guid", "name", "names", "file", "filename", "path", "dir", "url", "uri", "endpoint",
    "host", "hostname", "size", "length", "len", "type", "types", "format", "version", "count", "field",
    "label", "mode", "alg", "algorithm", "kind", "env", "var", "prefix", "suffix", "hint", "hash", "hashed",
    "digest", "checksum", "fingerprint", "expiry", "expires", "expiration", "ttl", "timeout", "ref",
    "location", "region", "enabled", "required", "regex", "pattern", "policy", "header", "param", "index",
    "rotation", "provider", "class", "template", "manager", "store", "selector", "chars",
    "charset", "min", "max", "limit", "reset", "validity", "lifetime", "scope", "scopes", "audience",
})
_NOT_SECRET_ANY = frozenset({"public", "pub", "csrf", "xsrf", "nonce", "example", "sample", "dummy", "fake",
                             "mock", "placeholder"})


def identifier_words(name: str) -> list[str]:
    """``awsSecretAccessKey`` / ``AWS_SECRET-access.key`` -> ["aws", "secret", "access", "key"]."""
    words: list[str] = []
    current = ""
    prev = ""
    for i, ch in enumerate(name):
        if not ch.isalnum():
            if current:
                words.append(current)
            current = ""
        else:
            nxt = name[i + 1] if i + 1 < len(name) else ""
            boundary = current and ch.isupper() and (prev.islower() or prev.isdigit() or (prev.isupper()
                                                                                          and nxt.islower()))
            if boundary:
                words.append(current)
                current = ""
            current += ch
        prev = ch
    if current:
        words.append(current)
    return [w.lower() for w in words]


def secret_identifier(context: str) -> bool:
    """True when the assignment target (the text before the value) names a credential.

    ``context`` is the matched text up to the value: ``export AWS_API_KEY = "``. The last
    identifier in it must contain a credential word (``token``, ``api key``, ``password``…) and
    must not name something about one (``token_url``, ``credentialsId``, ``secret_length``,
    ``public_key``, ``csrf-token``).
    """
    name = context.rstrip(" \t\"'`:=>?|")
    start = len(name)
    while start > 0 and (name[start - 1].isalnum() or name[start - 1] in "_.-"):
        start -= 1
    words = identifier_words(name[start:])
    if not words or words[-1] in _NOT_SECRET_LAST or _NOT_SECRET_ANY.intersection(words):
        return False
    if _SECRET_WORDS.intersection(words):
        return True
    return any(a in _KEY_QUALIFIERS and b == "key" for a, b in pairwise(words))


# ---- format checks --------------------------------------------------------------------------------

def _base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def github_checksum(random_part: str) -> str:
    """The last 6 characters of a new-format GitHub token: CRC32 of the 30 random characters, base62."""
    return _base62(zlib.crc32(random_part.encode("ascii")), 6)


def github_token(prefix: str, random_part: str) -> str:
    """Build a format-correct token (the validator's inverse): for fixtures, never for real use."""
    if len(random_part) != 30:
        raise ValueError("GitHub tokens carry 30 random characters")
    return f"{prefix}{random_part}{github_checksum(random_part)}"


def valid_github_token(token: str) -> bool:
    """``gh[pousr]_`` tokens end in a CRC32 checksum of their body; ``github_pat_`` tokens have none public."""
    if token.startswith("github_pat_"):
        return not is_placeholder(token[11:])
    body = token[4:]
    return len(body) == 36 and github_checksum(body[:30]) == body[30:]


def _b64url_json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def valid_jwt(token: str) -> bool:
    """A JWS/JWT: the header is a base64url JSON object naming an ``alg``; the payload is JSON too."""
    parts = token.split(".")
    header = _b64url_json(parts[0])
    if not isinstance(header, dict) or "alg" not in header:
        return False
    return len(parts) < 2 or isinstance(_b64url_json(parts[1]), dict)


_B64_CHARS = frozenset(string.ascii_letters + string.digits + "+/=")


def valid_pem_block(block: str) -> bool:
    """A private-key PEM block (or its JSON-escaped form) holds at least 64 base64 characters of key.

    64 is the smallest real private key (an Ed25519 PKCS#8 key is 48 bytes, 64 base64 characters);
    ``-----BEGIN PRIVATE KEY-----\\nanything\\n-----END PRIVATE KEY-----`` is a placeholder.
    """
    text = block.replace("\\r", "\n").replace("\\n", "\n")
    lines = [ln.strip() for ln in text.splitlines()]
    body = "".join(ln for ln in lines if ln and "-----" not in ln and ":" not in ln)
    key_chars = sum(c in _B64_CHARS for c in body)
    return key_chars >= 64 and not is_placeholder(body.rstrip("="))


def valid_azure_storage_key(key: str) -> bool:
    """An Azure storage account key is 64 random bytes, base64: 88 characters ending in ``==``."""
    try:
        raw = base64.b64decode(key, validate=True)
    except (ValueError, binascii.Error):
        return False
    return len(raw) == 64 and not is_placeholder(key.rstrip("="))


def hex_with_letters_and_digits(value: str) -> bool:
    """Random hex of 32+ digits nearly always mixes letters and digits; all-digit runs are numbers."""
    tail = value[-32:]
    return any(c.isdigit() for c in tail) and any(c.isalpha() for c in tail)


def mixed_case(value: str) -> bool:
    """Random letters-only tokens (Hugging Face) mix cases evenly; identifiers and words do not."""
    upper = sum(c.isupper() for c in value)
    lower = sum(c.islower() for c in value)
    return upper >= 5 and lower >= 5

"""Provenance labels: who said it, how far we trust it, who may see it.

A label travels with content into prompts, tool arguments, outputs and memory. Trust and
confidentiality are ordered sets declared by the policy (``Levels``). Derived content takes the
*lowest* trust and the *highest* confidentiality of its inputs (``join``), the information-flow rule
of FIDES and CaMeL: mixing in one untrusted word makes the whole result untrusted.

Labels leave the process inside framework metadata (a LangChain ``Document.metadata``, a LlamaIndex
node's metadata). There they are signed with a keyed HMAC over the label *and* the content hash, so
editing the metadata to raise a document's trust, or swapping the content under a good label, gives
a label that does not verify; such content is read back at the lowest trust and highest
confidentiality (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import PolicyError

METADATA_KEY = "ctxguard_label"
SIGNATURE_KEY = "ctxguard_label_sig"


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Levels:
    """An ordered set of level names, highest first for trust, lowest first for confidentiality.

    ``rank`` grows with *trust* for a trust order and with *secrecy* for a confidentiality order; the
    order in which the policy lists the names fixes it.
    """

    names: tuple[str, ...]
    highest_first: bool

    def __post_init__(self) -> None:
        if not self.names:
            raise PolicyError("a level order needs at least one level")
        if len(set(self.names)) != len(self.names):
            raise PolicyError(f"duplicate level names in {list(self.names)}")

    def rank(self, name: str) -> int:
        try:
            i = self.names.index(name)
        except ValueError:
            raise PolicyError(f"unknown level {name!r}; declared: {list(self.names)}") from None
        return len(self.names) - 1 - i if self.highest_first else i

    def __contains__(self, name: object) -> bool:
        return name in self.names

    @property
    def lowest(self) -> str:
        return self.names[-1] if self.highest_first else self.names[0]

    @property
    def highest(self) -> str:
        return self.names[0] if self.highest_first else self.names[-1]

    def min(self, names: Iterable[str]) -> str:
        return min(names, key=self.rank)

    def max(self, names: Iterable[str]) -> str:
        return max(names, key=self.rank)

    def at_most(self, name: str, bound: str) -> bool:
        """True when ``name`` is at or below ``bound`` in this order."""
        return self.rank(name) <= self.rank(bound)


@dataclass(frozen=True, slots=True)
class Label:
    """Provenance of one piece of content. Immutable: derive a new one with ``join`` or ``evolve``."""

    source: str
    trust: str
    tenant: str = ""
    confidentiality: str = "public"
    sha256: str = ""
    created_at: float = 0.0
    verified: bool = True

    @property
    def source_kind(self) -> str:
        """The part of ``source`` before the first colon: ``tool`` for ``tool:web_search``."""
        return self.source.split(":", 1)[0]

    @property
    def source_id(self) -> str:
        return self.source.split(":", 1)[1] if ":" in self.source else ""

    @classmethod
    def for_text(
        cls,
        text: str,
        *,
        source: str,
        trust: str,
        tenant: str = "",
        confidentiality: str = "public",
        now: float | None = None,
    ) -> Label:
        return cls(
            source=source,
            trust=trust,
            tenant=tenant,
            confidentiality=confidentiality,
            sha256=content_sha256(text),
            created_at=time.time() if now is None else now,
        )

    def evolve(self, **changes: Any) -> Label:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "trust": self.trust,
            "tenant": self.tenant,
            "confidentiality": self.confidentiality,
            "sha256": self.sha256,
            "created_at": self.created_at,
            "verified": self.verified,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Label:
        return cls(
            source=str(data["source"]),
            trust=str(data["trust"]),
            tenant=str(data.get("tenant", "")),
            confidentiality=str(data.get("confidentiality", "public")),
            sha256=str(data.get("sha256", "")),
            created_at=float(data.get("created_at", 0.0)),
            verified=bool(data.get("verified", True)),
        )


def join(
    labels: Sequence[Label],
    *,
    trust: Levels,
    confidentiality: Levels,
    source: str = "derived",
    text: str | None = None,
) -> Label:
    """The label of content derived from ``labels``: lowest trust, highest confidentiality.

    Tenants must agree; content mixing tenants belongs to none of them and gets tenant ``"*mixed*"``,
    which no session's scope admits.
    """
    if not labels:
        raise ValueError("join needs at least one label")
    tenants = {lb.tenant for lb in labels}
    return Label(
        source=source,
        trust=trust.min(lb.trust for lb in labels),
        tenant=tenants.pop() if len(tenants) == 1 else "*mixed*",
        confidentiality=confidentiality.max(lb.confidentiality for lb in labels),
        sha256=content_sha256(text) if text is not None else "",
        created_at=time.time(),
        verified=all(lb.verified for lb in labels),
    )


class LabelSigner:
    """Signs labels into metadata and reads them back, with a keyed HMAC-SHA256.

    The key comes from the policy or the environment (see ``Policy.signing_key``); the MAC covers the
    canonical JSON of the label, which includes the content hash, so neither may change.
    """

    def __init__(self, key: bytes, *, trust: Levels, confidentiality: Levels) -> None:
        if len(key) < 16:
            raise PolicyError("label signing key must be at least 16 bytes")
        self._key = key
        self._trust = trust
        self._conf = confidentiality

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def sign_payload(self, payload: str) -> str:
        """The MAC of any canonical string under this key: for records that bind more than a label
        (a stored memory's id, expiry and metadata beside its signed label)."""
        return self._mac(payload)

    def verify_payload(self, payload: str, signature: object) -> bool:
        """Whether ``signature`` is this key's MAC of ``payload`` (constant time; any non-str is False)."""
        if not isinstance(signature, str):
            return False
        return hmac.compare_digest(self._mac(payload).encode(), signature.encode("utf-8", "surrogatepass"))

    def sign(self, label: Label) -> dict[str, str]:
        """Metadata entries to merge into a framework object's metadata (flat strings, as LlamaIndex wants)."""
        data = label.to_dict()
        data.pop("verified")
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return {METADATA_KEY: payload, SIGNATURE_KEY: self._mac(payload)}

    def verify(self, metadata: Mapping[str, Any], content: str, *, source: str = "unverified") -> Label:
        """The label in ``metadata`` if its MAC and content hash check out; else a fail-closed label.

        A missing, malformed, forged or stale label (content changed since signing) yields
        ``verified=False`` with the lowest trust and the highest confidentiality, keeping the claimed
        source and tenant only as information.
        """
        payload = metadata.get(METADATA_KEY)
        sig = metadata.get(SIGNATURE_KEY)
        claimed: dict[str, Any] = {}
        if isinstance(payload, str):
            try:
                loaded = json.loads(payload)
                if isinstance(loaded, dict):
                    claimed = loaded
            except (ValueError, RecursionError):  # deeply nested JSON overflows the decoder's stack
                claimed = {}
        ok = (
            isinstance(payload, str)
            and isinstance(sig, str)
            # As bytes: compare_digest raises TypeError on a non-ASCII str, and the signature is untrusted.
            and hmac.compare_digest(self._mac(payload).encode(), sig.encode("utf-8", "surrogatepass"))
            and claimed.get("sha256") == content_sha256(content)
            and claimed.get("trust") in self._trust
            and claimed.get("confidentiality") in self._conf
        )
        if ok:
            try:
                return Label.from_dict({**claimed, "verified": True})
            except (KeyError, TypeError, ValueError):  # signed, but not a label this version can read
                pass
        return Label(
            source=str(claimed.get("source", source)),
            trust=self._trust.lowest,
            tenant=str(claimed.get("tenant", "")),
            confidentiality=self._conf.highest,
            sha256=content_sha256(content),
            created_at=time.time(),
            verified=False,
        )

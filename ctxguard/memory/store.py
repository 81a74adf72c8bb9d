"""TrustScopedStore: vector memory whose every entry carries its label, searched inside the caller's scope.

Agent memory is where an injection outlives the conversation that carried it: a web page's
instruction written to memory today is "what the agent remembers" tomorrow, and a shared store
hands one tenant's notes to another unless the search itself knows who is asking. So:

- **Writes go through the firewall** (``add``): ``session.admit(..., direction="into_memory")``
  redacts per the policy's ``into_memory`` strategies, labels the entry with the writer's tenant
  and the source's trust (``tool:*`` is untrusted; injected content becomes hostile) and blocks what
  the policy blocks. The label is stored with the entry and never upgraded, so a poisoned memory
  cannot come back as trusted; ``untrusted_ttl_seconds`` makes such entries expire.
- **The scope filters inside the search** (``search``): per-entry label codes give the entries the
  principal may see (``Scope.permits``, unexpired) as a bitmap, handed to FAISS as an ID selector, so
  the exact search ranks only visible entries and returns k results whenever k are visible. Ranking
  everything and dropping the rest returns fewer when the visible share is small (one tenant among
  many) and spends its time on rows the caller may never see; see ``benchmarks/bench_memory.py``.
- **Reads go through the firewall too** (``recall``): each hit is admitted with its stored label, so
  an untrusted memory is spotlit as data and scope is checked a second time on the label itself.
- **Saved labels are signed** (``persist`` / ``load``, see ``ctxguard.memory.persist``).

FAISS is the optional extra ``ctxguard[memory]``; it is imported when a store is built.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..decision import Decision, Direction
from ..errors import Blocked, ConfigurationError, IntegrityError
from ..firewall import Firewall
from ..labels import Label, content_sha256
from ..scope import Scope
from ..session import Session
from . import persist as _persist
from .columns import LabelColumns
from .embedding import Embedder, HashingEmbedding, as_embed_fn
from .vector_index import ExactIndex, HnswIndex, HnswOptions, VectorIndex

# Selectors kept per store: one per scope recently searched (a scope is a tenant x clearance x trust floor).
_SELECTOR_CACHE_SIZE = 128


def require_faiss() -> Any:
    """The faiss module, or a ConfigurationError that says how to install it."""
    try:
        import faiss
    except ImportError:
        raise ConfigurationError(
            'ctxguard.memory.TrustScopedStore needs FAISS: pip install "ctxguard[memory]" (or faiss-cpu)'
        ) from None
    return faiss


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    """One stored memory: the text as stored (redacted on the way in), its label, metadata and expiry.

    The text and metadata stay out of ``repr``, so logging an entry does not log what it says.
    """

    id: int
    text: str = field(repr=False)
    label: Label
    metadata: Mapping[str, Any] = field(repr=False)
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class MemoryHit:
    """A search result: the entry and its cosine similarity to the query (text and metadata not in ``repr``)."""

    id: int
    text: str = field(repr=False)
    label: Label
    score: float
    metadata: Mapping[str, Any] = field(repr=False)
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class RecalledMemory:
    """A hit and the firewall's decision on letting it into the context."""

    hit: MemoryHit
    decision: Decision

    @property
    def text(self) -> str:
        """What may enter the model: the stored text, spotlit when its label is untrusted."""
        return self.decision.text


@dataclass(frozen=True, slots=True)
class Recall:
    """The result of ``recall``: memories admitted, in rank order, and those the firewall dropped."""

    memories: tuple[RecalledMemory, ...]
    dropped: tuple[RecalledMemory, ...]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.memories]

    @property
    def decisions(self) -> list[Decision]:
        """Every decision taken, admitted and dropped, for logging or display."""
        return [m.decision for m in sorted(self.memories + self.dropped, key=lambda m: -m.hit.score)]

    def __iter__(self) -> Iterator[RecalledMemory]:
        return iter(self.memories)

    def __len__(self) -> int:
        return len(self.memories)


@dataclass(frozen=True, slots=True)
class _Selector:
    """A scope's visible set at one store version, ready for FAISS; valid until an entry in it expires."""

    version: int
    valid_until: float
    count: int
    plan: Any  # what the index's search reads (selectors, and the bitmaps the C++ side points at)


class TrustScopedStore:
    """FAISS vector memory with a ctxguard Label on every entry, searched within a principal's scope.

    ``firewall`` supplies the policy (trust order, what counts as untrusted) and the label signer
    used by ``persist``. ``embedding`` is any callable ``str -> vector``, LangChain ``Embeddings`` or
    LlamaIndex ``BaseEmbedding`` (default ``HashingEmbedding(384)``). ``untrusted_ttl_seconds``
    expires entries whose trust is at or below the policy's ``trust.default`` (untrusted and hostile,
    by default) that long after they are written. ``now`` is the clock for expiry.

    The index is exact by default (``IndexIDMap2(IndexFlatIP)`` over normalised vectors: cosine
    similarity); ``index="hnsw"`` makes it approximate for large stores (``vector_index.HnswIndex``: one
    HNSW graph per tenant, the rest of the scope filtered inside the search; settings in ``hnsw``).
    All index access is under one lock, so a store may be shared between threads.
    """

    def __init__(
        self,
        firewall: Firewall,
        *,
        embedding: Any = None,
        untrusted_ttl_seconds: float | None = None,
        now: Callable[[], float] = time.time,
        index: Literal["flat", "hnsw"] = "flat",
        hnsw: HnswOptions | None = None,
    ) -> None:
        self._faiss = require_faiss()
        if index not in ("flat", "hnsw"):
            raise ValueError(f"index must be 'flat' (exact) or 'hnsw' (approximate), not {index!r}")
        if hnsw is not None and not isinstance(hnsw, HnswOptions):
            raise TypeError(f"hnsw must be HnswOptions, not {type(hnsw).__name__}")
        self.index_kind = index
        self._hnsw = hnsw or HnswOptions()
        if not isinstance(firewall, Firewall):
            raise TypeError(f"firewall must be a ctxguard.Firewall, not {type(firewall).__name__}")
        if not callable(now):
            raise TypeError("now must be a callable returning the time in seconds")
        self.firewall = firewall
        self.policy = firewall.policy
        self.untrusted_ttl_seconds = _check_ttl(untrusted_ttl_seconds, "untrusted_ttl_seconds")
        self.embedding: Embedder = as_embed_fn(HashingEmbedding(384) if embedding is None else embedding)
        self._embedding_spec = _embedding_spec(embedding)
        self._now = now
        self._lock = threading.RLock()
        self._index: Any = None
        self._texts: list[str | None] = []
        self._labels: list[Label | None] = []
        self._metadata: list[Mapping[str, Any] | None] = []
        self._columns = LabelColumns()
        self._version = 0
        self._selectors: OrderedDict[Scope, _Selector] = OrderedDict()
        self._store_id: str | None = secrets.token_hex(16)  # binds saved entries to this store (persist.py)
        if self.embedding.dim is not None:
            self._ensure_index(self.embedding.dim)

    # ---- writing --------------------------------------------------------------------------------
    def add(
        self,
        text: str,
        session: Session,
        *,
        source: str,
        confidentiality: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl_seconds: float | None = None,
    ) -> int:
        """Write a memory through the firewall; its id.

        ``source`` is where the text came from (``"user"``, ``"tool:web_search"``, ...), which sets its
        trust. The text is admitted with ``direction="into_memory"``: what is stored is the decision's
        text (PII and secrets handled per the policy's ``into_memory`` strategies) under the decision's
        label (the session's tenant; ``hostile`` if an injection was found). A blocked write raises
        ``ctxguard.Blocked`` carrying the decision, and nothing is stored.

        ``metadata`` is the caller's bookkeeping (ids, timestamps, tags) and is stored as given, not
        scanned: put content in ``text``, and do not show ``MemoryHit.metadata`` to a model.
        """
        if not isinstance(session, Session):
            raise TypeError(f"session must be a ctxguard.Session, not {type(session).__name__}")
        meta = _frozen_metadata(metadata)
        ttl = _check_ttl(ttl_seconds, "ttl_seconds")
        decision = session.admit(text, source, confidentiality=confidentiality, direction=Direction.INTO_MEMORY)
        if not decision.allowed:
            raise Blocked(decision)
        stored = decision.text
        label = decision.label.evolve(sha256=content_sha256(stored))
        return self._append([stored], [label], [meta], ttl, None)[0]

    def add_labelled(
        self,
        text: str,
        label: Label,
        *,
        metadata: Mapping[str, Any] | None = None,
        ttl_seconds: float | None = None,
        vector: npt.ArrayLike | None = None,
    ) -> int:
        """Store ``text`` under ``label`` as given, without the firewall's detectors; its id.

        For trusted ingestion code only: bulk loads of corpora already vetted (or labelled by a
        pipeline that ran the firewall). Nothing is redacted or scanned here, and the label is
        believed, so never pass content or labels that an agent or a tool produced; use ``add``.
        """
        vectors = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self.add_labelled_many([text], [label], metadatas=[metadata], ttl_seconds=ttl_seconds,
                                      vectors=vectors)[0]

    def add_labelled_many(
        self,
        texts: Sequence[str],
        labels: Sequence[Label],
        *,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        ttl_seconds: float | None = None,
        vectors: npt.ArrayLike | None = None,
    ) -> list[int]:
        """``add_labelled`` for many entries in one index call; ``vectors`` may be precomputed (n x dim)."""
        texts, labels = list(texts), list(labels)
        if len(labels) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        metas = [None] * len(texts) if metadatas is None else list(metadatas)
        if len(metas) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(metas)} metadata entries")
        ttl = _check_ttl(ttl_seconds, "ttl_seconds")
        checked: dict[int, Label] = {}
        for lb in labels:
            if id(lb) not in checked:
                checked[id(lb)] = self._check_label(lb)
        stored_labels = []
        for text, lb in zip(texts, labels, strict=True):
            if not isinstance(text, str):
                raise TypeError(f"texts must be str, not {type(text).__name__}")
            digest = content_sha256(text)
            if lb.sha256 and lb.sha256 != digest:
                raise ValueError("a label's sha256 does not match its text (label it for this text)")
            stored_labels.append(lb if lb.sha256 else lb.evolve(sha256=digest))
        return self._append(texts, stored_labels, [_frozen_metadata(m) for m in metas], ttl, vectors)

    def _check_label(self, label: Label) -> Label:
        if not isinstance(label, Label):
            raise TypeError(f"labels must be ctxguard.Label, not {type(label).__name__}")
        if label.trust not in self.policy.trust:
            raise ValueError(
                f"unknown trust level {label.trust!r}; the policy declares {list(self.policy.trust.names)}"
            )
        if label.confidentiality not in self.policy.confidentiality:
            raise ValueError(
                f"unknown confidentiality {label.confidentiality!r}; the policy declares "
                f"{list(self.policy.confidentiality.names)}"
            )
        return label

    def _append(
        self,
        texts: list[str],
        labels: list[Label],
        metas: list[Mapping[str, Any]],
        ttl: float | None,
        vectors: npt.ArrayLike | None,
    ) -> list[int]:
        if not texts:
            return []
        if vectors is None:
            vecs = self.embedding.embed_documents(texts)
        else:
            vecs = self._check_vectors(vectors, rows=len(texts))
        vecs = self._normalised(vecs)
        now = self._now()
        expires = np.array([self._expiry(lb, ttl, now) for lb in labels], dtype=np.float64)
        with self._lock:
            self._ensure_index(vecs.shape[1])
            ids = np.arange(self._columns.size, self._columns.size + len(texts), dtype=np.int64)
            self._columns.append(labels, expires)
            self._index.add(vecs, ids, self._columns.tenant[ids])
            self._texts.extend(texts)
            self._labels.extend(labels)
            self._metadata.extend(metas)
            self._changed()
        return ids.tolist()

    def _expiry(self, label: Label, ttl: float | None, now: float) -> float:
        limits = [ttl] if ttl is not None else []
        if self.untrusted_ttl_seconds is not None and self.policy.trust.at_most(
            label.trust, self.policy.model.trust.default
        ):
            limits.append(self.untrusted_ttl_seconds)
        return now + min(limits) if limits else math.inf

    # ---- reading --------------------------------------------------------------------------------
    def search(self, query: str | npt.ArrayLike, principal: Scope | Session, k: int = 4) -> list[MemoryHit]:
        """The ``k`` entries nearest ``query`` among those ``principal`` may see, best first.

        ``principal`` is a ``Scope`` or a ``Session`` (its ``scope()``); the query text cannot widen
        it. Fewer than ``k`` come back only when fewer are visible. Results are not admitted to any
        context: use ``recall`` for that.
        """
        return self.search_many([query], principal, k)[0]

    def search_many(
        self, queries: Sequence[str | npt.ArrayLike], principal: Scope | Session, k: int = 4
    ) -> list[list[MemoryHit]]:
        """``search`` for several queries in one FAISS call (how FAISS is fastest)."""
        scope = _scope_of(principal)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        if isinstance(queries, str):
            raise TypeError("queries must be a sequence of queries; use search() for one")
        if not queries:
            return []
        qvecs = self._normalised(np.vstack([self._query_vector(q) for q in queries]))
        with self._lock:
            if self._index is None or self._index.ntotal == 0:
                return [[] for _ in queries]
            if qvecs.shape[1] != self._index.d:
                raise ValueError(f"query vectors have {qvecs.shape[1]} dimensions, the store {self._index.d}")
            now = self._now()
            sel = self._selector(scope, now)
            if sel.count == 0:
                return [[] for _ in queries]
            scores, ids = self._index.search(qvecs, min(k, sel.count), sel.plan)
            return [self._hits(row_ids, row_scores, scope, now) for row_ids, row_scores in zip(ids, scores,
                                                                                                  strict=True)]

    def _hits(self, ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], scope: Scope,
              now: float) -> list[MemoryHit]:
        out = []
        for i, score in zip(ids.tolist(), scores.tolist(), strict=True):
            if i < 0:
                continue
            label = self._labels[i]
            # The selector already excluded these; checking the label itself again costs little and
            # keeps a bug in the code arrays from ever showing an entry out of scope.
            if label is None or not scope.permits(label) or not self._columns.expires[i] > now:
                continue
            out.append(MemoryHit(id=i, text=self._texts[i] or "", label=label, score=float(score),
                                 metadata=self._metadata[i] or MappingProxyType({}),
                                 expires_at=_finite(self._columns.expires[i])))
        return out

    def recall(
        self, query: str | npt.ArrayLike, session: Session, k: int = 4, *, min_trust: str | None = None
    ) -> Recall:
        """Search within ``session``'s scope and admit each hit through the firewall.

        Each hit enters with its stored label (``session.admit(text, source=label.source,
        label=label)``): an untrusted memory stays untrusted and is spotlit, a hostile one is scanned
        again, and scope is checked once more on the label. Hits the firewall blocks are dropped and
        their decisions kept in ``Recall.dropped``. ``min_trust`` hides memories below a trust level.
        """
        if not isinstance(session, Session):
            raise TypeError(f"session must be a ctxguard.Session, not {type(session).__name__}")
        hits = self.search(query, session.scope(min_trust=min_trust), k)
        admitted: list[RecalledMemory] = []
        dropped: list[RecalledMemory] = []
        for hit in hits:
            decision = session.admit(hit.text, source=hit.label.source, label=hit.label)
            (admitted if decision.allowed else dropped).append(RecalledMemory(hit, decision))
        return Recall(tuple(admitted), tuple(dropped))

    def get(self, id: int, principal: Scope | Session | None = None) -> MemoryEntry:
        """The entry ``id``; with ``principal``, only if that principal may see it (else KeyError, as if absent).

        Without a principal this is unscoped: for ingestion and administration code, not for agents.
        """
        scope = None if principal is None else _scope_of(principal)
        with self._lock:
            label = self._labels[id] if isinstance(id, int) and 0 <= id < len(self._labels) else None
            if label is None:
                raise KeyError(id)
            expires = float(self._columns.expires[id])
            if scope is not None and (not scope.permits(label) or not expires > self._now()):
                raise KeyError(id)
            return MemoryEntry(id=id, text=self._texts[id] or "", label=label,
                               metadata=self._metadata[id] or MappingProxyType({}), expires_at=_finite(expires))

    def __len__(self) -> int:
        """Entries stored, expired ones included until ``purge_expired`` or ``delete`` removes them."""
        with self._lock:
            return self._columns.count

    def __contains__(self, id: object) -> bool:
        with self._lock:
            return isinstance(id, int) and 0 <= id < len(self._labels) and self._labels[id] is not None

    # ---- removing -------------------------------------------------------------------------------
    def delete(self, ids: int | np.integer[Any] | Iterable[int]) -> int:
        """Remove entries; how many were removed (ids not in the store are ignored)."""
        wanted = [ids] if isinstance(ids, int | np.integer) else list(ids)
        for i in wanted:
            if not isinstance(i, int | np.integer) or isinstance(i, bool):
                raise TypeError(f"ids must be integers, not {type(i).__name__}")
        with self._lock:
            present = sorted({int(i) for i in wanted if 0 <= i < len(self._labels) and self._labels[i] is not None})
            if not present:
                return 0
            arr = np.array(present, dtype=np.int64)
            self._index.remove(arr)
            self._columns.kill(arr)
            for i in present:
                self._texts[i] = None
                self._labels[i] = None
                self._metadata[i] = None
            self._changed()
            return len(present)

    def purge_expired(self) -> int:
        """Delete every expired entry; how many."""
        with self._lock:
            n = self._columns.size
            gone = np.flatnonzero(self._columns.alive[:n] & ~(self._columns.expires[:n] > self._now()))
            return self.delete(gone.tolist())

    # ---- persistence ----------------------------------------------------------------------------
    def persist(self, path: str | os.PathLike[str]) -> None:
        """Save to the directory ``path``: FAISS index, signed entries, signed manifest (atomically)."""
        signer = self.firewall.signer
        with self._lock:
            if self._index is None:
                self._ensure_index(self.embedding.dim or 384)
            cols = self._columns
            lines = (
                _persist.encode_entry(signer, i, self._texts[i] or "", label, self._metadata[i] or {},
                                      _finite(cols.expires[i]), self._store_id)
                for i, label in enumerate(self._labels) if label is not None
            )
            header = {
                "dim": int(self._index.d),
                "count": cols.count,
                "next_id": cols.size,
                "embedding": self._embedding_spec,
                "untrusted_ttl_seconds": self.untrusted_ttl_seconds,
                "store_id": self._store_id,
            }
            exact = self._index.exact_map(self._columns.alive[: self._columns.size])
            _persist.write_store(Path(path), faiss=self._faiss, index=exact, lines=lines, header=header,
                                 signer=signer)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        firewall: Firewall,
        *,
        embedding: Any = None,
        now: Callable[[], float] = time.time,
        index: Literal["flat", "hnsw"] = "flat",
        hnsw: HnswOptions | None = None,
    ) -> TrustScopedStore:
        """Read a store saved by ``persist``, verifying every label with ``firewall``'s signer.

        An entry whose label or record was edited comes back with a fail-closed label (lowest trust,
        highest confidentiality, unverified: hidden from every tenant session). A missing or corrupt
        file, an edited index or manifest, or the wrong signing key raise (``FileNotFoundError``,
        ``ctxguard.IntegrityError``). ``embedding`` must be the one the store was built with; it may be
        left out for a store built with ``HashingEmbedding``.
        """
        faiss = require_faiss()
        if not isinstance(firewall, Firewall):
            raise TypeError(f"firewall must be a ctxguard.Firewall, not {type(firewall).__name__}")
        root = Path(path)
        signer = firewall.signer
        manifest = _persist.read_manifest(root, signer)
        dim, count, next_id = manifest.get("dim"), manifest.get("count"), manifest.get("next_id")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (dim, count, next_id)):
            raise IntegrityError("memory store manifest has an invalid dim, count or next_id")
        assert isinstance(dim, int) and isinstance(next_id, int)
        if embedding is None:
            embedding = _embedding_from_spec(manifest.get("embedding"))
        store = cls(firewall, embedding=embedding, untrusted_ttl_seconds=manifest.get("untrusted_ttl_seconds"),
                    now=now, index=index, hnsw=hnsw)
        if store.embedding.dim is None:
            store.embedding.dim = dim
        elif store.embedding.dim != dim:
            raise ConfigurationError(
                f"the store at {str(root)!r} holds {dim}-dimensional vectors; the embedding gives {store.embedding.dim}"
            )
        index = _persist.read_index(root, manifest, faiss)
        if not isinstance(index, faiss.IndexIDMap2) or index.d != dim or index.ntotal != count:
            raise IntegrityError(
                f"memory store index in {str(root)!r} is not the {dim}-dimensional ID map it should be"
            )
        entries = sorted(_persist.read_entries(root, manifest, signer), key=lambda e: e.id)
        index_ids = np.sort(faiss.vector_to_array(index.id_map))
        entry_ids = np.array([e.id for e in entries], dtype=np.int64)
        if len(entries) != count or not np.array_equal(index_ids, entry_ids) or (count and entry_ids[-1] >= next_id):
            raise IntegrityError(f"memory store entries in {str(root)!r} do not match its index")
        store._store_id = manifest.get("store_id")
        store._restore(index, entries, next_id)
        return store

    def _restore(self, index: Any, entries: list[_persist.StoredEntry], next_id: int) -> None:
        with self._lock:
            cols = self._columns
            for e in entries:
                gap = e.id - cols.size
                if gap:
                    self._texts.extend([None] * gap)
                    self._labels.extend([None] * gap)
                    self._metadata.extend([None] * gap)
                    cols.skip_to(e.id)
                expires = np.array([math.inf if e.expires_at is None else e.expires_at], dtype=np.float64)
                cols.append([e.label], expires)
                self._texts.append(e.text)
                self._labels.append(e.label)
                self._metadata.append(MappingProxyType(dict(e.metadata)))
            gap = next_id - cols.size
            self._texts.extend([None] * gap)
            self._labels.extend([None] * gap)
            self._metadata.extend([None] * gap)
            cols.skip_to(next_id)
            if self.index_kind == "flat":
                self._index = ExactIndex(self._faiss, int(index.d), index=index)
            else:  # the saved form is exact; build the graphs from its vectors
                self._index = self._new_index(int(index.d))
                ids = self._faiss.vector_to_array(index.id_map).astype(np.int64)
                if ids.size:
                    vecs = self._faiss.downcast_index(index.index).reconstruct_n(0, int(index.ntotal))
                    self._index.add(vecs, ids, cols.tenant[ids])
            self._changed()

    # ---- internals ------------------------------------------------------------------------------
    def _new_index(self, dim: int) -> VectorIndex:
        if self.index_kind == "hnsw":
            return HnswIndex(self._faiss, dim, self._hnsw)
        return ExactIndex(self._faiss, dim)

    def _ensure_index(self, dim: int) -> None:
        if self._index is None:
            self._index = self._new_index(dim)
        elif self._index.d != dim:
            raise ValueError(f"vectors have {dim} dimensions, the store {self._index.d}")

    def _changed(self) -> None:
        self._version += 1
        self._selectors.clear()

    def _selector(self, scope: Scope, now: float) -> _Selector:
        """The scope's visible ids as a FAISS ID selector, cached until the store changes or one expires."""
        cached = self._selectors.get(scope)
        if cached is not None and cached.version == self._version and now < cached.valid_until:
            self._selectors.move_to_end(scope)
            return cached
        cols = self._columns
        mask = cols.visible(scope, now)
        count = int(mask.sum())
        visible_expiries = cols.expires[: cols.size][mask]
        valid_until = float(visible_expiries.min()) if count else math.inf
        plan = self._index.plan(mask, count)
        entry = _Selector(version=self._version, valid_until=valid_until, count=count, plan=plan)
        self._selectors[scope] = entry
        if len(self._selectors) > _SELECTOR_CACHE_SIZE:
            self._selectors.popitem(last=False)
        return entry

    def _query_vector(self, query: str | npt.ArrayLike) -> npt.NDArray[np.float32]:
        if isinstance(query, str):
            return self.embedding.embed_query(query).reshape(1, -1)
        return self._check_vectors(query, rows=1)

    def _check_vectors(self, vectors: npt.ArrayLike, *, rows: int) -> npt.NDArray[np.float32]:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        dim = self._index.d if self._index is not None else self.embedding.dim
        if arr.ndim != 2 or arr.shape[0] != rows or arr.shape[1] == 0 or (dim is not None and arr.shape[1] != dim):
            raise ValueError(f"vectors must have shape ({rows}, {dim or 'dim'}), not {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("vectors must not contain NaN or infinite values")
        return arr

    def _normalised(self, vecs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = np.array(vecs, dtype=np.float32, order="C", copy=True)
        self._faiss.normalize_L2(out)  # a zero vector stays zero (score 0 against everything)
        return out

    def __repr__(self) -> str:
        return f"TrustScopedStore(entries={len(self)}, embedding={self.embedding!r})"


# ---- helpers ----------------------------------------------------------------------------------------
def _scope_of(principal: object) -> Scope:
    if isinstance(principal, Scope):
        return principal
    if isinstance(principal, Session):
        return principal.scope()
    raise TypeError(f"principal must be a ctxguard.Scope or Session, not {type(principal).__name__}")


def _check_ttl(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds or None")
    return float(value)


def _frozen_metadata(metadata: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy; metadata is saved as JSON, so it must be JSON now rather than fail at persist."""
    if metadata is None:
        return MappingProxyType({})
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping, not {type(metadata).__name__}")
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError("metadata must be JSON-serialisable (str, number, bool, None, lists, dicts)") from None
    if not all(isinstance(k, str) for k in metadata):
        raise TypeError("metadata keys must be str")
    return MappingProxyType(dict(metadata))


def _finite(value: float) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _embedding_spec(embedding: Any) -> dict[str, Any]:
    if embedding is None:
        return {"kind": "HashingEmbedding", "dim": 384, "bigrams": True}
    if isinstance(embedding, HashingEmbedding):
        return {"kind": "HashingEmbedding", "dim": embedding.dim, "bigrams": embedding.bigrams}
    return {"kind": "custom", "type": type(embedding).__name__}


def _embedding_from_spec(spec: Any) -> HashingEmbedding:
    if isinstance(spec, dict) and spec.get("kind") == "HashingEmbedding" and isinstance(spec.get("dim"), int):
        return HashingEmbedding(spec["dim"], bigrams=bool(spec.get("bigrams", True)))
    kind = spec.get("type", "a custom embedding") if isinstance(spec, dict) else "an unknown embedding"
    raise ConfigurationError(f"this memory store was built with {kind}: pass the same one as embedding=")

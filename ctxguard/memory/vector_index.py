"""The vector indexes behind TrustScopedStore: exact (flat) or approximate (HNSW, partitioned by tenant).

Both take the scope's visible set as a boolean mask over entry ids and filter *inside* the search, so a
search never returns an entry outside the scope and never comes back short because the nearest
neighbours happened to be invisible (what post-filtering an unfiltered top-k does).

``ExactIndex`` is one ``IndexIDMap2(IndexFlatIP)``: exact top-k among the visible entries.

``HnswIndex`` keeps one index per tenant, since a tenant is the filter nearly every search has, and a
filtered graph search over a store where 10% is visible must wade through nine invisible neighbours for
each visible one. Inside the tenant's partition the remaining filter (clearance, trust, expiry) usually
keeps most entries, which HNSW handles well. Per partition, by the number of visible entries:

- all visible: plain HNSW search;
- at least ``exact_below`` visible: HNSW search with the selector, ``efSearch`` raised in proportion
  to the share that is hidden (the graph must visit that many more nodes for the same recall);
- fewer than ``exact_below`` visible: exact search over the partition's stored vectors with the
  selector, which at that size is as fast as the graph and has recall 1.

A partition stays a flat (exact) index until it holds ``exact_below`` entries. Deleted entries are
hidden by the mask and their vectors kept until the store is rebuilt (``persist`` then ``load``): HNSW
graphs cannot remove nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class VectorIndex(Protocol):
    """What the store needs from an index. ``plan`` turns a visible mask into whatever ``search``
    reads; the store caches plans per scope until the store changes."""

    d: int

    @property
    def ntotal(self) -> int:
        ...

    def add(self, vecs: Vectors, ids: Ids, tenants: npt.NDArray[np.int32]) -> None:
        ...

    def remove(self, ids: Ids) -> None:
        ...

    def plan(self, mask: Mask | None, count: int) -> Any:
        """``mask`` over ids (None: all visible) and how many it keeps."""
        ...

    def search(self, qvecs: Vectors, k: int, plan: Any) -> tuple[npt.NDArray[np.float32], Ids]:
        ...

    def exact_map(self, alive: Mask) -> Any:
        """An ``IndexIDMap2(IndexFlatIP)`` holding the vectors of the ids ``alive`` keeps (for persist)."""
        ...


def _bitmap_selector(faiss: Any, mask: Mask) -> tuple[Any, tuple[Any, ...]]:
    # IDSelectorBitmap reads bit (id % 8) of byte id // 8; its first argument is the byte count.
    bitmap = np.packbits(mask, bitorder="little")
    sel = faiss.IDSelectorBitmap(int(bitmap.size), faiss.swig_ptr(bitmap))
    return sel, (bitmap, sel)


class ExactIndex:
    """Exact inner-product search over every entry, filtered by an ID selector."""

    def __init__(self, faiss: Any, dim: int, *, index: Any = None) -> None:
        self._faiss = faiss
        self.d = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, vecs: Vectors, ids: Ids, tenants: npt.NDArray[np.int32]) -> None:
        self._index.add_with_ids(vecs, ids)

    def remove(self, ids: Ids) -> None:
        self._index.remove_ids(ids)

    def plan(self, mask: Mask | None, count: int) -> Any:
        if mask is None or count == self.ntotal:  # deleted entries are gone from a flat index
            return None, ()
        sel, keep = _bitmap_selector(self._faiss, mask)
        return self._faiss.SearchParameters(sel=sel), keep

    def search(self, qvecs: Vectors, k: int, plan: Any) -> tuple[npt.NDArray[np.float32], Ids]:
        params, _keep = plan
        scores, ids = self._index.search(qvecs, k, params=params)
        return scores, ids

    def exact_map(self, alive: Mask) -> Any:
        return self._index

    @property
    def faiss_index(self) -> Any:
        return self._index


@dataclass(frozen=True, slots=True)
class HnswOptions:
    """HNSW settings. ``m`` links per node and ``ef_construction`` trade build time for graph quality;
    ``ef_search`` is the candidate list of an unfiltered search; ``exact_below`` is the visible-entry
    count under which a partition is searched exactly instead."""

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    exact_below: int = 20_000
    max_ef_search: int = 1024

    def __post_init__(self) -> None:
        for name in ("m", "ef_construction", "ef_search", "exact_below", "max_ef_search"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"HnswOptions.{name} must be a positive integer, not {value!r}")
        if not 2 <= self.m <= 256:
            raise ValueError(f"HnswOptions.m must be between 2 and 256, not {self.m}")


class _Partition:
    """One tenant's vectors: a flat index until it is big enough, then an HNSW graph; local ids map
    to store ids through ``ids``."""

    def __init__(self, faiss: Any, dim: int, options: HnswOptions) -> None:
        self._faiss = faiss
        self._dim = dim
        self._options = options
        self.index: Any = faiss.IndexFlatIP(dim)
        self.graph = False
        self.ids = np.empty(0, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.ids.size)

    def add(self, vecs: Vectors, ids: Ids) -> None:
        if not self.graph and self.size + len(ids) >= self._options.exact_below:
            self._to_graph()
        self.index.add(vecs)
        self.ids = np.concatenate([self.ids, ids])

    def _to_graph(self) -> None:
        old = self.index
        graph = self._faiss.IndexHNSWFlat(self._dim, self._options.m, self._faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self._options.ef_construction
        if old.ntotal:
            graph.add(old.reconstruct_n(0, old.ntotal))
        self.index, self.graph = graph, True

    def flat(self) -> Any:
        """The partition's vectors as a flat index (local ids): the graph's own storage, no copy."""
        if not self.graph:
            return self.index
        return self._faiss.downcast_index(self.index.storage)

    def vectors(self) -> Vectors:
        flat = self.flat()
        out: Vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.empty((0, self._dim), np.float32)
        return out


class HnswIndex:
    """Approximate search: one HNSW graph per tenant, searched with the scope's filter inside."""

    def __init__(self, faiss: Any, dim: int, options: HnswOptions | None = None) -> None:
        self._faiss = faiss
        self.d = dim
        self.options = options or HnswOptions()
        self._parts: dict[int, _Partition] = {}
        self._count = 0

    @property
    def ntotal(self) -> int:
        return self._count

    def add(self, vecs: Vectors, ids: Ids, tenants: npt.NDArray[np.int32]) -> None:
        for code in np.unique(tenants).tolist():
            rows = np.flatnonzero(tenants == code)
            part = self._parts.get(int(code))
            if part is None:
                part = self._parts[int(code)] = _Partition(self._faiss, self.d, self.options)
            part.add(np.ascontiguousarray(vecs[rows]), ids[rows])
        self._count += len(ids)

    def remove(self, ids: Ids) -> None:
        """Hidden by the store's mask from now on; the vectors stay until a rebuild."""
        self._count -= len(ids)

    def plan(self, mask: Mask | None, count: int) -> Any:
        steps = []
        opts = self.options
        for part in self._parts.values():
            if part.size == 0:
                continue
            local = None if mask is None else mask[part.ids]
            visible = part.size if local is None else int(local.sum())
            if visible == 0:
                continue
            if local is not None and visible == part.size:
                local = None
            if local is None:
                params = None
                if part.graph:
                    params = self._faiss.SearchParametersHNSW()
                    params.efSearch = opts.ef_search
                steps.append((part, part.index, params, ()))
                continue
            sel, keep = _bitmap_selector(self._faiss, local)
            if part.graph and visible >= opts.exact_below:
                params = self._faiss.SearchParametersHNSW()
                params.sel = sel
                # the graph visits about size/visible nodes per visible one it finds
                params.efSearch = min(opts.max_ef_search, math.ceil(opts.ef_search * part.size / visible))
                steps.append((part, part.index, params, keep))
            else:
                steps.append((part, part.flat(), self._faiss.SearchParameters(sel=sel), keep))
        return steps

    def search(self, qvecs: Vectors, k: int, plan: Any) -> tuple[npt.NDArray[np.float32], Ids]:
        n = qvecs.shape[0]
        all_scores: list[npt.NDArray[np.float32]] = []
        all_ids: list[Ids] = []
        for part, index, params, _keep in plan:
            kk = min(k, part.size)
            scores, local = index.search(qvecs, kk, params=params)
            ids = np.where(local >= 0, part.ids[np.clip(local, 0, None)], -1)
            all_scores.append(scores)
            all_ids.append(ids)
        if not all_scores:
            return np.full((n, k), -np.inf, np.float32), np.full((n, k), -1, np.int64)
        scores = np.hstack(all_scores)
        ids = np.hstack(all_ids)
        scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
        if scores.shape[1] > k:
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            scores = np.take_along_axis(scores, top, axis=1)
            ids = np.take_along_axis(ids, top, axis=1)
        elif len(all_scores) > 1:
            order = np.argsort(-scores, axis=1, kind="stable")
            scores = np.take_along_axis(scores, order, axis=1)
            ids = np.take_along_axis(ids, order, axis=1)
        return scores, ids

    def exact_map(self, alive: Mask) -> Any:
        out = self._faiss.IndexIDMap2(self._faiss.IndexFlatIP(self.d))
        for part in self._parts.values():
            if part.size == 0:
                continue
            keep = alive[part.ids]
            if keep.any():
                vecs = part.vectors()[keep]
                out.add_with_ids(np.ascontiguousarray(vecs), part.ids[keep])
        return out


__all__ = ["ExactIndex", "HnswIndex", "HnswOptions", "VectorIndex"]

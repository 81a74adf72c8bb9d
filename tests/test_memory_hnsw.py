"""TrustScopedStore with the approximate index (``index="hnsw"``), real FAISS graphs.

The promises are the exact store's, except that the ranking is approximate: a search never returns an
entry outside the scope, returns k whenever k are visible, and finds (nearly) the exact top-k. The
graphs are forced on small stores here with a low ``exact_below``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ctxguard import AuditLog, Firewall, Label
from ctxguard.memory import HashingEmbedding, HnswOptions, TrustScopedStore
from ctxguard.scope import Scope

KEY = b"memory-hnsw-test-signing-key-012345"
DIM = 32
TENANTS = ["acme", "globex", "initech", ""]


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    f = Firewall(signing_key=KEY, audit=AuditLog(None))
    yield f
    f.close()


def scope_for(fw: Firewall, tenant: str, clearance: str) -> Scope:
    with fw.session("reader", tenant=tenant, clearance=clearance) as s:
        return s.scope()


def clustered(n: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 centres: embeddings have clusters, uniform random vectors do not."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, DIM)).astype(np.float32)
    v = centres[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(fw: Firewall, n: int = 6000, *, index: str = "hnsw", exact_below: int = 300
          ) -> tuple[TrustScopedStore, np.ndarray, list[Label]]:
    vecs = clustered(n, 1)
    rng = np.random.default_rng(2)
    labels = [Label.for_text(f"entry {i}", source="retriever:kb", trust="internal",
                             tenant=TENANTS[int(rng.integers(0, 4))],
                             confidentiality="confidential" if rng.random() < 0.3 else "internal") for i in range(n)]
    store = TrustScopedStore(fw, embedding=HashingEmbedding(DIM), index=index,  # type: ignore[arg-type]
                             hnsw=HnswOptions(exact_below=exact_below, ef_search=48))
    store.add_labelled_many([f"entry {i}" for i in range(n)], labels, vectors=vecs)
    return store, vecs, labels


def exact_top(vecs: np.ndarray, visible: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    scores = vecs[visible] @ q
    return np.flatnonzero(visible)[np.argsort(-scores, kind="stable")[:k]].tolist()


@pytest.mark.parametrize("clearance", ["internal", "confidential"])
def test_filtered_search_stays_in_scope_and_finds_the_exact_top_k(fw: Firewall, clearance: str) -> None:
    store, vecs, labels = build(fw)
    scope = scope_for(fw, "acme", clearance)
    visible = np.array([scope.permits(lb) for lb in labels])
    queries = clustered(100, 9)
    found = 0
    for q, hits in zip(queries, store.search_many(list(queries), scope, k=10), strict=True):
        assert len(hits) == 10
        assert all(scope.permits(h.label) for h in hits)
        found += len({h.id for h in hits} & set(exact_top(vecs, visible, q, 10)))
    assert found / 1000 >= 0.95


def test_a_tiny_visible_set_is_searched_exactly(fw: Firewall) -> None:
    store, vecs, labels = build(fw)
    texts = [f"rare {i}" for i in range(12)]
    rare = [Label.for_text(t, source="retriever:kb", trust="internal", tenant="umbrella") for t in texts]
    rare_vecs = clustered(12, 5)
    ids = store.add_labelled_many(texts, rare, vectors=rare_vecs)
    scope = scope_for(fw, "umbrella", "internal")
    everything = np.vstack([vecs, rare_vecs])
    visible = np.array([scope.permits(lb) for lb in labels + rare])
    for q in (rare_vecs[3], clustered(1, 6)[0]):
        hits = store.search(q, scope, k=20)
        assert all(scope.permits(h.label) for h in hits) and len(hits) == 20
        # the umbrella partition (12 entries) is searched exactly: its entries among the hits are exactly
        # those among the true top 20
        assert {h.id for h in hits} & set(ids) == set(exact_top(everything, visible, q, 20)) & set(ids)
    assert store.search(rare_vecs[3], scope, k=1)[0].id == ids[3]


def test_deleted_entries_never_come_back_from_the_graph(fw: Firewall) -> None:
    store, vecs, _ = build(fw, 2000)
    scope = scope_for(fw, "acme", "confidential")
    q = vecs[5]
    before = [h.id for h in store.search(q, scope, k=10)]
    assert store.delete(before[:5]) == 5
    after = [h.id for h in store.search(q, scope, k=10)]
    assert len(after) == 10 and not set(after) & set(before[:5])
    assert len(store) == 1995


def test_persist_and_load_between_exact_and_approximate(fw: Firewall, tmp_path: Path) -> None:
    store, vecs, labels = build(fw, 3000)
    store.delete([0, 1, 2])
    store.persist(tmp_path / "m")
    scope = scope_for(fw, "globex", "confidential")
    queries = list(clustered(20, 11))
    exact = TrustScopedStore.load(tmp_path / "m", fw, index="flat")
    again = TrustScopedStore.load(tmp_path / "m", fw, index="hnsw", hnsw=HnswOptions(exact_below=300))
    assert len(exact) == len(again) == 2997
    visible = np.array([scope.permits(lb) for lb in labels])
    visible[[0, 1, 2]] = False
    for q, e, a in zip(queries, exact.search_many(queries, scope, k=10), again.search_many(queries, scope, k=10),
                       strict=True):
        assert [h.id for h in e] == exact_top(vecs, visible, q, 10)  # the saved form is exact
        assert len(set(h.id for h in a) & set(h.id for h in e)) >= 8


def test_a_session_sees_the_same_with_either_index(fw: Firewall) -> None:
    with fw.session("alice", tenant="acme", clearance="internal") as s:
        flat = TrustScopedStore(fw, index="flat")
        graph = TrustScopedStore(fw, index="hnsw", hnsw=HnswOptions(exact_below=2))
        for store in (flat, graph):
            store.add("the acme wifi password rotates monthly", s, source="user")
            store.add("lunch menu for the acme office", s, source="user")
            store.add("the acme vpn needs a token", s, source="user")
        assert [h.text for h in flat.search("wifi", s, k=3)] == [h.text for h in graph.search("wifi", s, k=3)]


def test_bad_index_settings_are_refused(fw: Firewall) -> None:
    with pytest.raises(ValueError, match="'flat' \\(exact\\) or 'hnsw'"):
        TrustScopedStore(fw, index="ivf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"HnswOptions\.m"):
        HnswOptions(m=1)
    with pytest.raises(ValueError, match="ef_search"):
        HnswOptions(ef_search=0)
    with pytest.raises(TypeError, match="HnswOptions"):
        TrustScopedStore(fw, index="hnsw", hnsw={"m": 16})  # type: ignore[arg-type]



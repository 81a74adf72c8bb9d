"""Red-team tests for TrustScopedStore: stale selectors, id reuse, odd inputs, races, tampered files.

Real FAISS and the real firewall. Attacks the store already stops are kept as regressions; the one
it does not stop is an ``xfail(strict=True)`` with the reason.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ctxguard import AuditLog, Blocked, Firewall, IntegrityError, Label, Session
from ctxguard.memory import HashingEmbedding, TrustScopedStore

KEY = b"memory-redteam-signing-key-0123456789"


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _label(tenant: str, text: str, *, trust: str = "internal", confidentiality: str = "internal") -> Label:
    return Label.for_text(text, source="retriever:docs", trust=trust, tenant=tenant, confidentiality=confidentiality)


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    f = Firewall(signing_key=KEY, audit=AuditLog(None))
    f.warm_up()
    yield f
    f.close()


@pytest.fixture
def alice(fw: Firewall) -> Iterator[Session]:
    with fw.session(principal="alice", tenant="acme", clearance="internal") as s:
        yield s


@pytest.fixture
def gus(fw: Firewall) -> Iterator[Session]:
    with fw.session(principal="gus", tenant="globex", clearance="internal") as s:
        yield s


def _ids(store: TrustScopedStore, query: str, who: Session, k: int = 50) -> set[int]:
    return {h.id for h in store.search(query, who, k=k)}


# ---- the cached selector never goes stale ------------------------------------------------------------
def test_deleted_expired_and_new_out_of_scope_entries_after_a_cached_search(
    fw: Firewall, alice: Session, gus: Session
) -> None:
    clock = Clock()
    store = TrustScopedStore(fw, now=clock)
    keep = store.add("office wifi password rotates monthly", alice, source="user")
    gone = store.add("office wifi is on floor two", alice, source="user")
    brief = store.add("office wifi outage today", alice, source="user", ttl_seconds=30)
    assert _ids(store, "office wifi", alice) == {keep, gone, brief}  # selector cached for alice's scope
    store.delete(gone)
    assert _ids(store, "office wifi", alice) == {keep, brief}
    clock.t += 31
    assert _ids(store, "office wifi", alice) == {keep}
    # A globex entry written after alice's selector was cached stays out of alice's view.
    theirs = store.add("office wifi at globex is open", gus, source="user")
    assert _ids(store, "office wifi", alice) == {keep}
    assert _ids(store, "office wifi", gus) == {theirs}
    # ... while a new acme entry becomes visible at once.
    mine = store.add("office wifi guest network", alice, source="user")
    assert _ids(store, "office wifi", alice) == {keep, mine}
    # Ids are never reused: the deleted id stays dead, in search and in get.
    assert gone not in {keep, brief, theirs, mine} and gone not in store
    with pytest.raises(KeyError):
        store.get(gone)


def test_a_deleted_or_expired_entry_does_not_come_back_after_persist_and_load(
    fw: Firewall, alice: Session, tmp_path: Path
) -> None:
    clock = Clock()
    store = TrustScopedStore(fw, now=clock)
    keep = store.add("garage door code is in the safe", alice, source="user")
    gone = store.add("garage door code is 4321", alice, source="user")
    brief = store.add("garage door left open", alice, source="user", ttl_seconds=5)
    store.delete(gone)
    store.persist(tmp_path / "m")
    clock.t += 10
    loaded = TrustScopedStore.load(tmp_path / "m", fw, now=clock)
    assert _ids(loaded, "garage door code", alice) == {keep}
    new = loaded.add("garage door fixed", alice, source="user")
    assert new not in (keep, gone, brief) and new > brief


# ---- odd inputs ----------------------------------------------------------------------------------------
def test_k_bounds_and_bad_query_vectors(fw: Firewall, alice: Session) -> None:
    store = TrustScopedStore(fw, embedding=HashingEmbedding(16))
    a = store.add_labelled("acme note one", _label("acme", "acme note one"))
    store.add_labelled("globex note", _label("globex", "globex note"))
    assert [h.id for h in store.search("note", alice, k=1000)] == [a]  # k above the visible count
    for k in (0, -1, True, 2.0):
        with pytest.raises(ValueError):
            store.search("note", alice, k=k)  # type: ignore[arg-type]
    for bad in (np.full(16, np.nan), np.full(16, np.inf), np.ones(15), np.ones((2, 16))):
        with pytest.raises(ValueError):
            store.search(bad, alice)
    # A zero vector is legal and still only ranks what alice may see.
    assert [h.id for h in store.search(np.zeros(16), alice, k=5)] == [a]


def test_delete_accepts_a_numpy_integer_id(fw: Firewall) -> None:
    store = TrustScopedStore(fw, embedding=HashingEmbedding(16))
    ids = store.add_labelled_many(["one", "two"], [_label("acme", "one"), _label("acme", "two")])
    assert store.delete(np.int64(ids[0])) == 1 and ids[0] not in store


# ---- races -------------------------------------------------------------------------------------------
def test_concurrent_tenants_delete_and_persist_never_cross(fw: Firewall, tmp_path: Path) -> None:
    store = TrustScopedStore(fw, embedding=HashingEmbedding(32))
    acme = fw.session("r1", tenant="acme").scope()
    globex = fw.session("r2", tenant="globex").scope()
    errors: list[BaseException] = []

    def writer(tenant: str) -> None:
        try:
            for i in range(60):
                text = f"{tenant} shared words entry {i}"
                new = store.add_labelled(text, _label(tenant, text))
                if i % 3 == 0:
                    store.delete(new)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader(scope: object, tenant: str) -> None:
        try:
            for _ in range(80):
                for h in store.search("shared words entry", scope, k=7):  # type: ignore[arg-type]
                    assert h.label.tenant == tenant
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def saver() -> None:
        try:
            for _ in range(5):
                store.persist(tmp_path / "live")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("acme", "globex")]
    threads += [threading.Thread(target=reader, args=(acme, "acme")),
                threading.Thread(target=reader, args=(globex, "globex")), threading.Thread(target=saver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    loaded = TrustScopedStore.load(tmp_path / "live", fw, embedding=HashingEmbedding(32))
    assert all(h.label.tenant == "acme" for h in loaded.search("shared words entry", acme, k=200))


# ---- tampered files ------------------------------------------------------------------------------------
def _saved(fw: Firewall, alice: Session, gus: Session, root: Path) -> Path:
    store = TrustScopedStore(fw)
    store.add("acme pays invoices on the fifth", alice, source="user")
    store.add("acme invoices go to finance", alice, source="user")
    store.add("globex invoices go to Rotterdam", gus, source="user")
    store.persist(root)
    return root


def _entries(root: Path) -> Path:
    return root / json.loads((root / "manifest.json").read_text())["entries_file"]


def test_duplicate_or_dropped_entry_lines_refuse_the_load(
    fw: Firewall, alice: Session, gus: Session, tmp_path: Path
) -> None:
    root = _saved(fw, alice, gus, tmp_path / "m")
    path = _entries(root)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[0] + lines[2])  # id 0 twice, id 1 gone: same count
    with pytest.raises(IntegrityError):
        TrustScopedStore.load(root, fw)
    path.write_text("".join([*lines, lines[0]]))
    with pytest.raises(IntegrityError):
        TrustScopedStore.load(root, fw)


def test_a_globex_entry_line_moved_to_an_acme_id_stays_hidden_from_acme(
    fw: Firewall, alice: Session, gus: Session, tmp_path: Path
) -> None:
    root = _saved(fw, alice, gus, tmp_path / "m")
    path = _entries(root)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[1], lines[2] = {**lines[2], "id": 1}, {**lines[1], "id": 2}  # ids swapped: record MAC breaks
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    loaded = TrustScopedStore.load(root, fw)
    assert all(h.label.tenant == "acme" and h.label.verified for h in loaded.search("invoices", alice, k=10))
    assert all("globex" not in h.text for h in loaded.search("globex invoices Rotterdam", alice, k=10))


def test_an_index_file_from_another_store_or_key_refuses_the_load(
    fw: Firewall, alice: Session, gus: Session, tmp_path: Path
) -> None:
    a = _saved(fw, alice, gus, tmp_path / "a")
    b = tmp_path / "b"
    other = TrustScopedStore(fw)
    for text in ("one lunch", "two lunch", "three lunch"):
        other.add(text, alice, source="user")
    other.persist(b)
    index_a = json.loads((a / "manifest.json").read_text())["index_file"]
    index_b = json.loads((b / "manifest.json").read_text())["index_file"]
    shutil.copy(b / index_b, a / index_a)  # same shape, same ids, other vectors
    with pytest.raises(IntegrityError):
        TrustScopedStore.load(a, fw)
    other = Firewall(signing_key=b"another-key-another-key-0123456789", audit=AuditLog(None))
    with pytest.raises(IntegrityError):
        TrustScopedStore.load(b, other)


def test_entry_lines_from_another_store_with_the_same_key_fail_closed(
    fw: Firewall, alice: Session, gus: Session, tmp_path: Path
) -> None:
    # Same key, same ids, valid signatures: only the store binding in the record MAC tells them apart.
    a = _saved(fw, alice, gus, tmp_path / "a")
    other = TrustScopedStore(fw)
    for text in ("acme lunch menu: soup", "acme lunch menu: salad", "acme lunch menu: pie"):
        other.add(text, alice, source="user")
    other.persist(tmp_path / "b")
    theirs = _entries(tmp_path / "b").read_text().splitlines(keepends=True)
    mine = _entries(a).read_text().splitlines(keepends=True)
    _entries(a).write_text(theirs[0] + "".join(mine[1:]))  # one line spliced in
    loaded = TrustScopedStore.load(a, fw)
    assert loaded.search("acme lunch menu soup", alice, k=10) and all(
        "lunch" not in h.text for h in loaded.search("acme lunch menu soup", alice, k=10))
    assert not loaded.get(0).label.verified and loaded.get(1).label.verified
    shutil.copy(_entries(tmp_path / "b"), _entries(a))  # the whole file swapped
    loaded = TrustScopedStore.load(a, fw)
    assert loaded.search("acme lunch menu", alice, k=10) == []
    # The binding survives a load and save: a reloaded store still verifies its own lines.
    reloaded = TrustScopedStore.load(tmp_path / "b", fw)
    reloaded.persist(tmp_path / "b2")
    assert len(TrustScopedStore.load(tmp_path / "b2", fw).search("acme lunch menu", alice, k=10)) == 3


# ---- fail closed -----------------------------------------------------------------------------------
def test_a_detector_that_raises_stores_nothing_and_recalls_nothing(
    fw: Firewall, alice: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "AKIAIOSFODNN7EXAMPLE"
    store = TrustScopedStore(fw)
    kept = store.add("the deploy runbook lives in the wiki", alice, source="user")

    def crash(*_: object, **__: object) -> object:
        raise RuntimeError(f"detector crashed on {secret}")

    for d in fw.content_detectors:
        monkeypatch.setattr(d, "detect", crash)
        monkeypatch.setattr(d, "detect_many", crash, raising=False)
    with pytest.raises(Blocked) as err:
        store.add(f"deploy key {secret}", alice, source="user")
    assert secret not in str(err.value) and secret not in repr(err.value.decision)
    assert len(store) == 1
    recall = store.recall("deploy runbook", alice)
    assert len(recall) == 0 and [m.hit.id for m in recall.dropped] == [kept]
    assert all(secret not in repr(x) for x in (*recall.dropped, recall))

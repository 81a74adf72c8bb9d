"""TrustScopedStore with the approximate index (``index="hnsw"``) at 1M+ entries: filtered recall and latency.

For each size: unit vectors drawn around ``--centres`` cluster centres (embeddings are clustered;
uniform random vectors in 384 dimensions are the worst case of every ANN index, ``--data uniform``
measures that too), entries spread over ``--tenants`` tenants, and ``--confidential`` of them marked
confidential. The scope is one tenant's session with clearance ``internal``: it sees its tenant's
internal entries and nothing else (about 1/tenants x (1 - confidential) of the store).

Compared in the same run, all with the same HNSW settings (M, efConstruction, efSearch):

- unfiltered: one FAISS ``IndexHNSWFlat`` over every entry, searched without a filter. This is the
  latency reference of the target (filtered <= 1.5x unfiltered) and its recall is against exact
  unfiltered top-k;
- the store: ``TrustScopedStore(index="hnsw").search_many`` (one graph per tenant, the rest of the scope
  filtered inside the search), recall against exact top-k over the visible entries (numpy);
- one global graph with the scope as an ID selector (FAISS ``SearchParametersHNSW(sel=...)``): what a
  single filtered index gives without partitioning.

Latency is per query, best of ``--repeat``: batched (all queries in one call) and single (one call per
query). Target (issue 15): filtered top-10 recall >= 0.95, filtered/unfiltered latency <= 1.5x.

    python benchmarks/bench_memory_ann.py --sizes 1000000 --dim 384
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from ctxguard import AuditLog, Firewall, Label
from ctxguard.memory import HashingEmbedding, HnswOptions, TrustScopedStore


def vectors(rng: np.random.Generator, n: int, dim: int, data: str, centres: int, spread: float) -> np.ndarray:
    out = np.empty((n, dim), dtype=np.float32)
    c = rng.standard_normal((centres, dim), dtype=np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        block = rng.standard_normal((m, dim), dtype=np.float32)
        if data == "clustered":
            block = c[rng.integers(0, centres, m)] + spread / np.sqrt(dim) * block
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + m] = block
    return out


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def exact_topk(q: np.ndarray, xs: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    out = []
    for start in range(0, len(q), 25):
        scores = q[start:start + 25] @ xs.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        out.append(ids[np.take_along_axis(part, order, axis=1)])
    return np.vstack(out)


def recall(got: np.ndarray | list[list[int]], truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(map(int, g[:k])) & set(map(int, t[:k]))) for g, t in zip(got, truth, strict=True))
    return hits / (len(truth) * k)


def run(n: int, args: argparse.Namespace, fw: Firewall) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    xs = vectors(rng, n, args.dim, args.data, args.centres, args.spread)
    tenant_of = rng.integers(0, args.tenants, n)
    confidential = rng.random(n) < args.confidential
    queries = vectors(np.random.default_rng(args.seed + 1), args.queries, args.dim, args.data, args.centres,
                      args.spread) if args.data == "uniform" else xs[rng.integers(0, n, args.queries)] + \
        (args.spread / np.sqrt(args.dim)) * rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    opts = HnswOptions(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search,
                       exact_below=args.exact_below)
    r: dict[str, Any] = {"n": n}

    # the store
    labels_by_key: dict[tuple[int, bool], Label] = {}
    texts = [f"memory {i}" for i in range(n)]
    store = TrustScopedStore(fw, embedding=HashingEmbedding(args.dim), index="hnsw", hnsw=opts)
    t0 = time.perf_counter()
    step = 50_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        lbs = []
        for i in range(start, stop):
            key = (int(tenant_of[i]), bool(confidential[i]))
            lb = labels_by_key.get(key)
            if lb is None:
                lb = labels_by_key[key] = Label(source="retriever:kb", trust="internal", tenant=f"t{key[0]}",
                                                confidentiality="confidential" if key[1] else "internal",
                                                sha256="")
            lbs.append(lb)
        store.add_labelled_many(texts[start:stop], lbs, vectors=xs[start:stop])
    r["build_store_s"] = time.perf_counter() - t0
    with fw.session("reader", tenant="t0", clearance="internal") as s:
        scope = s.scope()
    visible = (tenant_of == 0) & ~confidential
    r["visible"] = int(visible.sum())

    # one unfiltered graph over everything (the latency reference), same settings
    t0 = time.perf_counter()
    graph = faiss.IndexHNSWFlat(args.dim, args.m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = args.ef_construction
    for start in range(0, n, 100_000):
        graph.add(xs[start:start + 100_000])
    r["build_graph_s"] = time.perf_counter() - t0
    plain = faiss.SearchParametersHNSW()
    plain.efSearch = args.ef_search

    k = args.k
    all_ids = np.arange(n, dtype=np.int64)
    truth_unfiltered = exact_topk(queries, xs, all_ids, k)
    truth_filtered = exact_topk(queries, xs[visible], np.flatnonzero(visible), k)

    t, (_, got) = best_of(lambda: graph.search(queries, k, params=plain), args.repeat)
    r["unfiltered_ms"], r["unfiltered_recall"] = 1000 * t / len(queries), recall(got, truth_unfiltered, k)
    store.search_many(list(queries[:2]), scope, k=k)  # builds and caches the scope's plan
    # the filtered search itself (the store's index and its cached plan for the scope), without the
    # hit objects, so it compares like with like against the raw unfiltered FAISS call
    index, plan = store._index, store._selector(scope, time.time()).plan
    t, (_, got) = best_of(lambda: index.search(queries, k, plan), args.repeat)
    r["index_ms"], r["index_recall"] = 1000 * t / len(queries), recall(got, truth_filtered, k)
    t, _ = best_of(lambda: [index.search(q[None, :], k, plan) for q in queries[: args.single]], args.repeat)
    r["index_single_ms"] = 1000 * t / min(args.single, len(queries))
    t, hits = best_of(lambda: store.search_many(list(queries), scope, k=k), args.repeat)
    r["store_ms"] = 1000 * t / len(queries)
    r["store_recall"] = recall([[h.id for h in row] for row in hits], truth_filtered, k)
    r["store_out_of_scope"] = sum(not scope.permits(h.label) for row in hits for h in row)

    bitmap = np.packbits(visible, bitorder="little")
    sel = faiss.IDSelectorBitmap(int(bitmap.size), faiss.swig_ptr(bitmap))
    for ef in (args.ef_search, args.ef_search * 8):
        gp = faiss.SearchParametersHNSW()
        gp.sel = sel
        gp.efSearch = ef
        t, (_, got) = best_of(lambda gp=gp: graph.search(queries, k, params=gp), args.repeat)
        r[f"global_ef{ef}_ms"], r[f"global_ef{ef}_recall"] = 1000 * t / len(queries), recall(got, truth_filtered, k)

    singles = queries[: args.single]
    t, _ = best_of(lambda: [graph.search(q[None, :], k, params=plain) for q in singles], args.repeat)
    r["unfiltered_single_ms"] = 1000 * t / len(singles)
    t, _ = best_of(lambda: [store.search(q, scope, k=k) for q in singles], args.repeat)
    r["store_single_ms"] = 1000 * t / len(singles)
    return r


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    n = r["n"]
    print(f"\n{n:,} entries ({args.data}), {r['visible']:,} visible to the scope ({100 * r['visible'] / n:.1f}%); "
          f"build: store {r['build_store_s']:.0f} s, one global graph {r['build_graph_s']:.0f} s")
    print("| search | recall@10 | batched ms/query | vs unfiltered | single ms/query | vs unfiltered |")
    print("|---|---|---|---|---|---|")
    u, us = r["unfiltered_ms"], r["unfiltered_single_ms"]
    print(f"| unfiltered HNSW, one graph (reference) | {r['unfiltered_recall']:.3f} (vs exact unfiltered) "
          f"| {u:.3f} | 1.00x | {us:.3f} | 1.00x |")
    print(f"| **filtered search, the store's index and plan** | **{r['index_recall']:.3f}** | {r['index_ms']:.3f} | "
          f"**{r['index_ms'] / u:.2f}x** | {r['index_single_ms']:.3f} | **{r['index_single_ms'] / us:.2f}x** |")
    print(f"| `store.search_many` / `search` (with hit objects) | {r['store_recall']:.3f} | {r['store_ms']:.3f} | "
          f"{r['store_ms'] / u:.2f}x | {r['store_single_ms']:.3f} | {r['store_single_ms'] / us:.2f}x |")
    for ef in (args.ef_search, args.ef_search * 8):
        ms = r[f"global_ef{ef}_ms"]
        print(f"| one global graph + ID selector, efSearch {ef} | {r[f'global_ef{ef}_recall']:.3f} | {ms:.3f} | "
              f"{ms / u:.2f}x | - | - |")
    print(f"entries returned out of scope by the store: {r['store_out_of_scope']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--data", choices=["clustered", "uniform"], default="clustered")
    ap.add_argument("--centres", type=int, default=2000)
    ap.add_argument("--spread", type=float, default=0.6, help="noise norm around a centre (clustered)")
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--confidential", type=float, default=0.2)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--single", type=int, default=50)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument("--ef-search", type=int, default=64)
    ap.add_argument("--exact-below", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"faiss {faiss.__version__}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
          f"M={args.m}, efConstruction={args.ef_construction}, efSearch={args.ef_search}, k={args.k}, "
          f"{args.tenants} tenants, {args.confidential:.0%} confidential")
    with Firewall(audit=AuditLog(None)) as fw:
        for n in args.sizes:
            report(run(n, args, fw), args)


if __name__ == "__main__":
    main()

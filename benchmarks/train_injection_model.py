"""Train the learned injection model, and measure it on sources it never saw.

    python benchmarks/train_injection_model.py [--eval-only] [--write] [--C 4.0]

1. Leave-one-source-out: for each source (InjecAgent, BIPIA e-mail, BIPIA code, spikee, each language
   of the written set, NotInject, stdlib docstrings, ...), a model is trained on every *other* source;
   its thresholds are set on held-back negatives of the training sources (FPR 1% and 0.1%), then it
   scores the held-out source: TPR on its attacks and FPR on its benign texts, neither seen in any form.
2. With ``--write``: the final model on every source, thresholds on held-back negatives, written to
   ``ctxguard/detect/injection/injection_ngram.npz``; its SHA-256 is printed (and written into
   ``learned.py``'s ``MODEL_SHA256``).

Texts are judged as the detector judges them: the maximum over sentence units, neighbouring pairs and
(short texts) the whole text. Training rows: every unit of a benign text is a negative; an attack is a
positive on its own and with the unit around it where it was placed in a context.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import itertools
import math
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus.sources import Text, all_texts  # noqa: E402

from ctxguard.detect.injection import learned  # noqa: E402
from ctxguard.detect.injection.imperative import unit_spans  # noqa: E402

MODEL_PATH = ROOT / "ctxguard" / "detect" / "injection" / learned.MODEL_FILE
LEARNED_PY = ROOT / "ctxguard" / "detect" / "injection" / "learned.py"
DIM = 2**learned.BITS


def held_back(t: Text) -> bool:
    """One benign text in five of each source is kept out of training, to set thresholds on."""
    return t.label == 0 and hashlib.sha256(t.text.encode()).digest()[0] < 52


def rows(t: Text) -> list[str]:
    if t.label == 0:
        spans = unit_spans(t.text)
        out = [t.text[s:e] for s, e in spans]
        out += [t.text[a[0]:b[1]] for a, b in itertools.pairwise(spans)][:20]
        if len(t.text) <= learned.WHOLE_TEXT_CHARS:
            out.append(t.text)
        return out[:60]
    # An attack alone: the context it was placed in is benign text and must not be learnt as an attack.
    return [t.attack or t.text]


def matrix(texts: list[str]) -> sparse.csr_matrix:
    indptr, indices, data = [0], [], []
    for text in texts:
        b = learned.features(text)
        if len(b):
            u, c = np.unique(b, return_counts=True)
            indices.append(u)
            data.append(c / math.sqrt(len(b)))
            indptr.append(indptr[-1] + len(u))
        else:
            indptr.append(indptr[-1])
    ind = np.concatenate(indices) if indices else np.empty(0, np.int64)
    dat = np.concatenate(data) if data else np.empty(0)
    return sparse.csr_matrix((dat.astype(np.float32), ind, np.array(indptr)), shape=(len(texts), DIM))


def train(texts: list[Text], C: float) -> learned.NgramModel:
    xs, ys = [], []
    for t in texts:
        for r in rows(t):
            xs.append(r)
            ys.append(t.label)
    X = matrix(xs)
    y = np.array(ys)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear")
    clf.fit(X, y)
    return learned.NgramModel(clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))


def threshold_at(scores: list[float], fpr: float) -> float:
    """The lowest threshold at which at most ``fpr`` of ``scores`` (benign) reach it."""
    s = sorted(scores, reverse=True)
    k = math.floor(fpr * len(s))
    return (s[k] + 1e-9) if k < len(s) else 0.0


def threshold_pooled(model: learned.NgramModel, texts: list[Text], fpr: float) -> float:
    """The lowest threshold at which at most ``fpr`` of all held-back benign texts reach it.

    Two other rules were tried on 2026-12-04, after this one's run with sixteen languages, and are
    reported in benchmarks/README.md ("Learned injection model"): at most ``fpr`` on *each* training
    source (cross-source FPR 1.2% but the model then almost never decides: 5.9% of the held-out
    multilingual probes), and at most ``fpr`` of the texts with non-English prose (the model's FPR on
    unseen kinds of text rose further). Neither is better on both counts, so the rule stays."""
    return threshold_at([learned.text_score(model, t.text) for t in texts if held_back(t)], fpr)


def logit(p: float) -> float:
    p = min(1 - 1e-12, max(1e-12, p))
    return math.log(p / (1 - p))


def leave_one_out(texts: list[Text], C: float, combined: bool = False) -> None:
    sources = sorted({t.source for t in texts})
    print(f"{'held-out source':<16} {'attacks':>7} {'benign':>6} {'TPR@1%':>7} {'TPR@0.1%':>8} "
          f"{'FPR@1%':>7} {'FPR@0.1%':>8}"
          + ("   whole detector (rules + this model at 0.5): TPR  FPR" if combined else ""))
    pooled: dict[str, list[float]] = defaultdict(list)
    for src in sources:
        rest = [t for t in texts if t.source != src]
        model = train([t for t in rest if not held_back(t)], C)
        t1, t01 = threshold_pooled(model, rest, 0.01), threshold_pooled(model, rest, 0.001)
        pos = [learned.text_score(model, t.text) for t in texts if t.source == src and t.label == 1]
        neg = [learned.text_score(model, t.text) for t in texts if t.source == src and t.label == 0]

        def share(xs: list[float], th: float) -> str:
            return f"{100 * sum(x >= th for x in xs) / len(xs):6.1f}%" if xs else "      -"

        extra = ""
        if combined:
            from ctxguard.detect.injection import InjectionDetector

            th = threshold_pooled(model, rest, 0.005)
            shifted = learned.NgramModel(model.weights, model.bias - logit(th))
            det = InjectionDetector(learned=shifted)

            def flagged(t: Text, det: InjectionDetector = det) -> float:
                return float(any(f.score >= 0.5 for f in det.detect(t.text)))

            cp = [flagged(t) for t in texts if t.source == src and t.label == 1]
            cn = [flagged(t) for t in texts if t.source == src and t.label == 0]
            extra = f"   {share(cp, 0.5):>40} {share(cn, 0.5)}"
            pooled["cpos"] += [x >= 0.5 for x in cp]
            pooled["cneg"] += [x >= 0.5 for x in cn]
        print(f"{src:<16} {len(pos):>7} {len(neg):>6} {share(pos, t1):>7} {share(pos, t01):>8} "
              f"{share(neg, t1):>7} {share(neg, t01):>8}{extra}", flush=True)
        pooled["pos1"] += [x >= t1 for x in pos]
        pooled["pos01"] += [x >= t01 for x in pos]
        pooled["neg1"] += [x >= t1 for x in neg]
        pooled["neg01"] += [x >= t01 for x in neg]
    print(f"{'pooled':<16} {len(pooled['pos1']):>7} {len(pooled['neg1']):>6} "
          f"{100 * np.mean(pooled['pos1']):6.1f}% {100 * np.mean(pooled['pos01']):7.1f}% "
          f"{100 * np.mean(pooled['neg1']):6.1f}% {100 * np.mean(pooled['neg01']):7.1f}%"
          + (f"   {100 * np.mean(pooled['cpos']):38.1f}% {100 * np.mean(pooled['cneg']):6.1f}%" if combined else ""))


def write_final(texts: list[Text], C: float, fpr: float) -> None:
    # The injection benchmark's test side stays unseen, so its figures remain held-out ones.
    texts = [t for t in texts if t.split != "test"]
    model = train([t for t in texts if not held_back(t)], C)
    th = threshold_pooled(model, texts, fpr)
    cal = [t for t in texts if held_back(t)]
    # Move the intercept so that the operating point is probability 0.5, the policy's threshold.
    bias = model.bias - logit(th)
    buf = io.BytesIO()
    np.savez_compressed(buf, weights=model.weights.astype(np.float16).astype(np.float32), bias=np.array([bias]),
                        threshold=np.array([th]), fpr=np.array([fpr]))
    raw = buf.getvalue()
    MODEL_PATH.write_bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    src = LEARNED_PY.read_text()
    LEARNED_PY.write_text(re.sub(r'MODEL_SHA256 = "[^"]*"', f'MODEL_SHA256 = "{digest}"', src))
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(raw) / 1e6:.2f} MB), sha256 {digest}; "
          f"calibration threshold {th:.4f} at FPR {fpr:.3%} on {len(cal)} held-back benign texts")


def throughput(texts: list[Text]) -> None:
    """The packaged model alone (unit split, n-gram hashing, span scores) on benign text, per core."""
    importlib.reload(learned)  # --write may have just replaced the file and its pinned hash
    model = learned.load_model()
    corpus = "\n".join(t.text for t in texts if t.label == 0)[:2_000_000]
    learned.text_score(model, "warm up")
    for size in (500, 2000, 20000):
        chunks = [corpus[i:i + size] for i in range(0, len(corpus), size)]
        t0 = time.perf_counter()
        for c in chunks:
            model.spans_scores(c, learned.candidate_spans(c))
        dt = time.perf_counter() - t0
        print(f"throughput, learned model alone, {size:>6}-character texts: {len(corpus) / dt / 1e6:.2f} MB/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--C", type=float, default=4.0)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--throughput", action="store_true")
    ap.add_argument("--combined", action="store_true", help="also score the whole detector with each fold's model")
    ap.add_argument("--fpr", type=float, default=0.005, help="operating point of the shipped model")
    args = ap.parse_args()
    t0 = time.perf_counter()
    texts = all_texts()
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for t in texts:
        counts[(t.source, t.label)] += 1
    print("sources:", ", ".join(f"{s}[{'+' if y else '-'}]={n}" for (s, y), n in sorted(counts.items())))
    if not args.no_eval:
        leave_one_out(texts, args.C, args.combined)
    if args.write:
        write_final(texts, args.C, args.fpr)
    if args.throughput:
        throughput(texts)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()

"""Secrets detection: ctxguard's table beside detect-secrets, on the same strings, in one run.

    python benchmarks/bench_secrets.py [--data DIR] [--mb 10] [--ds-mb 1]

Quality: the two labelled sets in ``../shared/data/secrets/`` (cases from detect-secrets' and
gitleaks' own rule tests: ``{file, label, text}``), plus a negative set of ordinary English prose
(sentences of the standard library's docstrings, so it is reproducible offline for a given Python).
A case counts as flagged when a tool reports anything in it. detect-secrets runs the way its CLI does:
each text is written to a file and ``scan_file`` runs with the default plugins and filters.

Speed: prose with synthetic secrets sprinkled in, scanned by the detector (Hyperscan prefilter + RE2),
by the same detector on RE2 alone, by the same table's patterns one by one with Python's ``re``
(matching only, no validation: a floor for that approach), and by detect-secrets (on a smaller
slice: it runs at well under 1 MB/s).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import inspect
import json
import os
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctxguard.detect import validators as v  # noqa: E402
from ctxguard.detect.secrets import CATALOGUE, SecretsDetector  # noqa: E402

# Standard-library modules whose docstrings make the prose corpus: fixed, so the corpus is stable.
PROSE_MODULES = (
    "abc argparse array ast asyncio base64 bisect calendar cmd codecs collections concurrent.futures "
    "configparser contextlib copy csv dataclasses datetime decimal difflib email enum filecmp fnmatch "
    "fractions ftplib functools getpass gettext glob gzip hashlib heapq hmac html http.client http.cookies "
    "imaplib inspect io ipaddress itertools json logging mailbox math mimetypes multiprocessing netrc "
    "numbers operator optparse os pathlib pickle platform poplib pprint queue random re sched secrets "
    "selectors shelve shlex shutil signal smtplib socket sqlite3 ssl statistics string struct subprocess "
    "tarfile tempfile textwrap threading timeit tokenize traceback typing unittest urllib.parse "
    "urllib.request uuid warnings weakref xml.dom zipfile zlib"
).split()


# ---- corpora ---------------------------------------------------------------------------------------

def docstrings() -> str:
    docs: list[str] = []
    for name in PROSE_MODULES:
        mod = importlib.import_module(name)
        docs.append(inspect.getdoc(mod) or "")
        for attr in sorted(vars(mod)):
            obj = getattr(mod, attr)
            if attr.startswith("_") or getattr(obj, "__module__", "") != mod.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                docs.append(inspect.getdoc(obj) or "")
                if inspect.isclass(obj):
                    docs.extend(inspect.getdoc(m) or "" for a, m in sorted(vars(obj).items())
                                if not a.startswith("_") and inspect.isfunction(m))
    return "\n\n".join(d for d in docs if d)


def prose_sentences(text: str, n: int = 500) -> list[str]:
    """Sentences that read as English prose: mostly letters and spaces, six words or more, no code."""
    flat = re.sub(r"\s+", " ", text)
    out = []
    for s in dict.fromkeys(x.strip() for x in re.split(r"(?<=[.!?])\s+", flat)):
        if 40 <= len(s) <= 400 and ">>>" not in s and len(s.split()) >= 6 \
                and sum(c.isalpha() or c == " " for c in s) / len(s) > 0.85:
            out.append(s)
    return random.Random(7).sample(out, min(n, len(out)))


def planted_secrets(rng: random.Random) -> list[str]:
    """Synthetic credentials of several formats, as they would appear in pasted config or logs."""
    alnum = string.ascii_letters + string.digits

    def r(n: int, alphabet: str = alnum) -> str:
        while True:
            s = "".join(rng.choice(alphabet) for _ in range(n))
            if not v.is_placeholder(s) and v.looks_random(s):
                return s

    jwt_head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    jwt_body = base64.urlsafe_b64encode(b'{"sub":"42","iat":1700000000}').decode().rstrip("=")
    key = base64.b64encode(bytes(rng.randrange(256) for _ in range(600))).decode()
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(key[i:i + 64] for i in range(0, len(key), 64)) \
        + "\n-----END RSA PRIVATE KEY-----"
    return [
        f"aws_access_key_id = AKIA{r(16, string.ascii_uppercase + '234567')}",
        f"GITHUB_TOKEN={v.github_token('ghp_', r(30))}",
        f"slack: xoxb-{r(11, string.digits)}-{r(12, string.digits)}-{r(24)}",
        f"stripe sk_live_{r(32)}",
        f"Authorization: Bearer {jwt_head}.{jwt_body}.{r(43, alnum + '-_')}",
        f'api_key = "{r(32)}"',
        f"DATABASE_URL=postgres://app:{r(14)}@db.internal:5432/app",
        f"OPENAI_API_KEY=sk-proj-{r(40)}T3BlbkFJ{r(40)}",
        pem,
    ]


def sprinkled(prose: str, mb: float, rng: random.Random, every: int = 20_000) -> tuple[str, int]:
    """``mb`` megabytes of prose with a planted secret every ``every`` characters; returns (text, count)."""
    size = int(mb * 1_000_000)
    paragraphs = [p for p in prose.split("\n\n") if p.strip()]
    parts: list[str] = []
    length = planted = since = 0
    while length < size:
        p = rng.choice(paragraphs)
        if since >= every:
            p = rng.choice(planted_secrets(rng)) + "\n\n" + p
            planted += 1
            since = 0
        parts.append(p)
        length += len(p) + 2
        since += len(p) + 2
    return "\n\n".join(parts), planted


# ---- the two tools ---------------------------------------------------------------------------------

def detect_secrets_flags(texts: Iterable[str]) -> list[bool]:
    """detect-secrets as its CLI runs: each text in a file, ``scan_file`` with default settings."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    out = []
    with default_settings(), tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            path = os.path.join(tmp, f"case{i}.txt")
            Path(path).write_text(text, encoding="utf-8")
            out.append(any(True for _ in scan_file(path)))
    return out


def rates(flags: list[bool], labels: list[bool]) -> tuple[float, float, int, int, int, int]:
    pos = sum(labels)
    neg = len(labels) - pos
    tp = sum(f and lab for f, lab in zip(flags, labels, strict=True))
    fp = sum(f and not lab for f, lab in zip(flags, labels, strict=True))
    return (tp / pos if pos else float("nan"), fp / neg if neg else float("nan"), tp, pos, fp, neg)


def fmt(r: tuple[float, float, int, int, int, int]) -> str:
    recall, fpr, tp, pos, fp, neg = r
    rec = f"recall {recall:6.1%} ({tp:3}/{pos:3})" if pos else " " * 25
    return f"{rec}   false positives {fpr:6.1%} ({fp:3}/{neg:3})"


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "secrets")
    ap.add_argument("--mb", type=float, default=10.0, help="size of the throughput text (default 10)")
    ap.add_argument("--ds-mb", type=float, default=1.0, help="slice detect-secrets is timed on (default 1)")
    args = ap.parse_args(argv)

    detector = SecretsDetector()
    audit = SecretsDetector(placeholders=True)
    print(f"python {sys.version.split()[0]}, engine {detector.engine}, {len(CATALOGUE)} table rows, "
          f"{sum(len(r.patterns) for r in CATALOGUE)} patterns\n")

    # ---- labelled sets ------------------------------------------------------------------------
    for name in ("detect_secrets_cases.json", "gitleaks_cases.json"):
        cases = json.loads((args.data / name).read_text(encoding="utf-8"))
        texts = [c["text"] for c in cases]
        labels = [bool(c["label"]) for c in cases]
        ours = [bool(detector.detect(t)) for t in texts]
        ours_audit = [bool(audit.detect(t)) for t in texts]
        theirs = detect_secrets_flags(texts)
        print(f"{name}: {sum(labels)} true, {len(labels) - sum(labels)} false")
        print(f"  ctxguard                      {fmt(rates(ours, labels))}")
        print(f"  ctxguard placeholders=True    {fmt(rates(ours_audit, labels))}")
        print(f"  detect-secrets (scan_file)    {fmt(rates(theirs, labels))}")
        missed = Counter(c["file"] for c, f in zip(cases, ours, strict=True) if c["label"] and not f)
        flagged = Counter(c["file"] for c, f in zip(cases, ours, strict=True) if not c["label"] and f)
        print(f"  ctxguard misses by source: {dict(sorted(missed.items()))}")
        print(f"  ctxguard false positives by source: {dict(sorted(flagged.items()))}")
        kinds = Counter(f.kind for c in cases if not c["label"] for f in detector.detect(c["text"]))
        print(f"  ctxguard false-positive kinds: {dict(sorted(kinds.items()))}\n")

    # ---- prose -------------------------------------------------------------------------------
    corpus = docstrings()
    sentences = prose_sentences(corpus)
    neg = [False] * len(sentences)
    print(f"ordinary prose: {len(sentences)} sentences from standard-library docstrings")
    print(f"  ctxguard                      {fmt(rates([bool(detector.detect(s)) for s in sentences], neg))}")
    print(f"  detect-secrets (scan_file)    {fmt(rates(detect_secrets_flags(sentences), neg))}\n")

    # ---- speed -------------------------------------------------------------------------------
    rng = random.Random(11)
    text, planted = sprinkled(corpus, args.mb, rng)
    size = len(text.encode("utf-8")) / 1e6
    found = detector.detect(text)
    assert found == SecretsDetector(engine="re2").detect(text), "engines disagree"
    t_hs = timed(lambda: detector.detect(text))
    re2_only = SecretsDetector(engine="re2")
    t_re2 = timed(lambda: re2_only.detect(text))
    py_patterns = [re.compile(p) for row in CATALOGUE for p in row.patterns]
    t_py = timed(lambda: [sum(1 for _ in p.finditer(text)) for p in py_patterns], 1)
    ds_text = text[: int(args.ds_mb * 1_000_000)]
    ds_size = len(ds_text.encode("utf-8")) / 1e6
    t_ds = timed(lambda: detect_secrets_flags([ds_text]))
    mbps = size / t_hs
    print(f"throughput on {size:.1f} MB of prose with {planted} planted secrets ({len(found)} found):")
    print(f"  ctxguard (Hyperscan + RE2)            {mbps:8.1f} MB/s")
    print(f"  ctxguard, RE2 only                    {size / t_re2:8.1f} MB/s   ({mbps / (size / t_re2):.1f}x slower)")
    print(f"  same patterns one by one, Python re   {size / t_py:8.1f} MB/s   ({mbps / (size / t_py):.0f}x slower,"
          " matching only)")
    print(f"  detect-secrets scan_file ({ds_size:.1f} MB)    {ds_size / t_ds:8.2f} MB/s   "
          f"({mbps / (ds_size / t_ds):.0f}x slower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

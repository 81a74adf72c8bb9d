"""Pattern path speed: secrets and pattern PII over 10 MB of mixed text, beside the alternatives, in one run.

    python benchmarks/bench_patterns.py [--mb 10] [--ds-mb 1] [--seed 5]

The pattern path is everything ctxguard finds without NER: the secrets table (``SecretsDetector``) and
Presidio's English pattern recognizers (credit cards, SSN, IBAN, e-mail, IP, URL, dates, ...) driven by
``FastPiiDetector.scan_patterns``: RE2 on an ASCII image of the text, each match through the
recognizer's own validation. Phone numbers are not a pattern recognizer in Presidio (python-phonenumbers
parses candidates region by region) and are timed on their own line.

The mixed text (reproducible offline for a given Python) interleaves, by bytes: 40% prose (docstrings
of the standard library), 25% code (standard-library source), 10% JSON records, 10% service logs, 7%
presidio-evaluator sentences full of PII, 7% base64 and hex blobs, and one planted credential every
20 kB on average.

Alternatives on the same text: the same patterns run one by one with Python ``re`` (matching only, no
validation: a floor for that approach), Presidio's own pattern recognizers (``regex`` module, with
validation), and detect-secrets as its CLI runs (``scan_file``, on a slice: it is slow).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pii import fake_sentences  # noqa: E402

from ctxguard.detect.offline import use_bundled_suffix_list  # noqa: E402
from ctxguard.detect.pii_fast import FastPiiDetector  # noqa: E402
from ctxguard.detect.secrets import CATALOGUE, SecretsDetector  # noqa: E402

# Every English Presidio entity found by a pattern recognizer (not by NER, not by phonenumbers).
PATTERN_ENTITIES = ["CREDIT_CARD", "CRYPTO", "DATE_TIME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "MAC_ADDRESS",
                    "MEDICAL_LICENSE", "UK_NHS", "URL", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN",
                    "US_PASSPORT", "US_SSN", "UUID"]
# The default policy's PII entities that a pattern finds (PERSON is NER, PHONE_NUMBER phonenumbers).
DEFAULT_POLICY_PATTERN_ENTITIES = ["EMAIL_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"]
MODULES = ("abc argparse ast asyncio.base_events base64 bisect calendar cmd codecs collections configparser "
           "contextlib copy csv dataclasses datetime decimal difflib email.message enum fnmatch fractions ftplib "
           "functools gettext glob gzip hashlib heapq hmac http.client http.cookies imaplib inspect ipaddress "
           "json.decoder json.encoder logging mailbox mimetypes netrc numbers optparse pathlib pickle platform "
           "poplib pprint queue random shlex shutil smtplib socket ssl statistics string subprocess tarfile "
           "tempfile textwrap threading tokenize traceback typing unittest.case urllib.parse urllib.request uuid "
           "warnings zipfile").split()


# ---- the mixed text --------------------------------------------------------------------------------

def stdlib_text() -> tuple[list[str], list[str]]:
    """(docstring paragraphs, source-code blocks) of a fixed list of standard-library modules."""
    prose: list[str] = []
    code: list[str] = []
    for name in MODULES:
        mod = importlib.import_module(name)
        try:
            source = inspect.getsource(mod)
        except (OSError, TypeError):
            continue
        code += [b for b in re.split(r"\n(?=def |class )", source) if b.strip()]
        for obj in [mod, *vars(mod).values()]:
            doc = inspect.getdoc(obj) if (inspect.isfunction(obj) or inspect.isclass(obj) or obj is mod) else None
            if doc and getattr(obj, "__module__", name) == name:
                prose += [p for p in doc.split("\n\n") if len(p) > 40]
    return list(dict.fromkeys(prose)), code


def json_record(rng: random.Random) -> str:
    first = rng.choice(["ana", "li", "omar", "jo", "kim", "sara", "raj", "eva", "tom", "mia"])
    return json.dumps({
        "id": rng.randint(1, 10**9), "uuid": f"{rng.getrandbits(128):032x}",
        "created": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                   f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        "amount": round(rng.uniform(0, 5000), 2), "currency": rng.choice(["EUR", "USD", "GBP"]),
        "status": rng.choice(["paid", "open", "void"]), "items": rng.randint(1, 9),
        "contact": f"{first}.{rng.randint(1, 99)}@example.{rng.choice(['com', 'org', 'net'])}"
        if rng.random() < 0.2 else None,
    }) + "\n"


def log_line(rng: random.Random) -> str:
    ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return (f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d},{rng.randint(0, 999):03d} {rng.choice(['INFO', 'WARN', 'DEBUG', 'ERROR'])} "
            f"[{rng.choice(['api', 'worker', 'db', 'auth'])}-{rng.randint(1, 8)}] "
            f"{rng.choice(['GET', 'POST', 'PUT'])} /v1/{rng.choice(['orders', 'users'])}/{rng.randint(1, 99999)} "
            f"from {ip} status={rng.choice([200, 201, 204, 400, 404, 500])} took={rng.randint(1, 3000)}ms\n")


def blob(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"sha256:{rng.getrandbits(256):064x}\n"
    raw = base64.b64encode(rng.randbytes(rng.randint(48, 600))).decode()
    return "\n".join(raw[i:i + 76] for i in range(0, len(raw), 76)) + "\n"


def secret(rng: random.Random) -> str:
    def r(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    return rng.choice([
        lambda: f"aws_access_key_id = AKIA{r(16, string.ascii_uppercase + '234567')}\n",
        lambda: f"export SLACK_TOKEN=xoxb-{r(11, string.digits)}-{r(12, string.digits)}-{r(24)}\n",
        lambda: f"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx{r(30)}.{r(43)}\n",
        lambda: f"DATABASE_URL=postgres://app:{r(16)}@db.internal:5432/app\n",
        lambda: f"stripe.api_key = 'sk_live_{r(24)}'\n",
        lambda: "-----BEGIN RSA PRIVATE KEY-----\n" + base64.b64encode(rng.randbytes(96)).decode() + "\n",
    ])()


def mixed_text(mb: float, seed: int) -> tuple[str, dict[str, str]]:
    """The mixed text, and each kind of content alone (for per-kind throughput)."""
    rng = random.Random(seed)
    prose, code = stdlib_text()
    sentences = [t for t, _ in fake_sentences(2000, 42)]
    makers: dict[str, tuple[float, Callable[[], str]]] = {
        "prose": (0.40, lambda: rng.choice(prose) + "\n\n"),
        "code": (0.25, lambda: rng.choice(code) + "\n"),
        "json": (0.10, lambda: json_record(rng)),
        "logs": (0.10, lambda: log_line(rng)),
        "pii sentences": (0.07, lambda: rng.choice(sentences) + "\n"),
        "blobs": (0.07, lambda: blob(rng)),
    }
    target = int(mb * 1_000_000)
    parts: dict[str, list[str]] = {k: [] for k in makers}
    sizes = Counter[str]()
    out: list[str] = []
    total = next_secret = 0
    while total < target:
        kind = min(makers, key=lambda k: sizes[k] / makers[k][0])  # the kind furthest below its share
        piece = makers[kind][1]()
        parts[kind].append(piece)
        out.append(piece)
        sizes[kind] += len(piece)
        total += len(piece)
        if total >= next_secret:
            out.append(secret(rng))
            next_secret = total + rng.randint(10_000, 30_000)
    return "".join(out), {k: "".join(v) for k, v in parts.items()}


# ---- the alternatives ------------------------------------------------------------------------------------

def detect_secrets_scan(text: str) -> int:
    """detect-secrets as its CLI runs: the text in a file, ``scan_file`` with default settings."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    with default_settings(), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mixed.txt")
        Path(path).write_text(text, encoding="utf-8")
        return sum(1 for _ in scan_file(path))


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--ds-mb", type=float, default=1.0, help="slice given to detect-secrets (MB)")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)

    use_bundled_suffix_list()
    text, kinds = mixed_text(args.mb, args.seed)
    size = len(text.encode("utf-8")) / 1e6
    secrets = SecretsDetector()
    pii = FastPiiDetector(entities=PATTERN_ENTITIES)
    policy = FastPiiDetector(entities=DEFAULT_POLICY_PATTERN_ENTITIES)
    phones = FastPiiDetector(entities=["PHONE_NUMBER"])
    warm = text[:200_000]  # first sight of each character, tldextract's trie: not part of the timing
    for d in (secrets.detect, pii.scan_patterns, policy.scan_patterns, phones.scan_patterns):
        d(warm)

    def pattern_path(t: str) -> tuple[list[Any], list[Any]]:
        return secrets.detect(t), pii.scan_patterns(t)

    t_ours, (found_secrets, found_pii) = timed(lambda: pattern_path(text))
    t_secrets, _ = timed(lambda: secrets.detect(text))
    t_pii, _ = timed(lambda: pii.scan_patterns(text))
    t_policy, _ = timed(lambda: (secrets.detect(text), policy.scan_patterns(text)))
    t_phone, found_phone = timed(lambda: phones.scan_patterns(text), 1)

    # The same patterns, one by one, with Python's re: the secrets table and every PII pattern the
    # detector runs (those that can reach the threshold), compiled with Presidio's flags.
    py: list[re.Pattern[str]] = [re.compile(p) for row in CATALOGUE for p in row.patterns]
    skipped = 0
    for plan in pii._patterns:
        rec = plan.recognizer
        for pat in rec.patterns:
            if any(pp.original.pattern == pat.regex for pp in plan.patterns):
                try:
                    py.append(re.compile(pat.regex, re.DOTALL | re.MULTILINE | re.IGNORECASE))
                except re.error:
                    skipped += 1
    t_re, _ = timed(lambda: [sum(1 for _ in p.finditer(text)) for p in py], 1)

    # Presidio's own pattern recognizers (regex module, validation included), as AnalyzerEngine runs them.
    recognizers = [plan.recognizer for plan in pii._patterns]
    t_presidio, _ = timed(lambda: [r.analyze(text, r.supported_entities) for r in recognizers], 1)

    ds_text = text[: int(args.ds_mb * 1_000_000)]
    ds_size = len(ds_text.encode("utf-8")) / 1e6
    t_ds, ds_found = timed(lambda: detect_secrets_scan(ds_text), 1)

    kinds_found = Counter(f.kind for f in found_secrets + found_pii)
    print(f"{size:.1f} MB of mixed text; pattern path found {len(found_secrets)} secrets and {len(found_pii)} PII "
          f"values ({', '.join(f'{k} {n}' for k, n in kinds_found.most_common(8))}, ...)\n")
    ours = size / t_ours
    print(f"{'scanner':62s} {'MB/s':>8s}   ratio")
    print(f"{'ctxguard pattern path (SecretsDetector + scan_patterns)':62s} {ours:8.1f}   1x")
    print(f"{'  of which SecretsDetector alone':62s} {size / t_secrets:8.1f}")
    print(f"{'  of which PII patterns alone (' + str(sum(len(p.patterns) for p in pii._patterns)) + ' patterns)':62s}"
          f" {size / t_pii:8.1f}")
    print(f"{'ctxguard, default policy entities (' + ', '.join(DEFAULT_POLICY_PATTERN_ENTITIES) + ') + secrets':62s}"
          f" {size / t_policy:8.1f}")
    print(f"{'ctxguard phone numbers (phonenumbers, context-gated)':62s} {size / t_phone:8.2f}   "
          f"({len(found_phone)} found)")
    print(f"{f'same {len(py)} patterns one by one, Python re (matching only)':62s} {size / t_re:8.2f}   "
          f"{ours / (size / t_re):.0f}x slower" + (f"  ({skipped} would not compile)" if skipped else ""))
    print(f"{'Presidio pattern recognizers, regex module (PII only)':62s} {size / t_presidio:8.2f}   "
          f"{ours / (size / t_presidio):.0f}x slower")
    print(f"{f'detect-secrets scan_file ({ds_size:.1f} MB slice, {ds_found} found)':62s} {ds_size / t_ds:8.2f}   "
          f"{ours / (ds_size / t_ds):.0f}x slower\n")

    print("ctxguard pattern path by kind of content:")
    for kind, part in kinds.items():
        mb = len(part.encode("utf-8")) / 1e6
        t, _ = timed(lambda part=part: pattern_path(part), 1)
        print(f"  {kind:16s} {mb:5.2f} MB  {mb / t:8.1f} MB/s")
    print(f"\ntarget: >= 50 MB/s on the pattern path: {ours:.1f} MB/s -> {'met' if ours >= 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Hostile input: near-matches for every pattern family, scanned in time linear in their size.

    python benchmarks/bench_hostile.py [--sizes 1,2,5,10] [--presidio-kb 8,16,32,64]

The text is blocks of about 4 kB, each one family of near-misses, cycled: digit runs (Luhn-failing
card numbers, SSN and phone shapes, one long digit run), '@' runs and e-mail near-misses, 'AKIA' /
'ghp_' / 'xoxb-' / 'sk_live_' prefix repeats, base64-ish and 'eyJ' runs, dotted and colon runs
(IPv4, IPv6, MAC, domains), dashes and hex (UUID, IBAN shapes), spaced-out digits after the word
"phone" (the worst case for phone-number parsing), and Unicode oddities (zero-width characters,
combining marks, Arabic-Indic digits). The same text is cut at 1, 2, 5 and 10 MB and scanned by the
pattern path (SecretsDetector + FastPiiDetector.scan_patterns over every English Presidio pattern
entity, phone numbers included). Linear time shows as a constant time per MB.

For contrast, Presidio's own pattern recognizers (the backtracking ``regex`` module) run on the first
few kilobytes of the same text: their time per kB grows with the size.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_patterns import PATTERN_ENTITIES  # noqa: E402

from ctxguard.detect import pii_fast  # noqa: E402
from ctxguard.detect.offline import use_bundled_suffix_list  # noqa: E402
from ctxguard.detect.pii_fast import FastPiiDetector  # noqa: E402
from ctxguard.detect.secrets import SecretsDetector  # noqa: E402

BLOCK = 4096


def families(rng: random.Random) -> dict[str, Callable[[], str]]:
    digits = "0123456789"

    def luhn_fail() -> str:
        body = "4" + "".join(rng.choice(digits) for _ in range(14))
        total = sum(int(d) if i % 2 else (2 * int(d) - 9 if 2 * int(d) > 9 else 2 * int(d))
                    for i, d in enumerate(reversed(body)))
        return body + str((10 - total % 10 + 1) % 10)  # one off the check digit

    return {
        "digit runs": lambda: rng.choice([
            luhn_fail() + " ", "123-45-678 ", "+1 (555) 123-456 ", "9" * 300 + " ", "0000 0000 0000 000 ",
        ]),
        "@ runs": lambda: rng.choice(["@" * 200, "a@" * 100, "x" * 150 + "@", "a.b@c@d@e ", "@.@.@.@. "]),
        "prefix repeats": lambda: rng.choice(["AKIA" * 50, "ghp_" * 40, "xoxb-" * 40, "sk_live_" * 30,
                                              "-----BEGIN " * 10, "eyJ." * 50]),
        "base64 runs": lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                                       for _ in range(400)) + "\n",
        "dots and colons": lambda: rng.choice(["1." * 200, ":" * 200, "ab:" * 100, "a." * 200, "www." * 50,
                                               "1.2.3." * 50, "::ffff:" * 40]),
        "dashes and hex": lambda: rng.choice(["0123abcd-" * 40, "DE89" * 60, "GB" + "1" * 200, "--" * 100]),
        "spaced digits": lambda: "phone " + " ".join(rng.choice(digits) for _ in range(200)) + "\n",
        "unicode": lambda: rng.choice(["\u200b" * 100, "e\u0301" * 100, "\u0663" * 150 + " ", "\u00a0" * 100,
                                       "\uff11" * 100 + " "]),
    }


def hostile_text(mb: float, seed: int = 3) -> str:
    rng = random.Random(seed)
    fams = list(families(rng).values())
    out: list[str] = []
    total = 0
    target = int(mb * 1_000_000)
    i = 0
    while total < target:
        make = fams[i % len(fams)]
        block: list[str] = []
        size = 0
        while size < BLOCK:
            piece = make()
            block.append(piece)
            size += len(piece)
        out.append("".join(block) + "\n")
        total += size + 1
        i += 1
    return "".join(out)[:target]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, len(result) if isinstance(result, list) else result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,2,5,10", help="MB, comma-separated")
    ap.add_argument("--presidio-kb", default="8,16,32,64", help="kB given to Presidio's own recognizers")
    args = ap.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    use_bundled_suffix_list()
    text = hostile_text(max(sizes))
    secrets = SecretsDetector()
    pii = FastPiiDetector(entities=[*PATTERN_ENTITIES, "PHONE_NUMBER"])
    warm = text[:200_000]  # first sight of each character, lazy tables: not part of the timing
    secrets.detect(warm)
    pii.scan_patterns(warm)

    print("ctxguard pattern path (SecretsDetector + scan_patterns, every English pattern entity and phone numbers)")
    print(f"  {'MB':>5s} {'seconds':>9s} {'s per MB':>9s} {'findings':>9s}")
    per_mb = []
    def cold(part: str) -> tuple[float, Any]:
        # Phone-number readings are cached by piece; the text repeats its pieces, so a cache warm from
        # the previous run would make the small sizes look cheaper than they are.
        pii_fast._phone_matches_cached.cache_clear()
        return timed(lambda: secrets.detect(part) + pii.scan_patterns(part))

    for mb in sizes:
        part = text[: int(mb * 1_000_000)]
        t, found = min(cold(part) for _ in range(2))
        per_mb.append(t / mb)
        print(f"  {mb:5g} {t:9.2f} {t / mb:9.3f} {found:9d}")
    growth = per_mb[-1] / per_mb[0]
    print(f"  time per MB at {sizes[-1]:g} MB / at {sizes[0]:g} MB: {growth:.2f}\n")

    print("Presidio's pattern recognizers (regex module) on the start of the same text")
    recognizers = [plan.recognizer for plan in pii._patterns]
    print(f"  {'kB':>5s} {'seconds':>9s} {'s per kB':>9s}")
    for kb in [float(k) for k in args.presidio_kb.split(",")]:
        part = text[: int(kb * 1000)]
        t, _ = timed(lambda part=part: [r.analyze(part, r.supported_entities) for r in recognizers])
        print(f"  {kb:5.0f} {t:9.2f} {t / kb:9.4f}")
    print(f"\ntarget: time linear in size (time per MB does not grow): {growth:.2f}x -> "
          f"{'met' if growth < 1.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

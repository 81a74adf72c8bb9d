"""Corpus scanning: one process vs Ray Data (``ctxguard scan --engine ray``), the same items in one run.

Items are generated offline with Faker (names, e-mail addresses, phone numbers, cards, prose), so
NER and the pattern recognizers both have work. Reported: items/s and chars/s for each engine, Ray's
figure including its start-up (a cluster, one scanner actor per worker, each loading Presidio and
spaCy), and the ratio; the results of the two engines are compared and must be identical.

    python benchmarks/bench_scan.py [--items 4000] [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctxguard.corpus import CorpusScanner, Item, scan_local, scan_ray  # noqa: E402


def items(n: int, seed: int) -> list[Item]:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        parts = [fake.paragraph(nb_sentences=rng.randint(2, 5))]
        if rng.random() < 0.5:
            parts.append(f"Contact {fake.name()} at {fake.email()} or {fake.phone_number()}.")
        if rng.random() < 0.2:
            parts.append(f"Card {fake.credit_card_number()} expires {fake.credit_card_expire()}.")
        out.append(Item("generated.jsonl", i + 1, " ".join(parts)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    corpus = items(a.items, a.seed)
    chars = sum(len(i.text) for i in corpus)
    print(f"{len(corpus)} items, {chars:,} characters; workers: {a.workers}")

    t0 = time.perf_counter()
    scanner = CorpusScanner()
    scanner.firewall.warm_up()
    loaded = time.perf_counter() - t0
    t1 = time.perf_counter()
    local = list(scan_local(corpus, scanner))
    local_s = time.perf_counter() - t1
    scanner.firewall.close()

    t2 = time.perf_counter()
    on_ray = list(scan_ray(corpus, policy_yaml=None, source="file", direction="into_model", workers=a.workers))
    ray_s = time.perf_counter() - t2

    def key(r: dict[str, object]) -> tuple[object, ...]:
        return r["path"], r["line"], r["action"], r["findings"], r["text"]

    same = sorted(map(key, local)) == sorted(map(key, on_ray))
    print("| engine | seconds | items/s | chars/s | vs one process |")
    print("|---|---|---|---|---|")
    print(f"| one process (after {loaded:.1f} s loading) | {local_s:.1f} | {len(corpus) / local_s:,.0f} | "
          f"{chars / local_s:,.0f} | 1.00x |")
    print(f"| Ray Data, {a.workers} workers (start-up included) | {ray_s:.1f} | {len(corpus) / ray_s:,.0f} | "
          f"{chars / ray_s:,.0f} | {local_s / ray_s:.2f}x |")
    whole = loaded + local_s
    print(f"| one process, loading included | {whole:.1f} | | | {whole / ray_s:.2f}x (Ray vs it) |")
    print(f"results identical: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""PII quality and speed: ctxguard's FastPiiDetector beside stock Presidio, on the same sentences, in one run.

    python benchmarks/bench_pii.py [--n 2000] [--seed 42] [--chunk 250]

Data: ``n`` sentences from presidio-evaluator's ``PresidioSentenceFaker("en_US", lower_case_ratio=0.05,
random_seed=seed)``, generated offline (its hospital provider would query Wikidata; it is given its
built-in list instead) and cached under the system temp directory, never in the repository.

Engines, same spaCy model (the ``en_core_web_sm`` package), same entities, same threshold (0.5):

* stock Presidio: ``AnalyzerEngine`` with ``SpacyNlpEngine`` holding the whole pipeline as ``spacy.load``
  gives it, the predefined English recognizers, ``analyze()`` once per text: how Presidio is used.
* stock Presidio, batched: ``BatchAnalyzerEngine.analyze_iterator`` (spaCy ``pipe`` over the texts),
  for reference.
* ctxguard: ``FastPiiDetector.detect_many`` (batched NER), and ``detect`` once per text.

Speed is characters of input per second of wall-clock time. Engines run interleaved, chunk by chunk,
so a busy machine slows them alike; CPU time is printed beside it.

Quality, span level. Gold entity types are mapped to Presidio's: PERSON, GPE->LOCATION, ORGANIZATION,
NRP, DATE_TIME, PHONE_NUMBER, EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS,
US_DRIVER_LICENSE, DOMAIN_NAME->URL; both engines are asked for exactly these. A predicted span counts
(true positive) when it overlaps a gold span of the same type; a gold span is found when a predicted
span of its type overlaps it. Gold types no English Presidio recognizer produces (STREET_ADDRESS,
ZIP_CODE, AGE, TITLE) are not scored: a prediction that overlaps only such a span is neither right nor
wrong (a LOCATION inside a street address is not a false alarm). "exact" repeats the count with
identical boundaries required.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctxguard.detect.offline import use_bundled_suffix_list  # noqa: E402
from ctxguard.detect.pii_fast import FastPiiDetector  # noqa: E402

GOLD_TO_PRESIDIO = {
    "PERSON": "PERSON", "GPE": "LOCATION", "LOCATION": "LOCATION", "ORGANIZATION": "ORGANIZATION", "NRP": "NRP",
    "DATE_TIME": "DATE_TIME", "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD", "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE", "DOMAIN_NAME": "URL",
}
NOT_SCORED = {"STREET_ADDRESS", "ZIP_CODE", "AGE", "TITLE"}
ENTITIES = sorted(set(GOLD_TO_PRESIDIO.values()))
NER_ENTITIES = {"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"}
THRESHOLD = 0.5

Span = tuple[str, int, int]
Sample = tuple[str, list[Span]]


# ---- data --------------------------------------------------------------------------------------------

def fake_sentences(n: int, seed: int) -> list[Sample]:
    """presidio-evaluator sentences with gold spans; cached in the temp directory."""
    cache = Path(tempfile.gettempdir()) / "ctxguard-bench" / f"presidio-sentences-{seed}-{n}.json"
    if cache.exists():
        return [(t, [tuple(s) for s in spans]) for t, spans in json.loads(cache.read_text())]  # type: ignore[misc]
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import providers

    # The hospital provider queries Wikidata; offline and reproducible, it gets its built-in list.
    providers.HospitalProvider.load_wiki_hospitals = lambda self: self.default_list  # type: ignore[method-assign]
    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
    samples = [(s.full_text, [(sp.entity_type, sp.start_position, sp.end_position) for sp in s.spans])
               for s in faker.generate_new_fake_sentences(n)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(samples))
    return samples


# ---- engines -----------------------------------------------------------------------------------------

def stock_presidio() -> tuple[Any, Any]:
    """Stock AnalyzerEngine over the whole spaCy pipeline, loaded as SpacyNlpEngine.load would."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from ctxguard.detect.offline import PIPELINE_ALIASES

    for package in PIPELINE_ALIASES["en_core_web_sm"]:
        if spacy.util.is_package(package):
            break
    nlp = spacy.load(package)  # every component, parser included, as Presidio's engine loads it

    class Engine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": nlp}

    engine = Engine(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    return analyzer, BatchAnalyzerEngine(analyzer_engine=analyzer)


def as_spans(results: Sequence[Any]) -> list[Span]:
    return [(r.entity_type, r.start, r.end) for r in results]


def finding_spans(findings: Sequence[Any]) -> list[Span]:
    return [(f.kind.split(":", 1)[1], f.start, f.end) for f in findings]


# ---- scoring -----------------------------------------------------------------------------------------

def score(samples: Sequence[Sample], predicted: Sequence[list[Span]], exact: bool = False) -> dict[str, Counter[str]]:
    """Per-type counts: gold, found, predicted, correct (predicted spans that hit)."""
    c: dict[str, Counter[str]] = {"gold": Counter(), "found": Counter(), "pred": Counter(), "hit": Counter()}

    def meets(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a == b if exact else a[0] < b[1] and b[0] < a[1]

    for (_, gold_raw), pred in zip(samples, predicted, strict=True):
        gold = [(GOLD_TO_PRESIDIO[t], s, e) for t, s, e in gold_raw if t in GOLD_TO_PRESIDIO]
        unscored = [(s, e) for t, s, e in gold_raw if t in NOT_SCORED]
        for t, s, e in gold:
            c["gold"][t] += 1
            c["found"][t] += any(pt == t and meets((s, e), (ps, pe)) for pt, ps, pe in pred)
        for t, s, e in pred:
            if any(gt == t and meets((s, e), (gs, ge)) for gt, gs, ge in gold):
                c["pred"][t] += 1
                c["hit"][t] += 1
            elif not any(s < ue and us < e for us, ue in unscored):
                c["pred"][t] += 1
    return c


def rates(c: dict[str, Counter[str]], types: Sequence[str] | None = None) -> tuple[float, float, int, int]:
    keys = types if types is not None else list(c["gold"] | c["pred"])
    gold = sum(c["gold"][k] for k in keys)
    pred = sum(c["pred"][k] for k in keys)
    recall = sum(c["found"][k] for k in keys) / gold if gold else float("nan")
    precision = sum(c["hit"][k] for k in keys) / pred if pred else float("nan")
    return recall, precision, gold, pred


# ---- timing ------------------------------------------------------------------------------------------

def interleaved(chunks: list[list[str]], runners: dict[str, Callable[[list[str]], list[list[Span]]]]
                ) -> tuple[dict[str, list[list[Span]]], dict[str, float], dict[str, float]]:
    """Run every engine over every chunk, in turn, rotating who goes first; total wall and CPU time."""
    out: dict[str, list[list[Span]]] = {name: [] for name in runners}
    wall: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    names = list(runners)
    for i, chunk in enumerate(chunks):
        order = names[i % len(names):] + names[:i % len(names)]
        got: dict[str, list[list[Span]]] = {}
        for name in order:
            t, c = time.perf_counter(), time.process_time()
            got[name] = runners[name](chunk)
            wall[name] += time.perf_counter() - t
            cpu[name] += time.process_time() - c
        for name in names:
            out[name] += got[name]
    return out, dict(wall), dict(cpu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="sentences (default 2000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk", type=int, default=250, help="sentences per interleaved chunk")
    args = ap.parse_args(argv)

    use_bundled_suffix_list()
    samples = fake_sentences(args.n, args.seed)
    texts = [t for t, _ in samples]
    chars = sum(map(len, texts))
    analyzer, batch = stock_presidio()
    fast = FastPiiDetector(entities=ENTITIES, score_threshold=THRESHOLD)
    warm = texts[:20]  # loads, lazy recognizers, tldextract's suffix trie: not part of the timing
    for t in warm:
        analyzer.analyze(t, language="en", entities=ENTITIES, score_threshold=THRESHOLD)
    fast.detect_many(warm)

    runners: dict[str, Callable[[list[str]], list[list[Span]]]] = {
        "stock Presidio, analyze() per text": lambda ch: [
            as_spans(analyzer.analyze(t, language="en", entities=ENTITIES, score_threshold=THRESHOLD)) for t in ch],
        "stock Presidio, BatchAnalyzerEngine": lambda ch: [
            as_spans(r) for r in batch.analyze_iterator(ch, language="en", batch_size=64, entities=ENTITIES,
                                                        score_threshold=THRESHOLD)],
        "ctxguard FastPiiDetector.detect_many": lambda ch: [finding_spans(f) for f in fast.detect_many(ch)],
        "ctxguard FastPiiDetector.detect per text": lambda ch: [finding_spans(fast.detect(t)) for t in ch],
    }
    chunks = [texts[i:i + args.chunk] for i in range(0, len(texts), args.chunk)]
    out, wall, cpu = interleaved(chunks, runners)
    stock_name, fast_name = "stock Presidio, analyze() per text", "ctxguard FastPiiDetector.detect_many"

    print(f"{len(texts)} sentences (seed {args.seed}), {chars} characters; entities {', '.join(ENTITIES)}; "
          f"threshold {THRESHOLD}\n")
    print("speed (wall clock; CPU in brackets)")
    base = chars / wall[stock_name]
    for name in runners:
        cps = chars / wall[name]
        print(f"  {name:42s} {cps:9.0f} chars/s  ({chars / cpu[name]:7.0f})  {cps / base:5.2f}x")
    ratio = (chars / wall[fast_name]) / base
    print()

    scores = {name: score(samples, out[name]) for name in (stock_name, fast_name)}
    exact = {name: score(samples, out[name], exact=True) for name in (stock_name, fast_name)}
    types = sorted(scores[stock_name]["gold"] | scores[stock_name]["pred"] | scores[fast_name]["pred"])
    print("quality, overlap with the same type (exact boundaries after the slash)")
    print(f"  {'entity':18s} {'gold':>5s} | {'stock recall':>13s} {'precision':>13s} | "
          f"{'ctxguard recall':>15s} {'precision':>13s}")

    def cell(x: float, y: float) -> str:
        return f"{x:5.3f}/{y:5.3f}" if x == x else "     -     "

    for t in types:
        line = f"  {t:18s} {scores[stock_name]['gold'][t]:5d} |"
        for name in (stock_name, fast_name):
            r, p, _, _ = rates(scores[name], [t])
            re_, pe, _, _ = rates(exact[name], [t])
            line += f" {cell(r, re_):>13s} {cell(p, pe):>13s} |" if name == stock_name else \
                f" {cell(r, re_):>15s} {cell(p, pe):>13s}"
        print(line)
    summary = {}
    for name in (stock_name, fast_name):
        summary[name] = rates(scores[name])
    sr, sp, gold, _ = summary[stock_name]
    fr, fp, _, _ = summary[fast_name]
    ser, sep, _, _ = rates(exact[stock_name])
    fer, fep, _, _ = rates(exact[fast_name])
    print(f"  {'overall':18s} {gold:5d} | {cell(sr, ser):>13s} {cell(sp, sep):>13s} | "
          f"{cell(fr, fer):>15s} {cell(fp, fep):>13s}\n")

    same = Counter()
    differ = Counter()
    for a, b in zip(out[stock_name], out[fast_name], strict=True):
        for kind, group in (("pattern", lambda s: s[0] not in NER_ENTITIES), ("NER", lambda s: s[0] in NER_ENTITIES)):
            (same if sorted(filter(group, a)) == sorted(filter(group, b)) else differ)[kind] += 1
    print("agreement with stock Presidio, texts with identical spans: "
          f"pattern entities {same['pattern']}/{len(texts)}, NER entities {same['NER']}/{len(texts)}"
          " (NER differs only because the parser's sentence boundaries are not computed)\n")

    ok_speed = ratio >= 5.0
    ok_quality = fr >= sr and fp >= sp
    print(f"target: >= 5x stock Presidio throughput: {ratio:.2f}x -> {'met' if ok_speed else 'NOT met'}")
    print(f"target: recall and precision no lower: recall {fr:.3f} vs {sr:.3f}, precision {fp:.3f} vs {sp:.3f}"
          f" -> {'met' if ok_quality else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

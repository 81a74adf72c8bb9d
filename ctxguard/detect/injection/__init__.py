"""Prompt-injection detection for content from untrusted sources.

Four kinds of evidence, each a small step, all reported as ``Finding(kind="injection")`` with the
heuristic in the detector name (``injection:<heuristic>``) and a score in [0, 1]:

- signatures (:mod:`.signatures`): overrides ("ignore previous instructions"), fake conversation turns,
  chat-template tokens, tool-call syntax, role-play framing. A table of RE2 patterns.
- requests inside data (:mod:`.imperative`): sentences that ask the reader to act. ``agent_request``
  (a tool action on someone's accounts, money, devices or data: InjecAgent's attacks, which carry no
  keyword), ``output_directive`` (orders about the answer being written: "encode your response in
  base64"), ``code_insertion`` ("add the following code to your solution" before code that calls out).
- hidden text (:mod:`.hidden`): HTML comments, CSS-hidden elements and image alt text that read as
  instructions; runs of invisible characters in raw text.
- a learned model (:mod:`.learned`): hashed character n-grams and linear weights trained on openly
  licensed corpora in many languages (``DATA_CARD.md``), shipped in the package and checked by
  SHA-256 before use; scored on every unit, every pair of neighbouring units and short whole texts,
  its findings are ``injection:learned``. It carries what the rules cannot: other languages,
  paraphrases, instructions without the rules' words.
- an optional user classifier: any ``Callable[[str], float]`` returning a probability, run on each
  sentence-like unit (see ``classifier_scope``); its findings are ``injection:classifier``. Nothing
  is downloaded: bring a local model wrapped in a function.

Scores are calibrated so that 0.5, the policy's default threshold, is the operating point measured in
``benchmarks/bench_injection.py`` (the whole detector flags at most 1% of the training split's benign
texts; figures for the test split are in ``benchmarks/README.md``). Spans are sentence-level; the
firewall treats the whole line holding a finding as hostile. Time is linear in the input: RE2
patterns and dictionary look-ups, plus spaCy's tagger on the rare sentence whose opening verb is in
no word list (``tagger=None`` turns that off).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterator
from typing import Literal

from ..._patterns import compile_linear
from ...decision import Finding
from . import imperative
from .hidden import scan_hidden
from .imperative import Tagger, spacy_tagger
from .learned import NgramModel, candidate_spans, load_model
from .prefilter import SignaturePrefilter
from .signatures import SIGNATURES, Signature

__all__ = ["SIGNATURES", "InjectionDetector", "Signature", "looks_english"]

_WORDS = compile_linear(r"[\pL\pM]+")  # letters of any script, marks included: "wyślij" is one word


def imperative_words(text: str) -> list[str]:
    return [m.group(0).lower() for m in _WORDS.finditer(text[:2000])]

# Findings scoring below this are not reported at all: they would only be noise in the audit log.
REPORT_FLOOR = 0.2
# Where the learned model does not speak alone (English, code, numbers, fragments), its score is
# capped below the policy's threshold: reported in the audit log, never deciding (see _speaks_alone).
LEARNED_CAP = 0.45
PAIR_ONLY_BELOW = 0.5
_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and to of a an in is are you your for on with this that it be from at by my me i we our will "
    "can please if not or as have has was why what how who which when where there their they he she his "
    "her all any about into up out do does did should would could just so but than then them its some "
    "over after before also only new more most other".split())


# The commonest function words of Latin-script languages other than English (words that are also
# common English words left out): positive evidence that a text is prose in one of them.
_OTHER_FUNCTION_WORDS = frozenset("""
le la les des du une est et pour que qui dans sur avec pas vous nous sont aux ces cette mais ou
der das und ist nicht ein eine zu mit sich auf für von dem den sie es auch wir ihr bitte
el los las del por con una para es son pero como más está este esta su sus ser usted
il lo gli della che per con non sono una questo questa nel alla degli anche
os as um uma não são para com pelo pela seu sua você nós mais mas muito
het een van dat niet zijn voor met ook maar dit deze aan bij naar wij jullie
nie jest się na że do dla jak ale czy tak oraz przez jego jej ten ta
bir ve bu için ile da de çok daha ama gibi olan ben sen biz siz ne
dan yang untuk dengan ini itu tidak ada dari akan pada kami anda saya bisa juga
och att det som för med inte på är av till jag du vi ni har eller
og ikke af til med som har jeg du vi er på den
și este sunt pentru cu nu mai care acest această sau dar
je se na že to v a ve pro s jsou jako ale nebo
és az egy hogy nem van meg is ez vagy mint
ja on ei se että kun tai mutta ovat myös
và của là có không được cho những với các này một người
és una amb per els les del què però
je se na da su za sa od ali ili kao
ir kad su ne yra bet arba
un ir ka ar no par bet vai
ja on ei et see kui aga või
dhe në një për është nuk me që të se
agus an ar na is le go ach
ngi kanye uma futhi kodwa
na ya wa kwa ni za katika kama lakini
ang mga ng sa na ay at ito hindi
en die het nie is van vir met wat
""".split()) - _ENGLISH_FUNCTION_WORDS - frozenset(
    "is die on me do to i man will war hat den van met son sin con per ten men pan net top sue".split())
_PUNCTUATION = ".,;:!?()[]{}\"'\u00ab\u00bb\u201c\u201d\u201e\u2018\u2019-\u2013\u2014/*_#<>|`~"
_LATIN_MAX = 0x024F  # Basic Latin to Latin Extended-B; Latin Extended Additional (Vietnamese) too, below


def _letterlike(c: str) -> bool:
    """A letter, or a combining mark: vowel signs are part of words in Devanagari, Bengali, Thai,
    Tamil ... (``str.isalpha`` says no to them)."""
    return c.isalpha() or unicodedata.category(c)[0] == "M"


def _non_latin_letter(c: str) -> bool:
    o = ord(c)
    return o > _LATIN_MAX and not 0x1E00 <= o <= 0x1EFF and _letterlike(c)


def looks_english(text: str) -> bool:
    """At least one word in six is an English function word: the rules can read it."""
    words = imperative_words(text)
    if len(words) < 3:
        return False
    return sum(w in _ENGLISH_FUNCTION_WORDS for w in words) * 6 >= len(words)


def _speaks_alone(text: str, document_in_other_language: Callable[[], bool] | None = None) -> bool:
    """Prose in a language other than English: where the model decides on its own.

    Measured across sources (benchmarks/README.md, "Learned injection model"), the model's false
    positives on unseen kinds of English text (payment notices, account e-mails), code and fragments
    are far above its calibration; on English the rules, which read clause structure and addressee,
    decide. Prose is at least four words, letters being most of its non-space characters (CJK text
    counts as one "word" per run, so it qualifies by length), with positive evidence of another
    language: mostly another script, or other languages' function words (about 30 Latin-script
    languages are listed; one left out is read by the rules alone, as English is). The evidence may
    come from the span or from the document it is part of (asked only when the span gives none): a
    short sentence says little about its language, the text around it more."""
    sample = text[:2000]
    visible = [c for c in sample if not c.isspace()]
    if not visible or sum(_letterlike(c) for c in visible) < 0.6 * len(visible):
        return False
    words = imperative_words(sample)
    cjk = sum(1 for c in visible if ord(c) >= 0x2E80)
    if len(words) < 4 and cjk < 8:
        return False
    if looks_english(sample):
        return False
    return _other_language(sample) or (document_in_other_language is not None and document_in_other_language())


def _other_language(sample: str) -> bool:
    """Positive evidence that ``sample`` is in a language other than English, not only the absence of
    English function words (short English sentences, names, addresses, JSON and code have none either):
    mostly letters of another script, or Latin-script words of which at least one in ten is another
    language's function word, or many accented letters."""
    letters = [c for c in sample if _letterlike(c)]
    if not letters:
        return False
    if sum(_non_latin_letter(c) for c in letters) * 2 >= len(letters):
        return True
    spaced = [w.strip(_PUNCTUATION).lower() for w in sample.split()]  # "wyślij" is one word here
    spaced = [w for w in spaced if w.isalpha()]  # words, not URLs, paths, identifiers or numbers
    if len(spaced) < 4:
        return False
    foreign = sum(w in _OTHER_FUNCTION_WORDS for w in spaced)
    accented = sum(not c.isascii() for c in letters)  # ł, ş, ư, é ...: a name has one or two
    return (foreign >= 1 and foreign * 10 >= len(spaced)) or (accented >= 3 and accented * 25 >= len(letters))


class InjectionDetector:
    """Signatures, requests inside data, hidden text and an optional classifier; one finding per span.

    ``classifier``: a callable text -> probability of injection. With ``classifier_scope="sentence"``
    (the default) it is called on each sentence-like unit (the same units the built-in heuristics
    score, at most ``max_classifier_calls`` per text, the rest as one tail), so its findings have
    sentence spans; with ``"text"`` it is called once on the whole text and a finding covers it all.
    Its score is combined with the built-in ones by taking the maximum for the span. It must return a
    finite number; it is clamped to [0, 1], and an exception propagates (the firewall fails closed).
    """

    name = "injection"

    def __init__(
        self,
        classifier: Callable[[str], float] | None = None,
        *,
        signatures: tuple[Signature, ...] = SIGNATURES,
        classifier_scope: Literal["sentence", "text"] = "sentence",
        max_classifier_calls: int = 2000,
        tagger: Tagger | Literal["spacy"] | None = "spacy",
        learned: NgramModel | bool = True,
    ) -> None:
        if classifier_scope not in ("sentence", "text"):
            raise ValueError(f"classifier_scope must be 'sentence' or 'text', not {classifier_scope!r}")
        self.signatures = signatures
        self.classifier = classifier
        self.classifier_scope = classifier_scope
        self.max_classifier_calls = max_classifier_calls
        self.tagger: Tagger | None = spacy_tagger if tagger == "spacy" else tagger
        self.model: NgramModel | None = load_model() if learned is True else (learned or None)
        self._prefilter: SignaturePrefilter | None = None
        self._prefiltered: tuple[Signature, ...] | None = None

    def _matching_signatures(self, text: str) -> Iterator[Signature]:
        """The signatures that may match ``text`` (one Hyperscan pass), for RE2 to search."""
        signatures = self.signatures
        if self._prefiltered is not signatures:  # built on first use, and again if the table is replaced
            self._prefilter = SignaturePrefilter.for_patterns([sig.pattern for sig in signatures])
            self._prefiltered = signatures
        indices = range(len(signatures)) if self._prefilter is None else self._prefilter.candidates(text)
        return (signatures[i] for i in indices)

    def detect(self, text: str) -> list[Finding]:
        best: dict[tuple[int, int, bool], tuple[float, str]] = {}

        def add(start: int, end: int, score: float, heuristic: str) -> None:
            if score < REPORT_FLOOR:
                return
            # The model's finding and the rules' best one are kept apart for the same span: the audit
            # log says which evidence there was.
            key = (start, end, heuristic == "learned")
            if key not in best or score > best[key][0]:
                best[key] = (score, heuristic)

        for sig in self._matching_signatures(text):
            for m in sig.pattern.finditer(text):
                add(m.start(), m.end(), sig.score, sig.name)
        units = imperative.scan(text, self.tagger)
        for u in units:
            if u.scores:
                heuristic, score = max(u.scores, key=lambda hs: hs[1])
                add(u.start, u.end, score, heuristic)
        if self.model is not None:
            answer: list[bool] = []  # whether the whole text is in another language: asked at most once

            def document_in_other_language() -> bool:
                if not answer:
                    answer.append(_other_language(text[:2000]))
                return answer[0]

            # candidate_spans lists the units first, then the neighbouring pairs, then the whole text.
            spans = candidate_spans(text, [(u.start, u.end) for u in units])
            probs = self.model.spans_scores(text, spans)
            n = len(units)
            for i, ((start, end), p) in enumerate(zip(spans, probs, strict=True)):
                covered = probs[i - n:i - n + 2] if i < 2 * n - 1 else probs[:n]  # the units inside
                if i >= n and max(covered, default=0.0) >= PAIR_ONLY_BELOW:
                    # A pair (or a short whole text) speaks only for an instruction split over
                    # units; when one unit carries it alone, the finding stays that unit's, and the
                    # hostile scope stays narrow.
                    continue
                if p >= REPORT_FLOOR and not _speaks_alone(text[start:end], document_in_other_language):
                    p = min(p, LEARNED_CAP)
                add(start, end, p, "learned")
        for heuristic, start, end, score in scan_hidden(text, self._reads_as_instruction):
            add(start, end, score, heuristic)
        if self.classifier is not None:
            for start, end in self._classifier_spans(text, units):
                add(start, end, self._classify(text[start:end]), "classifier")
        return [Finding(detector=f"injection:{h}", kind="injection", start=s, end=e, score=score)
                for (s, e, _), (score, h) in sorted(best.items())]

    def _reads_as_instruction(self, hidden: str) -> float:
        """How much hidden text reads as an instruction: the visible-text heuristics' score and the
        learned model's (uncapped here, in any language: hiding the text is itself the evidence the
        model lacks on visible English); a bare imperative ("TODO: remove this block") counts a little,
        enough to be reported, not flagged."""
        hidden = hidden[:4000]
        score = max((sig.score for sig in self._matching_signatures(hidden) if sig.pattern.search(hidden)),
                    default=0.0)
        if self.model is not None:
            score = max(score, self.model.probability(hidden))
        for u in imperative.scan(hidden, self.tagger):
            score = max(score, *(s for _, s in u.scores), 0.0)
            if imperative.analyse(hidden[u.start:u.end]).heads:  # the word lists only: hidden text is short
                score = max(score, 0.35)
        return score

    def _classifier_spans(self, text: str, units: list[imperative.Unit]) -> list[tuple[int, int]]:
        if self.classifier_scope == "text" or not units:
            return [(0, len(text))] if text.strip() else []
        spans = [(u.start, u.end) for u in units]
        if len(spans) > self.max_classifier_calls:
            head = spans[: self.max_classifier_calls - 1]
            spans = [*head, (head[-1][1], len(text))]
        return spans

    def _classify(self, text: str) -> float:
        assert self.classifier is not None
        p = float(self.classifier(text))
        if not math.isfinite(p):
            raise ValueError("injection classifier returned a non-finite score")
        return min(1.0, max(0.0, p))

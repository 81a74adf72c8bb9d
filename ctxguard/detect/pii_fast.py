"""Fast PII detection: Presidio's recognizers, scores and context rules, without Presidio's slow path.

Stock Presidio runs the whole spaCy pipeline on every text, then every recognizer one by one, each
pattern through the backtracking ``regex`` module. Only NER needs spaCy, and most recognizers cannot
match most text. ``FastPiiDetector`` keeps Presidio's decisions and changes how the work is done:

* One Hyperscan pass (optional) says which recognizers can match a text at all; large texts are
  checked segment by segment.
* Pattern recognizers: each Presidio pattern is translated once to RE2 (``translate``) and matched
  in time linear in the text, on an ASCII image of it (``fold``) in which every non-ASCII character
  stands in for one of the same class for ``\\w``, ``\\d`` and ``\\s``, so spans and word boundaries
  stay where Presidio's Unicode matching puts them. A one-character lookbehind at the start or
  lookahead at the end becomes a consumed character class; any other construct RE2 lacks
  (lookarounds elsewhere, backreferences) is dropped from the RE2 pattern, which then finds a
  superset of starts, and each candidate is confirmed by Presidio's own pattern at that one position.
  Every match goes through the recognizer's own ``validate_result`` / ``invalidate_result`` (Luhn,
  IBAN checksum, tldextract for e-mail domains); IBAN's own ``analyze`` runs on each match.
* Patterns that cannot reach the score threshold, even with a context word, are not run. Those that
  reach it only with one (a driver's licence at 0.3, a phone number at 0.4) are searched only in the
  lines where one of their context words could be in reach.
* Phone numbers: python-phonenumbers, with Presidio's regions and leniency, reads only the pieces of
  text around digit runs, and per region only when a run has as many digits as the shortest valid
  number there (from phonenumbers' own metadata).
* NER: only the ``ner`` component runs (it has its own tok2vec in the spaCy pipelines ctxguard
  uses), batched over texts sorted by length; labels and scores are mapped by Presidio's
  ``SpacyNlpEngine`` and ``SpacyRecognizer``.
* Context: Presidio's ``LemmaContextAwareEnhancer``, fed spaCy lemmas computed only for texts that
  hold a result whose score a context word could change. The pattern path (``scan_patterns``) and
  texts too large for spaCy without NER (``spacy_max_chars``) apply the same rule to plain words
  instead of lemmas: the one documented approximation.
* Thresholds and overlaps: Presidio's ``EntityRecognizer.remove_duplicates`` on its ``RecognizerResult``.

Known differences from stock Presidio (see ``tests/test_pii.py``): the parser is not run, so NER does
not see the parser's sentence boundaries (the parser is the slowest component; on the benchmark
sentences this changes NER spans in 0.4% of texts); a run of phone-like characters longer than
``_PHONE_GROUP_MAX`` (only pathological input has one) is read in pieces; phonenumbers' bound of
65,535 candidates per text and region, which stock Presidio inherits, is applied to (piece, region)
readings instead; and a context word is looked for within ``_CONTEXT_WINDOW`` characters before a
result (Presidio reads five non-stop-word lemmas back, however far).

Layout, one job per module: ``ascii_fold`` (the ASCII image), ``presidio_re2`` (pattern
translation), ``pii_plans`` (how each recognizer is driven, phone-number readings),
``pii_prefilter`` (the Hyperscan pass), ``pii_context`` (context words and pattern shapes),
``spacy_tuning`` (BLAS and matrix-product settings); this module runs them.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .._patterns import compile_linear
from ..decision import Finding
from ..errors import ConfigurationError
from .ascii_fold import _regex, fold
from .offline import load_spacy_pipeline, preloaded_spacy_engine, use_bundled_suffix_list
from .pii_context import _CONTEXT_WINDOW, _keywords_before, _shape, _stem, _stems
from .pii_plans import (
    _NOT_DIGITS,
    _PHONE_BUDGET,
    _PHONE_EXTENSION_GAP,
    _PHONE_EXTENSION_MAX,
    _PHONE_GROUP_MAX,
    _PHONE_NUMBER_BLOCKS,
    _PHONE_RUN,
    _SPACY_RUN_MAX,
    _Gate,
    _overrides,
    _PatternPlan,
    _phone_matches,
    _phone_matches_cached,
    _phone_metadata,
    _PhonePlan,
    _RecognizerPlan,
    _Work,
)
from .pii_prefilter import _PHONE_ID, _Prefilter
from .presidio_re2 import Translation, translate
from .secrets import ENTITY_PREFIX
from .spacy_tuning import _one_blas_thread, _prefer_numpy_gemm

# ---- the ASCII image of a text -------------------------------------------------------------------


# ---- Presidio pattern -> RE2 ---------------------------------------------------------------------


# ---- plans: how each Presidio recognizer is driven -----------------------------------------------


class FastPiiDetector:
    """Presidio's PII recognizers, scores and context rules; linear-time patterns and batched NER.

    Same contract and arguments as ``PresidioDetector``: ``detect(text) -> list[Finding]`` with kinds
    ``pii:<ENTITY>`` (``secret:<NAME>`` for extra recognizers of secret entities). ``detect_many``
    batches NER across texts; ``scan_patterns`` is the pattern path alone, without spaCy.
    """

    name = "pii"

    def __init__(
        self,
        *,
        model: str = "en_core_web_sm",
        language: str = "en",
        entities: list[str] | None = None,
        score_threshold: float = 0.5,
        extra_recognizers: list[Any] | None = None,
        batch_size: int = 256,
        spacy_max_chars: int = 100_000,
    ) -> None:
        self.model = model
        self.language = language
        self.entities = list(entities) if entities else None
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        # spaCy refuses texts over its max_length, and NER reads about 40k characters a second: a
        # longer text is cut at line breaks into pieces of at most this size for spaCy. A text this
        # long that needs no NER gets the spaCy-free context step (see _context_without_spacy).
        self.spacy_max_chars = spacy_max_chars
        self._extra = list(extra_recognizers or [])
        self._lock = threading.Lock()
        self._built = False

    # ---- building ---------------------------------------------------------------------------------
    def _ensure_built(self) -> None:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._build()
                    self._built = True

    def _build(self) -> None:
        use_bundled_suffix_list()
        try:
            from .offline import import_presidio_quietly

            import_presidio_quietly()
            from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerRegistry
            from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
            from presidio_analyzer.nlp_engine import NerModelConfiguration
            from presidio_analyzer.predefined_recognizers import IbanRecognizer, PhoneRecognizer, SpacyRecognizer
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ConfigurationError(f"presidio-analyzer is not installed: {exc}") from None

        nlp = load_spacy_pipeline(self.model)

        language = self.language
        # Labels the model has and Presidio maps to no entity (CARDINAL, MONEY, ...) are ignored, as
        # Presidio's default configuration ignores them, instead of logged as a warning on every text.
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping or {}
        labels = nlp.get_pipe("ner").labels if "ner" in nlp.pipe_names else ()
        config = NerModelConfiguration(labels_to_ignore=[label for label in labels if label not in mapping])
        engine = preloaded_spacy_engine(nlp, self.model, language, config)
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=engine)
        for rec in self._extra:
            registry.add_recognizer(rec)
        extra = [e for r in self._extra for e in r.supported_entities]  # one recognizer may cover many
        entities = self.entities + extra if self.entities else None
        recognizers = list(registry.get_recognizers(language=language, entities=entities,
                                                    all_fields=entities is None))
        if entities is None:
            entities = sorted({e for r in recognizers for e in r.supported_entities})
        self._requested = list(entities)
        self._nlp = nlp
        self._engine = engine
        self._enhancer = LemmaContextAwareEnhancer()
        self._recognizers = recognizers
        self._by_id = {rec.id: rec for rec in recognizers}
        self._ner: Any = None
        self._patterns: list[_RecognizerPlan] = []
        self._phones: list[_PhonePlan] = []
        self._fallback: list[Any] = []
        self._context_ids = {rec.id for rec in recognizers if rec.context}
        self._always_enhance = any(_overrides(r, "enhance_using_context", EntityRecognizer) for r in recognizers)
        threshold = self.score_threshold
        factor = self._enhancer.context_similarity_factor
        floor = self._enhancer.min_score_with_context_similarity

        def reachable(rec: Any, score: float) -> bool:
            """Whether a result of this score can still pass the threshold (a context word adds to it)."""
            if _overrides(rec, "enhance_using_context", EntityRecognizer):
                return True
            best = min(1.0, max(score + factor, floor)) if rec.context else score
            return best >= threshold

        for rec in recognizers:
            if isinstance(rec, SpacyRecognizer) and not _overrides(rec, "analyze", SpacyRecognizer):
                self._ner = rec
            elif isinstance(rec, PhoneRecognizer) and not _overrides(rec, "analyze", PhoneRecognizer):
                if reachable(rec, rec.SCORE):
                    per_region, intl = _phone_metadata()
                    regions = tuple(rec.supported_regions)
                    fewest = min([intl] + [per_region.get(r, 0) for r in regions])
                    gate = None
                    if rec.SCORE < threshold and not _overrides(rec, "enhance_using_context", EntityRecognizer):
                        gate = _Gate(_stems(rec.context), None, True, tuple(_stem(w, False) for w in rec.context))
                    self._phones.append(_PhonePlan(rec, regions, per_region, intl, fewest, gate))
            elif isinstance(rec, PatternRecognizer):
                plan = self._pattern_plan(rec, reachable, PatternRecognizer, IbanRecognizer)
                if plan is None:
                    self._fallback.append(rec)
                elif plan.patterns:
                    self._patterns.append(plan)
            else:
                self._fallback.append(rec)
        if self._ner is not None:
            _prefer_numpy_gemm(nlp)
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping or {}
        produced = {mapping[label] for label in labels if label in mapping}
        self._ner_entities = frozenset(produced & set(self._requested) & set(
            self._ner.supported_entities if self._ner is not None else ()))
        # What gives tokens their lemmas: every component but NER, which has its own tok2vec.
        self._lemma_pipes = [proc for name, proc in nlp.pipeline if name != "ner"]
        self._phone_run = compile_linear(_PHONE_RUN)
        self._long_run = compile_linear(rf"[^\t-\r \x1c-\x1f]{{{_SPACY_RUN_MAX + 1},}}")
        words = 2 * (self._enhancer.context_prefix_count + 1) + _PHONE_NUMBER_BLOCKS
        self._phone_words = compile_linear(rf"(?:[^0-9A-Za-z_\n]*[0-9A-Za-z_]+){{{words}}}")
        self._phone_gap = compile_linear(_PHONE_EXTENSION_GAP)
        self._prefilter = _Prefilter.build(self._patterns, bool(self._phones))

    def _pattern_plan(self, rec: Any, reachable: Any, base: type, iban: type) -> _RecognizerPlan | None:
        """RE2 plans for a PatternRecognizer, or None when Presidio must run it as it is."""
        regex = _regex()
        from presidio_analyzer import EntityRecognizer

        windowed = type(rec) is iban
        if _overrides(rec, "analyze", base) and not windowed:
            return None  # an analyze we do not know
        validates = _overrides(rec, "validate_result", base)
        flags = rec.global_regex_flags
        gateable = bool(rec.context) and not validates and not windowed and not _overrides(
            rec, "enhance_using_context", EntityRecognizer)
        plans: list[_PatternPlan] = []
        for pat in rec.patterns or ():
            if not validates and not windowed and not reachable(rec, pat.score):
                continue  # cannot pass the threshold even with a context word: Presidio would drop it
            try:
                tr = translate(pat.regex, flags)
                compiled = compile_linear(tr.pattern, ignore_case=bool(flags & regex.IGNORECASE))
            except ValueError:
                return None
            if compiled.search(b"") is not None or (windowed and not tr.exact):
                return None
            plan = _PatternPlan(pat.score, tr.pattern, bool(flags & regex.IGNORECASE), compiled, tr.group,
                                tr.step_back, tr.exact, pat.regex, flags)
            if gateable and pat.score < self.score_threshold:
                plan.gate = _Gate(_stems(rec.context), *_shape(tr.pattern), tuple(_stem(w, False) for w in rec.context))
            plans.append(plan)
        return _RecognizerPlan(rec, rec.supported_entities[0], plans, validates,
                               _overrides(rec, "invalidate_result", base), windowed,
                               all(_shape(p.source)[1] for p in plans))

    def describe(self) -> dict[str, list[str]]:
        """Which recognizers run how: RE2 patterns, windowed phone matching, NER, or Presidio as is."""
        self._ensure_built()
        return {
            "re2": [f"{p.recognizer.name}:{len(p.patterns)}" for p in self._patterns],
            "phone": [p.recognizer.name for p in self._phones],
            "ner": [self._ner.name] if self._ner is not None else [],
            "presidio": [r.name for r in self._fallback],
        }

    # ---- public API -------------------------------------------------------------------------------
    def detect(self, text: str, *, ner: bool = True) -> list[Finding]:
        return self.detect_many([text], ner=ner)[0]

    def detect_many(self, texts: Sequence[str], *, ner: bool = True) -> list[list[Finding]]:
        """Findings for each text, as ``detect`` would give them; NER runs batched across the texts.

        ``ner=False`` leaves the NER step out (see ``ner_entities``): the pattern entities come out as
        with it, from the same recognizers and the same context step, and no NER entity is reported."""
        self._ensure_built()
        work = [_Work(t) for t in texts]
        for w in work:
            if w.text.strip():
                w.results = self._pattern_results(w.text)
        self._spacy_stage(work, ner=ner)
        return [self._finish(w.results) if w.text.strip() else [] for w in work]

    def scan_patterns(self, text: str) -> list[Finding]:
        """The pattern path alone: pattern and phone recognizers, context from words, no spaCy."""
        self._ensure_built()
        if not text.strip():
            return []
        w = _Work(text, self._pattern_results(text, lemmas=False))
        self._context_without_spacy(w)
        return self._finish(w.results)

    # ---- stage 1: patterns and phone numbers ------------------------------------------------------
    def _pattern_results(self, text: str, lemmas: bool = True) -> list[Any]:
        """Results of the pattern and phone recognizers, before context, threshold and overlaps.

        ``lemmas``: whether the context step that follows reads spaCy lemmas (detect) or plain words
        (scan_patterns); it decides how wide the phone-number shortcut must look.
        """
        from presidio_analyzer import EntityRecognizer

        data, lossy = fold(text)
        n = len(data)
        whole = [(0, n)]
        present = self._prefilter.regions(data) if self._prefilter is not None else None
        stems: dict[int, list[int]] = {}  # context-word occurrences, per gate, computed once per text
        out: list[Any] = []
        for i, plan in enumerate(self._patterns):
            where = whole if present is None else present.get(i)
            if not where:
                continue
            if not plan.line_local:
                where = whole
            if plan.windowed:
                out += self._windowed(plan, text, data, lossy, where)
                continue
            found: list[Any] = []
            for pp in plan.patterns:
                found += self._matches(plan, pp, text, data, lossy, stems, where)
            # PatternRecognizer drops results contained in another of its own; one pattern's matches
            # never overlap, so a one-pattern recognizer has nothing to drop.
            out += EntityRecognizer.remove_duplicates(found) if len(plan.patterns) > 1 else found
        if present is None or _PHONE_ID in present:
            for phone in self._phones:
                out += self._phone_results(phone, text, data, stems, lemmas)
        return out

    @staticmethod
    def _reach(gate: _Gate, data: bytes, stems: dict[int, list[int]]) -> tuple[list[int], list[tuple[int, int]] | None]:
        """Where a gate's context words occur, and the lines where a result could be lifted by one.

        Returns (occurrences, regions); regions None means the whole text must be searched (and
        results filtered by the occurrences afterwards).
        """
        key = id(gate.stems)
        occ = stems.get(key)
        if occ is None:
            occ = stems[key] = [m.start() for m in gate.stems.finditer(data)]
        if not occ or not gate.line_local:
            return occ, None
        regions: list[tuple[int, int]] = []
        end = 0  # regions end on a line break (or the end): searches for the next start begin there
        for o in occ:
            lo = max(0, o - (gate.width if gate.width is not None else 0)) if gate.width is not None else o
            hi = o + _CONTEXT_WINDOW + (gate.width or 0)
            if regions and lo <= regions[-1][1]:
                if hi <= regions[-1][1]:
                    continue
                start = regions.pop()[0]
            else:
                start = data.rfind(b"\n", end, lo) + 1 if lo > end else end
                start = max(start, end)
            nl = data.find(b"\n", hi)
            end = len(data) if nl < 0 else nl
            regions.append((start, end))
        return occ, regions

    @staticmethod
    def _lifted(occ: list[int], start: int, end: int) -> bool:
        """Whether a context word starts in the window before ``start`` or inside the result."""
        i = bisect_left(occ, start - _CONTEXT_WINDOW)
        return i < len(occ) and occ[i] < end

    @staticmethod
    def _spans(pp: _PatternPlan, text: str, data: bytes, lossy: bool, pos: int = 0, n: int = -1
               ) -> Iterator[tuple[int, int]]:
        """The spans Presidio's ``finditer`` gives for one pattern, found by RE2 on the folded bytes.

        ``pos``/``n`` confine the search to a region that starts and ends on a line boundary (only
        used for patterns that cannot match across one), which ``finditer`` would enter fresh.
        """
        confirm = pp.original if lossy or not pp.exact else None
        search = pp.regex.search
        group, back = pp.group, pp.step_back
        n = len(data) if n < 0 else n
        while pos <= n:
            m = search(data, pos, n)
            if m is None:
                return
            start, end = m.span(group)
            if confirm is not None:
                cm = confirm.match(text, start)
                if cm is None:
                    pos = max(start + 1 - back, m.start() + 1)
                    continue
                start, end = cm.span()
            if end > start:
                yield start, end
            pos = max(max(end, start + 1) - back, m.start() + 1)

    def _result(self, rec: Any, entity: str, start: int, end: int, score: float) -> Any:
        from presidio_analyzer import RecognizerResult

        return RecognizerResult(
            entity_type=entity, start=start, end=end, score=score,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id},
        )

    def _matches(self, plan: _RecognizerPlan, pp: _PatternPlan, text: str, data: bytes, lossy: bool,
                 stems: dict[int, list[int]], where: list[tuple[int, int]]) -> list[Any]:
        """Presidio's ``PatternRecognizer`` scoring of each match: validate, invalidate, drop zeros."""
        rec = plan.recognizer
        out: list[Any] = []
        if pp.gate is None:
            spans: Iterable[tuple[int, int]] = (s for a, b in where for s in self._spans(pp, text, data, lossy, a, b))
        else:
            occ, regions = self._reach(pp.gate, data, stems)
            if not occ:
                return out
            found = self._spans(pp, text, data, lossy) if regions is None else (
                s for a, b in regions for s in self._spans(pp, text, data, lossy, a, b))
            spans = (s for s in found if self._lifted(occ, *s))
        for start, end in spans:
            value = text[start:end]
            score = pp.score
            if plan.validates:
                valid = rec.validate_result(value)
                if valid is not None:
                    score = 1.0 if valid else 0.0
            if plan.invalidates and rec.invalidate_result(value):
                score = 0.0
            if score > 0.0:
                out.append(self._result(rec, plan.entity, start, end, score))
        return out

    def _windowed(self, plan: _RecognizerPlan, text: str, data: bytes, lossy: bool,
                  where: list[tuple[int, int]]) -> list[Any]:
        rec = plan.recognizer
        if lossy:
            return self._run_presidio(rec, text, None)
        out = []
        for pp in plan.patterns:
            for start, end in (s for a, b in where for s in self._spans(pp, text, data, lossy, a, b)):
                for r in rec.analyze(text=text[start:end], entities=[plan.entity], nlp_artifacts=None) or ():
                    r.start += start
                    r.end += start
                    out.append(r)
        return out

    def _run_presidio(self, rec: Any, text: str, artifacts: Any) -> list[Any]:
        """A recognizer we cannot drive faster, run exactly as AnalyzerEngine runs it."""
        from presidio_analyzer import RecognizerResult

        if not rec.is_loaded:
            rec.load()
            rec.is_loaded = True
        results = list(rec.analyze(text=text, entities=self._requested, nlp_artifacts=artifacts) or ())
        for r in results:
            meta = r.recognition_metadata if r.recognition_metadata is not None else {}
            meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
            meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
            r.recognition_metadata = meta
        return results

    def _phone_results(self, plan: _PhonePlan, text: str, data: bytes, stems: dict[int, list[int]], lemmas: bool
                       ) -> list[Any]:
        from presidio_analyzer import EntityRecognizer

        rec = plan.recognizer
        entity = rec.supported_entities[0]
        out: list[Any] = []
        budget = _PHONE_BUDGET
        for start, end, digits in self._phone_pieces(plan, text, data, stems, lemmas):
            piece = text[start:end]
            match = _phone_matches_cached if len(piece) <= 256 else _phone_matches
            for region in plan.regions:
                if digits < plan.intl_min_digits and digits < plan.min_digits.get(region, 0):
                    continue  # too few digits for any valid number of this region
                budget -= 1
                if budget < 0:
                    return EntityRecognizer.remove_duplicates(out) if out else out
                for s, e in match(piece, region, rec.leniency):
                    out.append(self._result(rec, entity, start + s, start + e, rec.SCORE))
        return EntityRecognizer.remove_duplicates(out) if out else out

    def _phone_pieces(self, plan: _PhonePlan, text: str, data: bytes, stems: dict[int, list[int]], lemmas: bool
                      ) -> Iterator[tuple[int, int, int]]:
        """(start, end, most digits in one run) of each piece of text phonenumbers must read.

        A piece is a group of digit runs, chained when the gap between two could be a number's
        extension, plus one character before (phonenumbers looks at it) and four after (a ``:ss``
        timestamp tail). phonenumbers never joins text across anything else, so reading the piece
        gives what reading the whole text gives there. A number lies within one run, so only runs
        with as many digits as the shortest valid number can start one. When a phone number needs a
        context word to pass the threshold, such a run must also have a context word in reach: a stem
        of one among the words just before it (twice as many as Presidio's rule reads, so lemmas that
        differ from their words cannot slip past), and in the ``_CONTEXT_WINDOW`` before it.
        """
        n = len(data)
        gate = plan.gate
        near: list[int] | None = None
        regions: list[tuple[int, int]] | None = [(0, n)]
        if gate is not None:
            near, regions = self._reach(gate, data, stems)
            if not near:
                return
        # With spaCy lemmas to come, read twice as many words as Presidio's rule, for stems; without,
        # the pattern path's own rule (_context_without_spacy) is applied exactly.
        want = (self._enhancer.context_prefix_count + 1) * (2 if lemmas else 1)
        words = gate.words if gate is not None and lemmas else tuple(c.lower() for c in plan.recognizer.context)
        # [start, end, most digits in a run, whether a run may start a number, where reading may stop]
        group: list[int] | None = None
        runs = self._phone_run.finditer
        for s, e in (m.span() for a, b in (regions or [(0, n)]) for m in runs(data, a, b)):
            digits = len(data[s:e].translate(None, _NOT_DIGITS))
            hopeful = digits >= plan.fewest and (gate is None or (
                near is not None and self._lifted(near, s, e) and any(
                    w in kw for kw in _keywords_before(text, s, want) for w in words)))
            # Every word in a run (digits, 'x') counts among the words Presidio's rule reads back, so
            # a number starting after ``want`` of them is out of reach of the context word before the
            # run; phonenumbers need read no further than the longest number that starts before, which
            # spans at most 21 digit blocks (each block is part of a word) and an extension.
            stop = n
            if hopeful and gate is not None:
                m = self._phone_words.match(data, s)
                stop = m.end() + _PHONE_EXTENSION_MAX if m is not None else n
            if group is not None:
                gap_start = group[1]
                close = s - gap_start <= 24 and data.find(b"\n", gap_start, s) < 0
                if close or self._phone_gap.fullmatch(data, gap_start, s) is not None:
                    group[1], group[2] = e, max(group[2], digits)
                    if hopeful:
                        group[4] = stop if not group[3] else max(group[4], stop)
                        group[3] = 1
                    continue
                yield from self._pieces_of(group, n)
            group = [s, e, digits, int(hopeful), stop]
        if group is not None:
            yield from self._pieces_of(group, n)

    @staticmethod
    def _pieces_of(group: list[int], n: int) -> Iterator[tuple[int, int, int]]:
        start, end, digits, hopeful, stop = group
        if not hopeful:
            return
        start, end = max(0, start - 1), min(n, end + 4, stop)
        while end - start > _PHONE_GROUP_MAX:
            yield start, start + _PHONE_GROUP_MAX, digits
            start += _PHONE_GROUP_MAX - 64
        yield start, end, digits

    # ---- stage 2: spaCy: NER, and lemmas where a context word could change a score --------------
    def _needs_context(self, results: Iterable[Any]) -> bool:
        if self._always_enhance:
            return True
        from presidio_analyzer import RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        ids = self._context_ids
        return any(r.score < 1.0 and r.recognition_metadata.get(key) in ids for r in results)

    def _chunks(self, text: str) -> list[tuple[int, str]]:
        limit = self.spacy_max_chars
        if len(text) <= limit:
            return [(0, text)]
        out = []
        pos = 0
        while pos < len(text):
            end = min(len(text), pos + limit)
            if end < len(text):
                cut = text.rfind("\n", pos, end)
                if cut <= pos:
                    cut = text.rfind(" ", pos, end)
                end = cut + 1 if cut > pos else end
            out.append((pos, text[pos:end]))
            pos = end
        return out

    @property
    def ner_entities(self) -> frozenset[str] | None:
        """The requested entities only NER finds here (the pipeline's labels, as Presidio maps them),
        for a caller to decide whether a text needs NER at all; None when NER cannot be left out (there
        is none, or a recognizer Presidio runs as it is may read its entities)."""
        self._ensure_built()
        if self._ner is None or self._fallback:
            return None
        return self._ner_entities

    def _spacy_stage(self, work: list[_Work], *, ner: bool = True) -> None:
        ner = self._ner is not None and (ner or bool(self._fallback))
        pending: list[tuple[_Work, int, str]] = []
        for w in work:
            if not w.text.strip():
                continue
            w.needs_context = bool(self._fallback) or self._needs_context(w.results)
            if ner or (w.needs_context and len(w.text) <= self.spacy_max_chars):
                w.chunks = self._chunks(w.text)
                w.docs = [None] * len(w.chunks)
                pending += [(w, i, chunk) for i, (_, chunk) in enumerate(w.chunks)]
            elif w.needs_context:
                for rec in self._fallback:
                    w.results += self._run_presidio(rec, w.text, None)
                self._context_without_spacy(w)
        if not pending:
            return
        nlp = self._nlp
        # Batches of similar length: the NER transition loop runs as long as the longest text.
        order = sorted(range(len(pending)), key=lambda i: len(pending[i][2]))
        docs = [nlp.make_doc(self._tokenizable(pending[i][2])) for i in order]
        lemma_at = [k for k, i in enumerate(order) if pending[i][0].needs_context]
        with _one_blas_thread():
            if ner:
                docs = list(nlp.get_pipe("ner").pipe(docs, batch_size=self.batch_size))
            if lemma_at:
                sub = [docs[k] for k in lemma_at]
                for proc in self._lemma_pipes:
                    sub = list(proc.pipe(sub, batch_size=self.batch_size)) if hasattr(proc, "pipe") else [
                        proc(d) for d in sub]
                for k, d in zip(lemma_at, sub, strict=True):
                    docs[k] = d
        for k, i in enumerate(order):
            w, ci, _ = pending[i]
            w.docs[ci] = docs[k]
        for w in work:
            if w.docs:
                self._apply_docs(w)

    def _tokenizable(self, text: str) -> str:
        """``text`` with a space every ``_SPACY_RUN_MAX`` characters of any longer run without one.

        spaCy's tokenizer strips prefixes and suffixes one at a time, re-reading the rest of the run
        each time: 20 kB of "((((" or "'s's's" take a minute, in stock Presidio too. Offsets are kept
        (one character for one); no named entity is a run of 129 characters without a space, and spaCy
        reads such a run, at worst, about as fast as it runs NER on it.
        """
        data, _ = fold(text)
        runs = [m.span() for m in self._long_run.finditer(data)]
        if not runs:
            return text
        chars = list(text)
        for s, e in runs:
            for i in range(s + _SPACY_RUN_MAX, e, _SPACY_RUN_MAX + 1):
                chars[i] = " "
        return "".join(chars)

    def _apply_docs(self, w: _Work) -> None:
        """NER results, Presidio-run recognizers and the context step, chunk by chunk."""
        starts = [s for s, _ in w.chunks]
        per_chunk: list[list[Any]] = [[] for _ in w.chunks]
        for r in w.results:
            ci = bisect_right(starts, r.start) - 1
            r.start -= starts[ci]
            r.end -= starts[ci]
            per_chunk[ci].append(r)
        out: list[Any] = []
        for (offset, chunk), doc, results in zip(w.chunks, w.docs, per_chunk, strict=True):
            artifacts = self._artifacts(doc, w.needs_context)
            if self._ner is not None and doc.has_annotation("ENT_IOB"):
                results += self._ner.analyze(chunk, self._requested, artifacts)
            for rec in self._fallback:
                results += self._run_presidio(rec, chunk, artifacts)
            if w.needs_context and results:
                results = self._enhance(chunk, results, artifacts)
            for r in results:
                r.start += offset
                r.end += offset
            out += results
        w.results = out

    def _artifacts(self, doc: Any, lemmas: bool) -> Any:
        """Presidio's NlpArtifacts for a doc: labels mapped and scored by its SpacyNlpEngine.

        Lemmas and keywords are only needed by the context step; without them the artifacts carry
        the entities alone, which is all SpacyRecognizer reads.
        """
        engine = self._engine
        if lemmas:
            return engine._doc_to_nlp_artifact(doc, self.language)
        from presidio_analyzer.nlp_engine import NlpArtifacts

        ents, scores = engine._get_updated_entities(list(doc.ents), engine._get_scores_for_entities(doc))
        return NlpArtifacts(entities=ents, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=None,
                            language=self.language, scores=scores)

    def _enhance(self, text: str, results: list[Any], artifacts: Any) -> list[Any]:
        """AnalyzerEngine's context step: each recognizer's own enhancement, then the lemma enhancer."""
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        for r in results:
            if r.analysis_explanation is None and r.recognition_metadata.get(key) in self._context_ids:
                # the enhancer records the context word it used in the explanation
                r.analysis_explanation = AnalysisExplanation(
                    recognizer=str(r.recognition_metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")),
                    original_score=r.score)
        enhanced: list[Any] = []
        for rec_id in dict.fromkeys(r.recognition_metadata.get(key) for r in results):
            own = [r for r in results if r.recognition_metadata.get(key) == rec_id]
            rec = self._by_id.get(rec_id)
            if rec is not None:
                others = [r for r in results if r.recognition_metadata.get(key) != rec_id]
                own = rec.enhance_using_context(text=text, raw_recognizer_results=own,
                                                other_raw_recognizer_results=others, nlp_artifacts=artifacts,
                                                context=None)
            enhanced += own
        # The lemma enhancer only raises results of recognizers with context words, below the maximum;
        # it deep-copies what it is given, so it is given those alone.
        ids = self._context_ids
        movable = [r for r in enhanced if r.score < 1.0 and r.recognition_metadata.get(key) in ids]
        if not movable:
            return enhanced
        fixed = [r for r in enhanced if not (r.score < 1.0 and r.recognition_metadata.get(key) in ids)]
        return fixed + list(self._enhancer.enhance_using_context(
            text=text, raw_results=movable, nlp_artifacts=artifacts, recognizers=self._recognizers, context=None))

    def _context_without_spacy(self, w: _Work) -> None:
        """The context step for text spaCy does not read: Presidio's rule over plain words.

        LemmaContextAwareEnhancer takes the token a result starts in and the five non-stop-word,
        non-punctuation lemmas before it, and raises the score (by 0.35, to at least 0.4) when one of
        the recognizer's context words is a substring of one of them. Here the same rule, with the
        enhancer's own parameters, runs over lower-cased words split at blanks and punctuation instead
        of spaCy lemmas ("calling" rather than "call"). Only results a context word can carry over the
        threshold are looked at; the others keep their score.
        """
        from presidio_analyzer import RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        enhancer = self._enhancer
        factor, floor = enhancer.context_similarity_factor, enhancer.min_score_with_context_similarity
        want = enhancer.context_prefix_count + 1
        whole = enhancer.context_matching_mode == "whole_word"
        for r in w.results:
            if r.score >= self.score_threshold:
                continue  # a context word cannot change whether this one passes
            rec = self._by_id.get(r.recognition_metadata.get(key))
            if rec is None or not rec.context:
                continue
            words = _keywords_before(w.text, r.start, want)
            context = [c.lower() for c in rec.context]
            if any((c == kw) if whole else (c in kw) for c in context for kw in words):
                r.score = min(1.0, max(r.score + factor, floor))

    # ---- stage 3: threshold, overlaps, findings -----------------------------------------------------
    def _finish(self, results: list[Any]) -> list[Finding]:
        from presidio_analyzer import EntityRecognizer, RecognizerResult

        kept = EntityRecognizer.remove_duplicates([r for r in results if r.score >= self.score_threshold])
        out = []
        for r in kept:
            kind = r.entity_type
            kind = f"secret:{kind[len(ENTITY_PREFIX):]}" if kind.startswith(ENTITY_PREFIX) else f"pii:{kind}"
            meta = r.recognition_metadata or {}
            detector = str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, self.name))
            out.append(Finding(detector=detector, kind=kind, start=r.start, end=r.end, score=float(r.score)))
        return out


# ---- helpers --------------------------------------------------------------------------------------


__all__ = ["FastPiiDetector", "Translation", "fold", "translate"]

"""PII detection through Presidio's AnalyzerEngine, with the spaCy pipeline resolved offline.

We do not re-implement Presidio: its recognizer registry, context enhancement and validators
(Luhn, IBAN checksums) are used as they are. What ctxguard adds is the offline wiring: the NLP
engine is handed an already-loaded spaCy pipeline, so Presidio never attempts its model download.

The firewall uses ``FastPiiDetector`` (``pii_fast.py``), which drives the same recognizers in linear
time with batched NER; this one, stock ``AnalyzerEngine.analyze`` per text, stays as the reference the
tests compare it with.
"""

from __future__ import annotations

import threading
from typing import Any

from ..decision import Finding
from ..errors import ConfigurationError
from .offline import load_spacy_pipeline, preloaded_spacy_engine, use_bundled_suffix_list
from .secrets import ENTITY_PREFIX


class PresidioDetector:
    """Presidio PII recognizers plus any extra recognizers (the secrets table) in one registry."""

    name = "presidio"

    def __init__(
        self,
        *,
        model: str = "en_core_web_sm",
        language: str = "en",
        entities: list[str] | None = None,
        score_threshold: float = 0.5,
        extra_recognizers: list[Any] | None = None,
    ) -> None:
        self.model = model
        self.language = language
        self.entities = list(entities) if entities else None
        self.score_threshold = score_threshold
        self._extra = list(extra_recognizers or [])
        self._engine: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        use_bundled_suffix_list()
        try:
            from .offline import import_presidio_quietly

            import_presidio_quietly()
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ConfigurationError(f"presidio-analyzer is not installed: {exc}") from None

        nlp = load_spacy_pipeline(self.model)

        language = self.language
        engine = preloaded_spacy_engine(nlp, self.model, language)
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=engine)
        for rec in self._extra:
            registry.add_recognizer(rec)
        return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[language])

    @property
    def engine(self) -> Any:
        """The AnalyzerEngine, built on first use (loading spaCy takes about a second)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._build()
        return self._engine

    def detect(self, text: str) -> list[Finding]:
        if not text.strip():
            return []
        extra = [e for r in self._extra for e in r.supported_entities]  # one recognizer may cover many
        entities = self.entities + extra if self.entities else None
        results = self.engine.analyze(
            text=text, language=self.language, entities=entities, score_threshold=self.score_threshold
        )
        out = []
        for r in results:
            kind = r.entity_type
            kind = f"secret:{kind[len(ENTITY_PREFIX):]}" if kind.startswith(ENTITY_PREFIX) else f"pii:{kind}"
            detector = (
                r.recognition_metadata.get("recognizer_name", self.name) if r.recognition_metadata else self.name
            )
            out.append(Finding(detector=str(detector), kind=kind, start=r.start, end=r.end, score=float(r.score)))
        return out

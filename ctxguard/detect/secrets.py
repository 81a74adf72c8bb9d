"""Secrets as Presidio PatternRecognizers: one table row per secret type.

Each row is a name, linear-time patterns (fixed prefixes, bounded character classes, no nested
quantifiers) and a score. Adding a secret type is one row and its test cases. The entity name
Presidio sees is ``SECRET_<NAME>``; ctxguard reports it as the finding kind ``secret:<NAME>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..decision import Finding

ENTITY_PREFIX = "SECRET_"


@dataclass(frozen=True, slots=True)
class SecretType:
    name: str
    patterns: tuple[str, ...]
    score: float = 0.9
    context: tuple[str, ...] = ()


CATALOGUE: tuple[SecretType, ...] = (
    SecretType("AWS_ACCESS_KEY", (r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",)),
    SecretType("GITHUB_TOKEN", (r"\bgh[pousr]_[A-Za-z0-9]{36}\b", r"\bgithub_pat_[A-Za-z0-9_]{82}\b")),
    SecretType("GITLAB_TOKEN", (r"\bglpat-[A-Za-z0-9_\-]{20}\b",)),
    SecretType("SLACK_TOKEN", (r"\bxox[baprs]-[A-Za-z0-9-]{10,72}\b",)),
    SecretType("SLACK_WEBHOOK", (r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",)),
    SecretType("STRIPE_KEY", (r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99}\b",)),
    SecretType("OPENAI_KEY", (r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}\b",
                              r"\bsk-[A-Za-z0-9]{48}\b")),
    SecretType("ANTHROPIC_KEY", (r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,120}\b",)),
    SecretType("HUGGINGFACE_TOKEN", (r"\bhf_[A-Za-z]{34}\b",)),
    SecretType("JWT", (r"\beyJ[A-Za-z0-9_\-]{8,2000}\.eyJ[A-Za-z0-9_\-]{8,8000}\.[A-Za-z0-9_\-]{8,2000}\b",), 0.85),
    SecretType(
        "PRIVATE_KEY",
        (r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",),
        0.95,
    ),
    SecretType("URL_PASSWORD", (r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@]{1,100}:[^\s:/@]{3,100}@[^\s/@]{1,255}",), 0.8),
)


def build_recognizers(language: str = "en", catalogue: tuple[SecretType, ...] = CATALOGUE) -> list[Any]:
    """Presidio PatternRecognizers for the catalogue (imported lazily: Presidio is heavy)."""
    from presidio_analyzer import Pattern, PatternRecognizer

    return [
        PatternRecognizer(
            supported_entity=ENTITY_PREFIX + st.name,
            name=f"secret:{st.name}",
            supported_language=language,
            patterns=[Pattern(name=f"{st.name}_{i}", regex=p, score=st.score) for i, p in enumerate(st.patterns)],
            context=list(st.context),
        )
        for st in catalogue
    ]


class SecretsDetector:
    """Runs the secret recognizers directly, without Presidio's NLP pass (secrets need no NER)."""

    name = "secrets"

    def __init__(self, language: str = "en", catalogue: tuple[SecretType, ...] = CATALOGUE) -> None:
        self._recognizers = build_recognizers(language, catalogue)

    def detect(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        for rec in self._recognizers:
            for r in rec.analyze(text=text, entities=rec.supported_entities, nlp_artifacts=None):
                out.append(Finding(detector=rec.name, kind="secret:" + r.entity_type[len(ENTITY_PREFIX):],
                                   start=r.start, end=r.end, score=float(r.score)))
        return out

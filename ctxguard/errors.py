"""ctxguard's exceptions, one tree so callers can catch exactly what they mean.

    CtxGuardError               anything ctxguard raises on purpose
    ├── PolicyError             a policy file or object is invalid (every problem, with line and field path)
    ├── Blocked                 enforcement refused content; carries the Decision that says why
    ├── IntegrityError          an audit log or a signed label failed verification
    ├── ConfigurationError      a required offline resource (spaCy pipeline, encoding) is missing or wrong
    └── StateUnavailable        a shared store (Redis, PostgreSQL) cannot be reached or refused a write

Messages never contain the sensitive value that caused them: they name entity types, offsets and hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .decision import Decision


class CtxGuardError(Exception):
    """Base of every error ctxguard raises deliberately."""


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One validation problem: where it is (line, field path) and what is wrong."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = self.source or "<policy>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = self.path or "(top level)"
        return f"{where}: {field}: {self.message}"


class PolicyError(CtxGuardError):
    """The policy is invalid. ``problems`` lists every problem found, not only the first."""

    def __init__(self, problems: list[PolicyProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [PolicyProblem(path="", message=problems)]
        self.problems: list[PolicyProblem] = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"invalid policy ({n} problem{'s' if n != 1 else ''}):\n{lines}")


class Blocked(CtxGuardError):
    """Raised by the ``*_or_raise`` helpers and adapters when a decision is ``block``."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(f"blocked by ctxguard: {decision.reason} (rule {decision.rule or '-'})")


class IntegrityError(CtxGuardError):
    """A hash chain, signature or content hash did not verify."""


class ConfigurationError(CtxGuardError):
    """An offline resource the policy asks for cannot be loaded safely."""


class StateUnavailable(CtxGuardError):
    """A shared state server could not be used. What depended on it did not happen: a check that needed
    it blocks, an approval is not granted, an audit event is spooled (when a spool is configured) or
    the append raises. The message names the store and the error type, never a value or a password."""

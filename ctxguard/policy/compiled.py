"""Policy: the validated model plus everything the hot path needs precomputed.

Built once from a PolicyModel; read-only afterwards. Glob patterns are compiled here, level orders
are built here, so ``admit`` and ``check_*`` never touch YAML or compile a pattern.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .._memo import short_string_cache
from .._patterns import compile_linear, glob_to_regex
from ..decision import Action, Direction
from ..detect.canonical import canonical
from ..errors import PolicyError
from ..labels import Levels
from .loader import load_policy_file, parse_policy_text
from .schema import DirectionStrategies, PolicyModel, Rule, SourceBudget, Strategy, ToolPolicy
from .table import DecisionTable

# What a tool name's spelling may vary in without naming another tool: case, width, look-alike letters,
# invisible characters (canonical form), and the separators models and frameworks swap freely.
_TOOL_SEPARATORS = compile_linear(r"[\s_\-.:/]+")


@short_string_cache(200)
def canonical_tool_name(name: str) -> str:
    """The form tool names are looked up and matched in: ``Send-Email``, ``send_email``, ``SendEmail``
    and ``send email`` are one tool. A policy that keys on the exact spelling would let a model (or an
    MCP server that renames tools) walk round its rules by changing the case or a separator.

    A tool call looks its name up several times (policy, rules, argument rules), and an agent calls the
    same few tools: short names are remembered."""
    out: str = _TOOL_SEPARATORS.sub("", canonical(name))
    return out


@dataclass(frozen=True, slots=True)
class ToolGlob:
    """A rule's tool glob, matched in canonical tool-name form on both sides."""

    pattern: str
    regex: Any

    @classmethod
    def compile(cls, pattern: str) -> ToolGlob:
        return cls(pattern, compile_linear(glob_to_regex(canonical_tool_name(pattern))))

    def matches(self, value: str) -> bool:
        return self.regex.search(canonical_tool_name(value)) is not None


@dataclass(frozen=True, slots=True)
class Glob:
    """A shell-style pattern compiled once, to RE2: it is matched against values a model produced."""

    pattern: str
    regex: Any

    @classmethod
    def compile(cls, pattern: str, *, ignore_case: bool = False) -> Glob:
        return cls(pattern, compile_linear(glob_to_regex(pattern), ignore_case=ignore_case))

    def matches(self, value: str) -> bool:
        return self.regex.search(value) is not None


class Policy:
    """A ready-to-use policy. Create with ``Policy.default()``, ``Policy.from_file`` or ``from_yaml``."""

    def __init__(self, model: PolicyModel | None = None, *, source: str = "<default>") -> None:
        self.model = model if model is not None else PolicyModel()
        self.source = source
        m = self.model
        self.trust = Levels(tuple(m.trust.levels), highest_first=True)
        self.confidentiality = Levels(tuple(m.access.levels), highest_first=False)
        self._sources = [(Glob.compile(p), level) for p, level in m.trust.sources.items()]
        self._budgets = [(Glob.compile(p), b) for p, b in m.budgets.sources.items()]
        self._rule_globs = {
            r.name: {
                "source": Glob.compile(r.when.source) if r.when.source else None,
                "tool": ToolGlob.compile(r.when.tool) if r.when.tool else None,
                "finding": Glob.compile(r.when.finding) if r.when.finding else None,
            }
            for r in m.rules
        }
        self._rules = {r.name: r for r in m.rules}
        self._acts_on: dict[tuple[str, Direction], bool] = {}
        self._tools: dict[str, ToolPolicy] = {}
        for declared, tp in m.tools.tools.items():
            key = canonical_tool_name(declared)
            if not key:
                raise PolicyError(f"tools.tools: tool name {declared!r} has no letters or digits")
            if key in self._tools:
                other = next(n for n in m.tools.tools if n != declared and canonical_tool_name(n) == key)
                raise PolicyError(f"tools.tools: {other!r} and {declared!r} name the same tool (tool names are "
                                  "compared ignoring case and separators)")
            self._tools[key] = tp
        self.allowed_domains = tuple(Glob.compile(d, ignore_case=True) for d in m.exfiltration.allowed_domains)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def default(cls) -> Policy:
        """The built-in policy: enforce, fail closed, unknown sources untrusted, secrets never leave."""
        return cls(PolicyModel(), source="<default>")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        return cls(load_policy_file(path), source=str(Path(path)))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> Policy:
        return cls(parse_policy_text(text, source=source), source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        from pydantic import ValidationError

        from .loader import _Located, _problems_from_validation

        try:
            return cls(PolicyModel.model_validate(dict(data)), source="<dict>")
        except ValidationError as exc:
            raise PolicyError(_problems_from_validation(exc, _Located(0, 0), "<dict>", {"cls": "class"})) from None

    # ---- lookups used by the pipeline ---------------------------------------------------------
    @property
    def enforce(self) -> bool:
        return self.model.mode == "enforce"

    @property
    def fail_open(self) -> bool:
        return self.model.on_error == "allow"

    def trust_for_source(self, source: str) -> str:
        for glob, level in self._sources:
            if glob.matches(source):
                return level
        return self.model.trust.default

    def budget_for_source(self, source: str) -> SourceBudget | None:
        for glob, budget in self._budgets:
            if glob.matches(source):
                return budget
        return None

    def tool(self, name: str) -> ToolPolicy:
        """The tool's policy, looked up by canonical name; tools not listed get ``tools.default``."""
        return self._tools.get(canonical_tool_name(name), self.model.tools.default)

    def on_value_from(self, tool: str, trust: str) -> Action:
        """Action for a side-effect argument whose value came from content of ``trust``.

        Levels not named inherit from the nearest named level above them, so a policy that says
        ``untrusted: require_approval`` also covers anything below untrusted that it does not name.
        """
        table = dict(self.model.tools.on_value_from)
        override = self.tool(tool).on_value_from
        if override:
            table.update(override)
        rank = self.trust.rank(trust)
        best: tuple[int, Action] | None = None
        for level, action in table.items():
            r = self.trust.rank(level)
            if r >= rank and (best is None or r < best[0]):
                best = (r, action)
        return best[1] if best else Action.ALLOW

    def acts_on(self, entity: str, direction: Direction) -> bool:
        """Whether anything in the policy treats ``entity`` other than "allow" in ``direction``: its
        redaction strategy there, or a rule on findings whose glob matches it (whatever the rule's
        source, trust or tool, so the answer errs towards yes). Decides where NER must run."""
        key = (entity, direction)
        known = self._acts_on.get(key)
        if known is None:
            kind = f"pii:{entity}"
            known = self.strategy(entity, direction)[0] is not Strategy.ALLOW or any(
                (r.when.direction is None or direction in r.when.direction)
                and (glob := self._rule_globs[r.name]["finding"]) is not None and glob.matches(kind)
                for r in self.model.rules)
            self._acts_on[key] = known
        return known

    def ner_needed(self, direction: Direction, ner_entities: Iterable[str]) -> bool:
        """Whether a text going ``direction`` needs NER: ``detection.pii.ner`` is "always", or the
        policy acts there on one of the entities only NER finds."""
        if self.model.detection.pii.ner == "always":
            return True
        return any(self.acts_on(e, direction) for e in ner_entities)

    def strategy(self, entity: str, direction: Direction) -> tuple[Strategy, str]:
        """Strategy for an entity in a direction, and the rule path that set it (for the Decision).

        The most specific entry that names this direction wins: ``SECRET:AWS_ACCESS_KEY``, then
        ``SECRET``, then ``redaction.default``, then redact.
        """
        ents = self.model.redaction.entities
        candidates = [entity, "SECRET"] if entity.startswith("SECRET:") else [entity]
        for name in candidates:
            spec: DirectionStrategies | None = ents.get(name)
            chosen = spec.for_direction(direction) if spec is not None else None
            if chosen is not None:
                return chosen, f"redaction.entities.{name}.{direction.value}"
        fallback = self.model.redaction.default.for_direction(direction)
        return fallback or Strategy.REDACT, f"redaction.default.{direction.value}"

    def clearance_allowed(self, tenant: str, clearance: str) -> None:
        """Raise PolicyError when a session asks for more than its tenant may have."""
        access = self.model.access
        if clearance not in self.confidentiality:
            raise PolicyError(f"unknown clearance {clearance!r}; declared: {list(self.confidentiality.names)}")
        if access.tenants:
            if tenant not in access.tenants:
                raise PolicyError(f"tenant {tenant!r} is not declared in access.tenants")
            cap = access.tenants[tenant].max_clearance
            if cap is not None and self.confidentiality.rank(clearance) > self.confidentiality.rank(cap):
                raise PolicyError(f"clearance {clearance!r} exceeds tenant {tenant!r}'s max_clearance {cap!r}")

    def rule_globs(self, name: str) -> dict[str, Glob | ToolGlob | None]:
        return self._rule_globs[name]

    def rule(self, name: str) -> Rule:
        return self._rules[name]

    @cached_property
    def decisions(self) -> DecisionTable:
        """The compiled first-match table every check decides with (see ctxguard.policy.table)."""
        return DecisionTable(self)

    @cached_property
    def canaries(self) -> tuple[str, ...]:
        return tuple(t for t in self.model.exfiltration.canary_tokens if t)

    def __repr__(self) -> str:
        return f"Policy(source={self.source!r}, mode={self.model.mode!r}, on_error={self.model.on_error!r})"

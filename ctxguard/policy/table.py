"""The decision table: every policy field and every user rule, compiled once into one ordered list.

A finding only says what was found; this table alone says what to do about it. It is built once per
Policy, in this order, and the first entry that matches a finding decides:

1. the user's ``rules`` that name a ``finding``, in the order written;
2. one built-in entry per policy field that decides a kind of finding (``redaction.entities``,
   ``detection.injection.on_detect``, ``tools.on_value_from``, ...);
3. a last entry that blocks any finding nothing above names (a user detector's kind): fail closed.

One guard then applies to whatever matched: a ``redact`` that no edit can carry out (a secret split
across arguments, found in a reversed view or in an argument name, a tool call the policy says to
"redact") becomes ``block``. Without it a rule that says redact would let such a value through
whole, because there is no span to rewrite.

Rules without a ``finding`` decide for the content or call as a whole (``decide_whole``); the
session takes the most severe of those and its findings' verdicts. Verdicts are cached per set of
facts, so the hot path pays one dict lookup per finding after warm-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..decision import Action, Direction
from .schema import Strategy, ToolClass

if TYPE_CHECKING:
    from .compiled import Policy

# Detectors whose findings no in-place edit can remove: a transformed view of a value, a secret split
# across arguments, an argument name (the detector name ends in "+key").
VIEW_DETECTOR = "secrets+view:"  # + the view's name
SPLIT_DETECTOR = "secrets+split"
UNREDACTABLE = (VIEW_DETECTOR, SPLIT_DETECTOR)
# Appended to the detector of a finding in an argument value that is not a str (bytes, a number): it
# was read as text, and an edit cannot be written back into it.
RAW_VALUE = "+raw"

_CACHE_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a verdict may depend on: the finding's kind and detector, and where it was found."""

    kind: str
    detector: str
    direction: Direction
    source: str
    trust: str
    tool: str = ""
    tool_class: ToolClass | None = None
    field: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do about one finding (or one whole check).

    ``strategy`` is how a pii/secret span is rewritten when the action lets the content pass.
    ``reported`` is False for a fact that changes nothing (a value that came from trusted content):
    it is not listed in the decision. ``applied`` marks a rewrite the finding step already made (a
    truncation to the budget), so the guard does not take it for a redact without an edit.
    """

    action: Action
    rule: str
    strategy: Strategy | None = None
    reported: bool = True
    applied: bool = False
    reason: str = ""


Matches = Callable[[Facts], bool]
Decides = Callable[[Facts], Verdict]


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the table: when it applies, and the verdict it gives."""

    name: str
    matches: Matches
    decides: Decides


def _kind_is(*names: str) -> Matches:
    wanted = frozenset(names)
    return lambda facts: facts.kind in wanted


def _kind_starts(*prefixes: str) -> Matches:
    return lambda facts: facts.kind.startswith(prefixes)


def _fixed(action: Action, rule: str) -> Decides:
    verdict = Verdict(action, rule)
    return lambda facts: verdict


def _block_or_allow(block: bool, rule: str) -> Decides:
    return _fixed(Action.BLOCK if block else Action.ALLOW, rule)


def entity_of(kind: str) -> tuple[str, str]:
    """(policy entity name, display name) for a finding kind: pii:EMAIL_ADDRESS, secret:AWS_ACCESS_KEY."""
    family, _, name = kind.partition(":")
    if family == "secret":
        return f"SECRET:{name}", f"SECRET_{name}"
    return name, name


def editable(facts: Facts) -> bool:
    """Whether an in-place edit can reach the finding's span (see UNREDACTABLE)."""
    return not facts.detector.startswith(UNREDACTABLE) and not facts.detector.endswith(("+key", RAW_VALUE))


_ARG_RULE = {"args:max_length": "max_length", "args:denied": "deny", "args:not_allowed": "allow",
             "args:min_trust": "min_trust"}


class DecisionTable:
    """The compiled, ordered, first-match table of one Policy (see the module docstring)."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._builtins = self._builtin_entries(policy)
        self.entries: tuple[Entry, ...] = (*self._user_entries(policy), *self._builtins)
        self._cache: dict[Facts, Verdict] = {}
        self._whole_cache: dict[tuple[Direction, str, str, str, ToolClass | None], Verdict | None] = {}

    # ---- lookups ---------------------------------------------------------------------------------
    def decide(self, facts: Facts) -> Verdict:
        """The verdict for one finding: the first entry that matches, then the no-edit guard."""
        cached = self._cache.get(facts)
        if cached is not None:
            return cached
        verdict = _guarded(facts, self._first(self.entries, facts))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[facts] = verdict
        return verdict

    def decide_whole(self, direction: Direction, source: str, trust: str, tool: str = "",
                     tool_class: ToolClass | None = None) -> Verdict | None:
        """The first user rule without a ``finding`` that matches the check as a whole, if any."""
        key = (direction, source, trust, tool, tool_class)
        if key in self._whole_cache:
            return self._whole_cache[key]
        policy = self._policy
        verdict = None
        for rule in policy.model.rules:
            if rule.when.finding is None and _rule_holds(policy, rule.name, None, direction, source, trust, tool,
                                                         tool_class):
                verdict = Verdict(rule.action, f"rules.{rule.name}", reason=rule.reason or f"rule rules.{rule.name}")
                break
        if len(self._whole_cache) >= _CACHE_LIMIT:
            self._whole_cache.clear()
        self._whole_cache[key] = verdict
        return verdict

    def describe(self) -> list[str]:
        """The entries' names in the order they are tried (``ctxguard policy check FILE --table``)."""
        return [e.name for e in self.entries]

    @staticmethod
    def _first(entries: tuple[Entry, ...], facts: Facts) -> Verdict:
        for entry in entries:
            if entry.matches(facts):
                return entry.decides(facts)
        raise AssertionError("the decision table ends in an entry that matches every finding")

    # ---- construction ----------------------------------------------------------------------------
    def _user_entries(self, policy: Policy) -> list[Entry]:
        out = []
        for rule in policy.model.rules:
            if rule.when.finding is None:
                continue
            name, action = rule.name, rule.action

            def matches(facts: Facts, name: str = name) -> bool:
                return _rule_holds(policy, name, facts.kind, facts.direction, facts.source, facts.trust, facts.tool,
                                   facts.tool_class)

            def decides(facts: Facts, name: str = name, action: Action = action) -> Verdict:
                # The rule sets the action; how a span is rewritten still comes from the redaction
                # section, so "redact secrets here" keeps the entity's hash or pseudonym strategy.
                builtin = self._first(self._builtins, facts)
                return Verdict(action, f"rules.{name}", _strategy_for(action, builtin.strategy),
                               applied=builtin.applied)

            out.append(Entry(f"rules.{name}", matches, decides))
        return out

    @staticmethod
    def _builtin_entries(policy: Policy) -> tuple[Entry, ...]:
        m = policy.model

        def redaction(facts: Facts) -> Verdict:
            strategy, rule = policy.strategy(entity_of(facts.kind)[0], facts.direction)
            if not editable(facts) and strategy.action is not Action.ALLOW:
                return Verdict(Action.BLOCK, rule)  # no edit can reach it: across arguments, in a view, a name
            return Verdict(strategy.action, rule, strategy)

        def provenance(facts: Facts) -> Verdict:
            action = policy.on_value_from(facts.tool, facts.kind.partition(":")[2])
            return Verdict(action, "tools.on_value_from", reported=action is not Action.ALLOW)

        def budget(facts: Facts) -> Verdict:
            if facts.kind == "budget:source":
                src = policy.budget_for_source(facts.source)
                refuse = src is not None and src.on_exceed == "refuse"
            else:
                refuse = m.budgets.on_session_exceed == "refuse"
            return Verdict(Action.BLOCK, "budgets") if refuse else Verdict(Action.REDACT, "budgets", applied=True)

        def argument_rule(facts: Facts) -> Verdict:
            return Verdict(Action.BLOCK, f"tools.tools.{facts.tool}.args.{facts.field}.{_ARG_RULE[facts.kind]}")

        def approval(facts: Facts) -> Verdict:
            return Verdict(Action.REQUIRE_APPROVAL, f"tools.tools.{facts.tool}.require_approval")

        def support(facts: Facts) -> Verdict:
            action = m.tools.unsupported_call
            return Verdict(action, "tools.unsupported_call", reported=action is not Action.ALLOW)

        return (
            Entry("redaction.entities", _kind_starts("pii:", "secret:"), redaction),
            Entry("detection.injection.on_detect", _kind_is("injection"),
                  _block_or_allow(m.detection.injection.on_detect == "block", "detection.injection.on_detect")),
            Entry("access.on_out_of_scope", _kind_starts("scope:"),
                  _block_or_allow(m.access.on_out_of_scope == "block", "access.on_out_of_scope")),
            Entry("exfiltration.block_markdown_images", _kind_is("exfil:markdown_image"),
                  _block_or_allow(m.exfiltration.block_markdown_images, "exfiltration.block_markdown_images")),
            Entry("exfiltration.allowed_domains", _kind_is("exfil:url", "exfil:destination", "exfil:dns_payload"),
                  _fixed(m.exfiltration.on_unknown_domain, "exfiltration.allowed_domains")),
            Entry("exfiltration.canary_tokens", _kind_is("exfil:canary"),
                  _fixed(Action.BLOCK, "exfiltration.canary_tokens")),
            Entry("exfiltration.confidential_from", _kind_is("exfil:confidential_copy"),
                  _fixed(Action.BLOCK, "exfiltration.confidential_from")),
            Entry("tools.tools.*.require_approval", _kind_is("tool:approval"), approval),
            Entry("tools.tools.*.args", _kind_is(*_ARG_RULE), argument_rule),
            Entry("detection.limits", _kind_starts("limits:"), _fixed(Action.BLOCK, "detection.limits")),
            Entry("tools.on_value_from", _kind_starts("provenance:"), provenance),
            Entry("budgets", _kind_is("budget:source", "budget:session"), budget),
            Entry("tools.unsupported_call", _kind_starts("support:"), support),
            # A finding from a user's detector that the policy does not name: block (fail closed).
            Entry("detection", lambda facts: True, _fixed(Action.BLOCK, "detection")),
        )


def _guarded(facts: Facts, verdict: Verdict) -> Verdict:
    """A redact with nothing to edit blocks: there is no span an edit could rewrite."""
    if verdict.action is Action.REDACT and not verdict.applied and (verdict.strategy is None or not editable(facts)):
        return Verdict(Action.BLOCK, verdict.rule, reason="cannot be redacted in place")
    return verdict


def _rule_holds(policy: Policy, name: str, kind: str | None, direction: Direction, source: str, trust: str,
                tool: str, tool_class: ToolClass | None) -> bool:
    rule = policy.rule(name)
    w, g = rule.when, policy.rule_globs(name)
    if kind is not None and g["finding"] is not None and not g["finding"].matches(kind):
        return False
    if w.direction is not None and direction not in w.direction:
        return False
    if g["source"] is not None and not g["source"].matches(source):
        return False
    if w.trust_at_or_below is not None and not policy.trust.at_most(trust, w.trust_at_or_below):
        return False
    if g["tool"] is not None and not (tool and g["tool"].matches(tool)):
        return False
    return w.tool_class is None or tool_class is w.tool_class


def _strategy_for(action: Action, current: Strategy | None) -> Strategy | None:
    """The span strategy under a rule's action: allow keeps the text, redact keeps the entity's own
    redacting strategy (hash, pseudonym, mask) or falls back to plain redaction."""
    if current is None:
        return None
    if action is Action.ALLOW:
        return Strategy.ALLOW
    if action is Action.REDACT:
        return current if current.action is Action.REDACT else Strategy.REDACT
    return current

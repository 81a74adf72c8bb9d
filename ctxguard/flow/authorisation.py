"""The session's side of tool-call authorisation: what the request, the segments and the tools say.

``ctxguard.flow.request`` reads the request and ``ctxguard.flow.support.authorise`` decides; this
module gathers what they need from a session (the trusted texts, the destinations of a call and
whether the request points to where each came from, the tools' descriptions), asks the judge when the
decision is ambiguous, and turns a refusal into the finding the policy acts on
(``tools.unsupported_call``). It also answers, for admission, whether the request delegates to a
piece of content (``tools.delegation: allow``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._patterns import compile_linear
from ..decision import Action, Finding
from ..judge import Judge, JudgeRequest, judge_says_yes
from ..labels import Label
from ..policy.compiled import Policy, canonical_tool_name
from .destinations import destination_items, is_destination
from .provenance import SegmentStore, fold, is_identifier
from .request import Request, RequestReader
from .support import Destination, ToolSpec, authorise, points_to_source

_PATH = compile_linear(r"(?:~|\.{1,2})?/[^\s/]+(?:/[^\s/]*)*|[A-Za-z]:\\[^\s]+")


def is_path(value: str) -> bool:
    """A file-system path: what a delete, move or share acts on, and so a target to ground."""
    v = value.strip()
    return 2 < len(v) <= 4096 and "\n" not in v and _PATH.fullmatch(v) is not None


class Authoriser:
    """One session's authorisation: its segments, its policy, the firewall's request reader and judge."""

    def __init__(self, segments: SegmentStore, policy: Policy, requests: RequestReader, judge: Judge | None) -> None:
        self.segments = segments
        self.policy = policy
        self.requests = requests
        self.judge = judge
        self.tool_specs: dict[str, ToolSpec] = {}

    def describe(self, specs: Iterable[ToolSpec | Mapping[str, Any]]) -> None:
        for spec in specs:
            if isinstance(spec, Mapping):
                spec = ToolSpec(str(spec.get("name", "")), str(spec.get("description", "") or ""),
                                tuple(str(p) for p in (spec.get("parameters") or ())))
            if not isinstance(spec, ToolSpec):
                raise TypeError(f"a tool spec must be a ToolSpec or a mapping, not {type(spec).__name__}")
            self.tool_specs[canonical_tool_name(spec.name)] = spec

    def _trusted(self) -> tuple[list[str], list[str]]:
        """The user's and system's own words: folded (for value matching) and as written (to parse)."""
        level = self.policy.trust_for_source("user")
        trust = self.policy.trust
        return self.segments.texts_at_or_above(level, trust), self.segments.raw_texts_at_or_above(level, trust)

    def delegated_to(self, body: str, label: Label) -> bool:
        """Whether the request delegates to this content ("do what Carla's e-mail says") and the policy
        lets it (``tools.delegation: allow``): the request names it (a referent in its text) or its kind."""
        if self.policy.model.tools.delegation != "allow":
            return False
        request = self.requests.read(self._trusted()[1])
        if not request.delegates:
            return False
        folded = fold(body)
        return any(r in folded for r in request.referents) or points_to_source(request.referents, label.source)

    def findings(self, tool: str, values: list[tuple[str, str]]) -> list[Finding]:
        """A side-effect call the user's request does not ask for, while untrusted content is in the
        context: the second signal beside provenance. Empty when the call is supported."""
        tools = self.policy.model.tools
        if tools.unsupported_call is Action.ALLOW:
            return []  # nothing would come of the finding: skip parsing the request
        trust = self.policy.trust
        untrusted = self.policy.model.trust.default
        lows = {v: self.segments.lowest_trust(v, trust)[0] for _, v in values}
        from_untrusted = {v for v, low in lows.items() if low is not None and trust.at_most(low, untrusted)}
        if tools.check_support_when == "untrusted":
            tainted = self.segments.has_at_or_below(untrusted, trust)
        else:
            tainted = self.segments.has_hostile or bool(from_untrusted)
        if not tainted:
            return []
        trusted, raw = self._trusted()
        request = self.requests.read(raw)
        destinations = self._destinations(values, lows, request, trusted)
        spec = self.tool_specs.get(canonical_tool_name(tool)) or ToolSpec(tool)
        auth = authorise(spec, values, request, trusted, destinations, delegation=tools.delegation)
        if auth.supported:
            return []
        why = auth.why.split(":")[0]
        if auth.ambiguous and self.judge is not None:
            asked = JudgeRequest(tuple(raw), tool, tuple(p for p, _ in values), auth.why)
            yes, note = judge_says_yes(self.judge, asked)
            if yes:
                return []
            why += "+judge_failed" if "failed" in note else "+judge_no"
        return [Finding(f"support:{why}", "support:unsupported", 0, 0, 1.0)]

    def _destinations(self, values: list[tuple[str, str]], lows: dict[str, str | None], request: Request,
                      trusted: list[str]) -> list[Destination]:
        """Where the call sends data or money (an address or URL argument, a single identifier such as
        an IBAN, a path), item by item, with where each came from and whether the request points there."""
        trust = self.policy.trust
        untrusted = self.policy.model.trust.default
        out: list[Destination] = []
        for path, value in values:
            if not (is_destination(path, value) or is_identifier(value) or is_path(value)):
                continue
            # Each address or URL of a list on its own: "tom@..., lena@..." is three destinations.
            for item in destination_items(value):
                low = self.segments.lowest_trust(item, trust)[0] if item != value else lows[value]
                found = [(label, w) for label, w in self.segments.windows(item)
                         if trust.at_most(label.trust, untrusted)]
                sole = self.segments.sole_in(item, request.wanted_objects)
                pointed = (any(r in w for _, w in found for r in request.referents)
                           or any(trust.at_most(label.trust, untrusted) for label in sole)
                           # "everyone on his email": a role in content of the kind the request names.
                           or (bool(request.roles)
                               and any(points_to_source(request.referents, label.source) for label, _ in found)))
                out.append(Destination(path, item, low is not None and trust.at_most(low, untrusted),
                                       any(fold(item) in t for t in trusted), pointed))
        return out

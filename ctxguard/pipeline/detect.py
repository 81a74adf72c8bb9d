"""Detect steps: each appends findings to the check and decides nothing.

What a finding means (block, redact, ask) is the decision table's answer; a step here only says
what is there, where, and which check saw it. The one exception is ``fit_budget``, which truncates
the text to a token budget before the detectors read it, and says so in a ``budget:`` finding.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..decision import Direction, Finding
from ..detect.base import Detector
from ..detect.decode import scan_with_decoding
from ..detect.normalize import normalize
from ..detect.views import concealed_views
from ..flow.exfil import canary_findings, destination_hosts, host_allowed, url_findings
from ..policy.compiled import Glob
from ..policy.schema import ToolClass
from ..policy.table import RAW_VALUE, SPLIT_DETECTOR, VIEW_DETECTOR
from .arguments import keys, names_destination, non_text_paths, top_name
from .check import Check

if TYPE_CHECKING:
    from ..session import Session

# Encoded payloads decoded and scanned per check; past this the check reports limits:decode (blocks).
MAX_DECODED_SPANS = 256
# How much of the previous untrusted output and of the next one are read together for a split instruction.
STRADDLE_CHARS = 300
STRADDLE_LINES = 2


# ---- steps ------------------------------------------------------------------------------------------
def scope(session: Session, check: Check) -> None:
    """Content outside the session's tenant or clearance (one rule with retrieval: ctxguard.scope.Scope;
    a label that failed verification proves nothing about its tenant, whatever it claims)."""
    check.findings += [Finding("scope", f"scope:{v}", 0, 0, 1.0) for v in session.scope().violations(check.labelled)]


def fit_budget(session: Session, check: Check) -> None:
    """Token budgets: a text over its source's or the session's budget is truncated (``on_exceed:
    truncate``) or refused (``refuse``); either way a ``budget:`` finding says so."""
    budgets = session.policy.model.budgets
    src = session.policy.budget_for_source(check.source)
    if src is None and budgets.session_max_tokens is None:
        return
    tok = session.firewall.tokenizer
    text = check.body
    n = tok.count(text)
    limits: list[tuple[int, str, str]] = []
    if src is not None:
        limits.append((src.max_tokens, src.on_exceed, "budget:source"))
    remaining = session.budget.remaining(check.source, None)
    if remaining is not None:
        limits.append((remaining, budgets.on_session_exceed, "budget:session"))
    for limit, on_exceed, kind in limits:
        if n > limit:
            if on_exceed == "refuse":
                check.findings.append(Finding("budget", kind, 0, len(text), 1.0))
                break
            text = tok.truncate(text, limit)
            n = tok.count(text)
            check.findings.append(Finding("budget", kind, len(text), len(text), 1.0))
    check.body, check.tokens = text, n


def content(session: Session, check: Check) -> None:
    """PII and secrets in the text (normalised, and inside encoded payloads)."""
    check.findings += content_findings(session, check.body, direction=check.direction)


def injection(session: Session, check: Check) -> None:
    """Prompt injection in content at or below ``detection.injection.scan_at_or_below``, including an
    instruction split across this text and the previous untrusted one."""
    cfg = session.policy.model.detection.injection
    det = session.firewall.injection_detector
    if det is None or not session.policy.trust.at_most(check.labelled.trust, cfg.scan_at_or_below):
        return
    text = check.body
    found = scan_with_decoding(text, det.detect, max_spans=MAX_DECODED_SPANS)
    found = [f for f in found if f.kind == "injection" and f.score >= cfg.threshold]
    found += _straddling(session.untrusted_tail, text, det, cfg.threshold) if not found else []
    session.untrusted_tail = text[-STRADDLE_CHARS:]
    check.findings += found


def output_channels(session: Session, check: Check) -> None:
    """Ways an answer can carry data out: links and images to unknown hosts, canary tokens, secrets
    in a transformed view. The user may read confidential text they are cleared for, but not ship it
    inside a link."""
    text, policy = check.body, session.policy
    check.findings += url_findings(text, policy.allowed_domains, fingerprints=session.fingerprints)
    check.findings += canary_findings(text, policy.canaries)
    check.findings += concealed_findings(session, text, "")


def argument_values(session: Session, check: Check) -> None:
    """Every argument value of a tool call, alone: content, channels, the tool's argument rules, and
    for calls with effects, where the value came from and where it sends data."""
    policy, tool = session.policy, check.tool
    tp = policy.tool(tool)
    prefetched = _prefetch(session, [v for _, v in check.values], check.direction)
    raw = non_text_paths(check.args)
    for path, value in check.values:
        # A bytes or number value is read as text, but no edit can reach it (see RAW_VALUE).
        mark = RAW_VALUE if path in raw else ""
        for f in content_findings(session, value, prefetched, direction=check.direction):
            check.findings.append(replace(f, field=path, detector=f.detector + mark))
        check.findings += url_findings(value, policy.allowed_domains, field=path)
        check.findings += canary_findings(value, policy.canaries, field=path)
        check.findings += concealed_findings(session, value, path)
        check.findings += _argument_rule_findings(session, tool, path, value)
        if tp.cls is not ToolClass.READ_ONLY:
            check.findings += _provenance_findings(session, path, value)
            if session.fingerprints.copies_in(value):
                check.findings.append(Finding("fingerprint", "exfil:confidential_copy", 0, len(value), 1.0,
                                              field=path))
        if tp.cls is ToolClass.EGRESS and names_destination(path, value, tp):
            allowed = tuple(_glob(d, True) for d in tp.destinations) or policy.allowed_domains
            if any(not host_allowed(h, allowed) for h in destination_hosts(value)):
                check.findings.append(Finding("exfil", "exfil:destination", 0, len(value), 1.0, field=path))


def split_secrets(session: Session, check: Check) -> None:
    """A secret cut across two or more arguments ("AKIAIOSF" + "ODNN7EXAMPLE"): the secrets detector
    on the values joined in order, keeping only matches that cross a boundary."""
    det = _secrets_detector(session)
    parts = [v for _, v in check.values if v]
    if det is None or len(parts) < 2:
        return
    bounds, at = [], 0
    for p in parts[:-1]:
        at += len(p)
        bounds.append(at)
    joined = normalize("".join(parts)).text
    check.findings += [Finding(SPLIT_DETECTOR, f.kind, 0, 0, f.score) for f in det.detect(joined)
                       if any(f.start < b < f.end for b in bounds)]


def argument_names(session: Session, check: Check) -> None:
    """A name is a value too: secrets, links and canaries in argument names (a key cannot be rewritten,
    so the detector is marked ``+key`` and what is found there blocks)."""
    policy = session.policy
    for key_path, key in keys(check.args):
        for f in [*concealed_findings(session, key, key_path, views=False),
                  *url_findings(key, policy.allowed_domains, field=key_path),
                  *canary_findings(key, policy.canaries, field=key_path)]:
            check.findings.append(replace(f, start=0, end=0, detector=f.detector + "+key"))


def request_support(session: Session, check: Check) -> None:
    """A call with effects that the user's request does not ask for (see ctxguard.flow.authorisation)."""
    if session.policy.tool(check.tool).cls is not ToolClass.READ_ONLY:
        check.findings += session.authoriser.findings(check.tool, check.values)


def approval_gate(session: Session, check: Check) -> None:
    """A tool the policy sends for approval whatever its arguments."""
    if session.policy.tool(check.tool).require_approval:
        check.findings.append(Finding("policy", "tool:approval", 0, 0, 1.0))


# ---- shared finders ---------------------------------------------------------------------------------
def content_findings(session: Session, text: str,
                     prefetched: list[dict[str, list[Finding]]] | None = None, *,
                     direction: Direction | None = None) -> list[Finding]:
    """PII and secrets, on the normalised text and inside encoded payloads, in original offsets.

    ``prefetched`` holds, per detector, findings already computed for some normalised texts (see
    ``_prefetch``); anything else is detected here. With ``direction``, NER runs only if the policy
    acts there on an entity only NER finds (``detection.pii.ner``).
    """
    if not text:
        return []
    detectors = session.firewall.content_detectors
    pre = prefetched or [{} for _ in detectors]
    lean = [direction is not None and _skips_ner(session, d, direction) for d in detectors]

    def detect(t: str) -> list[Finding]:
        out: list[Finding] = []
        for d, cache, skip in zip(detectors, pre, lean, strict=True):
            found = cache.get(t)
            if found is None:
                found = d.detect(t, ner=False) if skip else d.detect(t)  # type: ignore[call-arg]
            out += found
        return out

    return scan_with_decoding(text, detect, max_spans=MAX_DECODED_SPANS)


def concealed_findings(session: Session, text: str, field: str, *, views: bool = True) -> list[Finding]:
    """Secrets hidden from patterns by a whole-value transform (reversed, rot13, escapes, entities,
    character codes, base32; see detect.views), and, with ``views=False``, secrets in plain form
    (for argument names, which the content detectors do not see). Pattern detectors only. Such a
    finding cannot be redacted in place (see ctxguard.policy.table.UNREDACTABLE)."""
    det = _secrets_detector(session)
    if det is None or not text:
        return []
    forms = concealed_views(text) if views else [("name", text)]
    out: dict[str, Finding] = {}
    for name, view in forms:
        for f in det.detect(normalize(view).text):
            out.setdefault(f.kind, Finding(f"{VIEW_DETECTOR}{name}", f.kind, 0, len(text), f.score, field=field))
    return list(out.values())


def _prefetch(session: Session, texts: list[str], direction: Direction) -> list[dict[str, list[Finding]]]:
    """Per detector, findings for the normalised ``texts`` in one batched call where it can batch.

    A tool call has several arguments, each checked alone; NER costs a few milliseconds per call
    whatever the length, so one batch over all of them instead of one call each.
    """
    batchers = [getattr(d, "detect_many", None) for d in session.firewall.content_detectors]
    if sum(1 for t in texts if t) < 2 or not any(callable(b) for b in batchers):
        return [{} for _ in batchers]
    unique = list(dict.fromkeys(n for n in (normalize(t).text for t in texts if t) if n))
    return [dict(zip(unique, _with_ner(session, d, direction, many, unique), strict=True))
            if callable(many) and len(unique) > 1 else {}
            for d, many in zip(session.firewall.content_detectors, batchers, strict=True)]


def _skips_ner(session: Session, detector: Detector, direction: Direction) -> bool:
    """Whether ``detector`` may leave NER out for a text going ``direction``: it can (``ner_entities``)
    and the policy acts on none of those entities there (``detection.pii.ner``)."""
    entities = getattr(detector, "ner_entities", None)
    return entities is not None and not session.policy.ner_needed(direction, entities)


def _with_ner(session: Session, detector: Detector, direction: Direction, many: Any, texts: list[str]) -> Any:
    return many(texts, ner=False) if _skips_ner(session, detector, direction) else many(texts)


def _secrets_detector(session: Session) -> Detector | None:
    return next((d for d in session.firewall.content_detectors if d.name == "secrets"), None)


def _line_start(text: str, lines: int) -> int:
    """Where the last ``lines`` lines of ``text`` begin."""
    at = len(text.rstrip("\n"))
    for _ in range(lines):
        at = text.rfind("\n", 0, at)
        if at < 0:
            return 0
    return at + 1


def _line_end(text: str, lines: int) -> int:
    """Where the first ``lines`` lines of ``text`` end."""
    at = len(text) - len(text.lstrip("\n")) - 1
    for _ in range(lines):
        at = text.find("\n", at + 1)
        if at < 0:
            return len(text)
    return at


def _straddling(tail: str, text: str, det: Detector, threshold: float) -> list[Finding]:
    """An instruction split over two untrusted outputs ("... when you finish, send" / "the inbox to
    x@evil"): the end of the previous one and the start of this one are read together, and a
    finding that crosses the seam marks the start of this text. Bounded: STRADDLE_CHARS each side."""
    if not tail:
        return []
    # Only the lines at the seam can hold an instruction cut by it (every signature and sentence unit
    # stops at a line break, and the model's pairs join neighbouring units): the last two lines of the
    # previous output and the first two of this one, within STRADDLE_CHARS each.
    tail = tail[_line_start(tail, STRADDLE_LINES):]
    head = text[:STRADDLE_CHARS]
    head = head[:_line_end(head, STRADDLE_LINES)]
    joined = tail + " " + head  # a sentence cut in two reads as one
    seam = len(tail) + 1
    return [replace(f, detector=f.detector + "+split", start=0, end=min(len(text), f.end - seam))
            for f in det.detect(joined) if f.kind == "injection" and f.score >= threshold and f.start < seam < f.end]


def _argument_rule_findings(session: Session, tool: str, path: str, value: str) -> list[Finding]:
    rule = session.policy.tool(tool).args.get(top_name(path))
    if rule is None:
        return []
    out = []
    if rule.max_length is not None and len(value) > rule.max_length:
        out.append(Finding("args", "args:max_length", 0, len(value), 1.0, field=path))
    if rule.deny and any(_glob(p).matches(value) for p in rule.deny):
        out.append(Finding("args", "args:denied", 0, len(value), 1.0, field=path))
    if rule.allow and not any(_glob(p).matches(value) for p in rule.allow):
        out.append(Finding("args", "args:not_allowed", 0, len(value), 1.0, field=path))
    if rule.min_trust is not None:
        trust = session.policy.trust
        lowest, _ = session.segments.lowest_trust(value, trust)
        if lowest is not None and trust.rank(lowest) < trust.rank(rule.min_trust):
            out.append(Finding("args", "args:min_trust", 0, len(value), 1.0, field=path))
    return out


def _provenance_findings(session: Session, path: str, value: str) -> list[Finding]:
    """Where an argument value came from: the lowest trust of the admitted content that holds it.
    Reported for every labelled value; ``tools.on_value_from`` says which levels matter."""
    lowest, _ = session.segments.lowest_trust(value, session.policy.trust)
    if lowest is None:
        return []
    return [Finding("provenance", f"provenance:{lowest}", 0, len(value), 1.0, field=path)]


_GLOB_CACHE: dict[tuple[str, bool], Glob] = {}


def _glob(pattern: str, ignore_case: bool = False) -> Glob:
    key = (pattern, ignore_case)
    g = _GLOB_CACHE.get(key)
    if g is None:
        g = _GLOB_CACHE[key] = Glob.compile(pattern, ignore_case=ignore_case)
    return g

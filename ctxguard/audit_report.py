"""``ctxguard audit report``: one self-contained HTML page about an audit log.

What a reviewer asks of a log: is it intact, what was decided, by which rule, on which tool and
source, when, and, during a shadow-mode rollout, what enforcement *would* have blocked. The page
answers those with bar charts drawn as inline SVG (no script, no external asset: it opens offline,
and a page that fetched a charting library would be a network call) and a table of the shadow
decisions.

Everything on the page comes from the records, which hold no raw values (see ``audit``): rule
paths, finding kinds, log-safe tool names and sources, keyed hashes. It is still escaped as HTML,
because a tool name or source in a record is model-chosen text.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .audit import verify

_ACTION_COLOURS = {"allow": "#4c9a2a", "redact": "#d9a300", "require_approval": "#2f6fb0", "block": "#c0392b"}
_ACTIONS = tuple(_ACTION_COLOURS)
MAX_ROWS = 20  # bars per chart; the rest are summed into one "other" bar
MAX_SHADOW_ROWS = 500


@dataclass
class Summary:
    """The counts the page draws, read from the records."""

    decisions: int = 0
    records: int = 0
    unreadable: int = 0
    by_rule: dict[str, Counter[str]] = field(default_factory=dict)
    by_tool: dict[str, Counter[str]] = field(default_factory=dict)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    by_hour: dict[str, Counter[str]] = field(default_factory=dict)
    by_kind: Counter[str] = field(default_factory=Counter)
    shadow: list[dict[str, Any]] = field(default_factory=list)  # would have blocked or asked for approval
    shadow_rewrites: int = 0  # would have redacted

    def add(self, record: Mapping[str, Any]) -> None:
        self.records += 1
        event = record.get("event")
        if not isinstance(event, Mapping) or event.get("type") not in ("decision", "approval"):
            return
        decision = event.get("decision")
        if not isinstance(decision, Mapping):
            return
        action = str(decision.get("action", "?"))
        self.decisions += 1
        rule = str(decision.get("rule") or "(no finding)")
        tool = str(event.get("tool") or decision.get("tool") or "")
        source = str(event.get("source") or "").split(":", 1)[0] or "(none)"
        when = _when(record.get("ts"))
        hour = time.strftime("%Y-%m-%d %H:00", when)
        _count(self.by_rule, rule, action)
        if tool:
            _count(self.by_tool, tool, action)
        if event.get("type") == "decision":
            _count(self.by_source, source, action)
        _count(self.by_hour, hour, action)
        for f in decision.get("findings") or []:
            if isinstance(f, Mapping):
                self.by_kind[str(f.get("kind", "?"))] += 1
        if decision.get("enforced") is False and action == "redact":
            self.shadow_rewrites += 1
        elif decision.get("enforced") is False and action != "allow" and len(self.shadow) < MAX_SHADOW_ROWS:
            self.shadow.append({
                "seq": record.get("seq"), "time": time.strftime("%Y-%m-%d %H:%M:%S", when), "op": event.get("op", ""),
                "tool": tool, "source": event.get("source", ""), "action": action, "rule": rule,
                "reason": decision.get("reason", ""),
            })


def _when(ts: object) -> time.struct_time:
    """A record's time; one that is not a number (a damaged record) reads as the epoch."""
    try:
        return time.gmtime(float(ts))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return time.gmtime(0)


def _count(table: dict[str, Counter[str]], key: str, action: str) -> None:
    table.setdefault(key, Counter())[action] += 1


def summarise(lines: Iterable[bytes]) -> Summary:
    """Counts from the log's lines; a line that is not a JSON record is counted as unreadable."""
    summary = Summary()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            summary.unreadable += 1
            continue
        if isinstance(record, Mapping):
            summary.add(record)
        else:
            summary.unreadable += 1
    return summary


def report(path: str | os.PathLike[str], *, key: bytes | None = None, require_head: bool = True) -> str:
    """The HTML page for the log at ``path`` (its integrity checked with ``audit.verify``)."""
    check = verify(path, key=key, require_head=require_head)
    with open(path, "rb") as f:
        summary = summarise(f)
    return render(summary, title=os.path.basename(os.fspath(path)), integrity=str(check), intact=check.ok)


def render(summary: Summary, *, title: str, integrity: str, intact: bool) -> str:
    esc = html.escape
    status = "intact" if intact else "NOT INTACT"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>ctxguard audit report: {esc(title)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
        "h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}"
        ".bad{color:#c0392b;font-weight:bold}.ok{color:#4c9a2a;font-weight:bold}"
        ".legend span{display:inline-block;margin-right:14px}.sw{width:12px;height:12px;display:inline-block;"
        "margin-right:4px;vertical-align:middle}</style></head><body>",
        f"<h1>ctxguard audit report: {esc(title)}</h1>",
        f"<p id='integrity'>Log <span class='{'ok' if intact else 'bad'}'>{status}</span>: "
        f"<code>{esc(integrity)}</code></p>",
        f"<p id='totals'>{summary.records} records, {summary.decisions} decisions"
        f"{f', {summary.unreadable} unreadable lines' if summary.unreadable else ''}.</p>",
        "<p class='legend'>" + "".join(f"<span><i class='sw' style='background:{c}'></i>{a}</span>"
                                       for a, c in _ACTION_COLOURS.items()) + "</p>",
        _chart("Decisions by rule", "by-rule", summary.by_rule),
        _chart("Decisions by tool", "by-tool", summary.by_tool),
        _chart("Decisions by source", "by-source", summary.by_source),
        _chart("Decisions by hour (UTC)", "by-hour", summary.by_hour, keep_order=True),
        "<h2>Finding kinds</h2><table id='kinds'><tr><th>kind</th><th>findings</th></tr>"
        + "".join(f"<tr><td>{esc(k)}</td><td>{n}</td></tr>" for k, n in summary.by_kind.most_common(MAX_ROWS * 2))
        + "</table>",
        _shadow_table(summary.shadow, summary.shadow_rewrites),
        "</body></html>",
    ]
    return "\n".join(parts)


def _chart(title: str, ident: str, table: Mapping[str, Counter[str]], *, keep_order: bool = False) -> str:
    """Horizontal stacked bars, one per key, split by action."""
    esc = html.escape
    rows = sorted(table.items()) if keep_order else sorted(table.items(), key=lambda kv: -sum(kv[1].values()))
    if len(rows) > MAX_ROWS:
        other: Counter[str] = Counter()
        for _, c in rows[MAX_ROWS - 1:]:
            other.update(c)
        rows = [*rows[:MAX_ROWS - 1], (f"({len(rows) - MAX_ROWS + 1} others)", other)]
    if not rows:
        return f"<h2>{esc(title)}</h2><p id='{ident}'>none</p>"
    top = max(sum(c.values()) for _, c in rows)
    label_w, bar_w, row_h = 330, 600, 22
    svg = [f"<svg id='{ident}' role='img' aria-label='{esc(title)}' width='{label_w + bar_w + 60}' "
           f"height='{row_h * len(rows) + 10}' xmlns='http://www.w3.org/2000/svg'>"]
    for i, (key, counts) in enumerate(rows):
        y = 5 + i * row_h
        shown = key if len(key) <= 48 else key[:45] + "..."
        svg.append(f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end' font-size='12'>{esc(shown)}</text>")
        x = float(label_w)
        for action in (*_ACTIONS, *sorted(set(counts) - set(_ACTIONS))):
            n = counts.get(action, 0)
            if not n:
                continue
            w = bar_w * n / top
            colour = _ACTION_COLOURS.get(action, "#888")
            svg.append(f"<rect x='{x:.1f}' y='{y + 3}' width='{max(w, 1):.1f}' height='{row_h - 6}' "
                       f"fill='{colour}'><title>{esc(key)}: {n} {esc(action)}</title></rect>")
            x += w
        svg.append(f"<text x='{x + 6:.1f}' y='{y + 15}' font-size='12'>{sum(counts.values())}</text>")
    svg.append("</svg>")
    return f"<h2>{esc(title)}</h2>" + "".join(svg)


def _shadow_table(rows: list[dict[str, Any]], rewrites: int) -> str:
    esc = html.escape
    head = ("<h2>Shadow mode: would have blocked</h2>"
            "<p>Decisions made with <code>mode: shadow</code> that enforcement would have blocked or held for "
            f"approval (and <span id='shadow-rewrites'>{rewrites}</span> it would have let through redacted).</p>")
    if not rows:
        return head + "<p id='shadow'>none</p>"
    cols = ("seq", "time", "op", "tool", "source", "action", "rule", "reason")
    out = [head, "<table id='shadow'><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{esc(str(r.get(c, '')))}</td>" for c in cols) + "</tr>")
    out.append("</table>")
    return "".join(out)

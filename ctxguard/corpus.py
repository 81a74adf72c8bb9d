"""Corpus scanning before indexing: files, folders and JSONL, in one process or on Ray Data.

A corpus is redacted and labelled once, before it goes into a vector store, so nothing the policy
would refuse is ever embedded. ``read_items`` turns a path into items (a whole file, or one JSONL
record's text field); ``CorpusScanner`` is the stateful worker (one Firewall, whose Presidio and
spaCy load once per worker, not once per item); ``scan_local`` runs it in this process and
``scan_ray`` on Ray Data (``map_batches`` with the scanner as a stateful class, one actor per
worker). Results hold finding kinds, offsets, rule and reason, and the redacted text; never a
matched value. ``to_sarif`` writes them as SARIF 2.1.0 for code-scanning tools.

Ray is an optional extra (``ctxguard[ray]``). It runs a local cluster on loopback; its usage-stats
report, which would phone home, is switched off before it starts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .decision import Action, Decision, Direction

MAX_FILE_BYTES = 20_000_000
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class Item:
    """One text to scan: a whole file (``line`` 0) or the text field of one JSONL record (its line)."""

    path: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    line: int
    why: str


def read_items(path: str, *, field: str = "text") -> Iterator[Item | Skipped]:
    """The items under ``path``: stdin (``-``), a file, every file under a folder; JSONL files give
    one item per record, read from ``field``. What cannot be read is a ``Skipped``, never dropped."""
    if path == "-":
        yield Item("<stdin>", 0, sys.stdin.read())
        return
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        yield from _file_items(f, field)


def _file_items(f: Path, field: str) -> Iterator[Item | Skipped]:
    try:
        if f.stat().st_size > MAX_FILE_BYTES:
            yield Skipped(str(f), 0, f"larger than {MAX_FILE_BYTES} bytes")
            return
        raw = f.read_bytes()
    except OSError as exc:
        yield Skipped(str(f), 0, f"unreadable: {exc.strerror}")
        return
    if f.suffix.lower() not in JSONL_SUFFIXES:
        if b"\x00" in raw[:8192]:
            yield Skipped(str(f), 0, "binary")
        else:
            yield Item(str(f), 0, raw.decode("utf-8", errors="replace"))
        return
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            yield Skipped(str(f), n, "not a JSON record")
            continue
        value = record.get(field) if isinstance(record, dict) else None
        if not isinstance(value, str):
            yield Skipped(str(f), n, f"no string field {field!r}")
            continue
        yield Item(str(f), n, value)


RESULT_KEYS = ("path", "line", "action", "rule", "reason", "record", "findings", "text", "chars")


def result_of(item: Item, decision: Decision) -> dict[str, Any]:
    """A scan result as a flat, log-safe record (findings as kinds and offsets, never values)."""
    return {
        "path": item.path, "line": item.line, "action": decision.action.value, "rule": decision.rule,
        "reason": decision.reason, "record": decision.record_id,
        "findings": json.dumps([[f.kind, f.start, f.end] for f in decision.findings]),
        "text": decision.text, "chars": len(item.text),
    }


class CorpusScanner:
    """The stateful scanner one worker holds: its own Firewall, built from the policy's YAML text."""

    def __init__(self, policy_yaml: str | None = None, *, source: str = "file",
                 direction: str = Direction.INTO_MODEL.value, audit: str | None = None) -> None:
        from .firewall import Firewall
        from .policy import Policy

        policy = Policy.from_yaml(policy_yaml, source="<scan policy>") if policy_yaml else Policy.default()
        self.firewall = Firewall(policy, audit=audit)
        self.source, self.direction = source, Direction(direction)

    def scan(self, item: Item) -> dict[str, Any]:
        return result_of(item, self.firewall.scan(item.text, source=self.source, direction=self.direction))

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Ray Data's ``map_batches`` form: a batch of columns in, a batch of result columns out."""
        rows = [self.scan(Item(str(p), int(n), str(t)))
                for p, n, t in zip(batch["path"], batch["line"], batch["text"], strict=True)]
        return {key: [r[key] for r in rows] for key in RESULT_KEYS}


def scan_local(items: Iterable[Item], scanner: CorpusScanner) -> Iterator[dict[str, Any]]:
    for item in items:
        yield scanner.scan(item)


def scan_ray(items: list[Item], *, policy_yaml: str | None, source: str, direction: str, workers: int,
             batch_size: int = 32) -> Iterator[dict[str, Any]]:
    """The same scan on Ray Data: one ``CorpusScanner`` actor per worker, results in input order."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report to Ray's servers
    try:
        import ray
    except ImportError as exc:
        from .errors import ConfigurationError

        raise ConfigurationError("the ray engine needs Ray: pip install 'ctxguard[ray]'") from exc
    if not items:
        return iter(())
    started = not ray.is_initialized()
    if started:
        # A local cluster on loopback only: no dashboard, workers' logs kept out of the driver's output.
        # One math-library thread per worker: the workers are the parallelism, and BLAS threads of
        # several workers on the same cores only contend.
        threads = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 _node_ip_address="127.0.0.1", runtime_env={"env_vars": threads})
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ds = ray.data.from_items([asdict(i) for i in items], override_num_blocks=max(workers * 4, 1))
        out = ds.map_batches(CorpusScanner, fn_constructor_kwargs={
            "policy_yaml": policy_yaml, "source": source, "direction": direction},
            concurrency=workers, batch_size=batch_size, batch_format="numpy")
        rows = [dict(r) for r in out.iter_rows()]
    finally:
        if started:
            ray.shutdown()
    return iter(sorted(rows, key=lambda r: (str(r["path"]), int(r["line"]))))


def to_sarif(results: Iterable[Mapping[str, Any]], *, version: str = "") -> dict[str, Any]:
    """SARIF 2.1.0: one result per finding that the policy does not simply allow, located by file and
    line (and character offsets within the scanned text). No snippet: the matched value stays out."""
    rules: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for r in results:
        action = str(r["action"])
        if action == Action.ALLOW.value:
            continue
        level = "error" if action in (Action.BLOCK.value, Action.REQUIRE_APPROVAL.value) else "warning"
        for kind, start, end in json.loads(str(r["findings"])):
            rules.setdefault(kind, {"id": kind, "shortDescription": {"text": f"ctxguard finding {kind}"}})
            region: dict[str, Any] = {"startLine": int(r["line"])} if int(r["line"]) else {}
            out.append({
                "ruleId": kind, "level": level,
                "message": {"text": f"{kind}: {action} ({r['rule'] or 'policy'})"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": Path(str(r["path"])).as_posix()},
                    **({"region": region} if region else {}),
                }}],
                "properties": {"action": action, "charOffset": int(start), "charLength": int(end) - int(start)},
            })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "ctxguard", "version": version or "0", "rules": list(rules.values())}},
                  "results": out}],
    }

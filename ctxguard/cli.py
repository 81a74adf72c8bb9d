"""The ``ctxguard`` command: scan, policy check/schema/default, audit verify/report, demo.

Exit codes are part of the interface, so scripts can rely on them:

    0  clean: nothing to act on (scan), policy valid, audit log intact
    1  scan found content that the policy rewrites (redacted or pseudonymised)
    2  usage error (bad arguments, unreadable input)
    3  scan found content the policy blocks or sends for approval
    4  the policy is invalid
    5  the audit log failed verification
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from .audit import verify
from .decision import Action, Decision, Direction
from .errors import ConfigurationError, PolicyError
from .firewall import Firewall
from .policy import Policy, PolicyModel

EXIT_OK = 0
EXIT_REDACTED = 1
EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_POLICY_INVALID = 4
EXIT_AUDIT_FAILED = 5

MAX_FILE_BYTES = 20_000_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits with 2 too; keep its message, our code
        self.print_usage(sys.stderr)
        print(f"ctxguard: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ctxguard", description="Context-and-memory firewall for LLM agents.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser("scan", help="scan a file, a directory or stdin; print the redacted text or findings")
    scan.add_argument("path", nargs="?", default="-", help="file, directory, or - for stdin (default)")
    scan.add_argument("--policy", help="policy YAML (default: the built-in policy)")
    scan.add_argument("--json", action="store_true", help="print findings as JSON (one object per input)")
    scan.add_argument("--source", default="file", help="source name for trust lookup (default: file)")
    scan.add_argument("--direction", default="into_model", choices=[d.value for d in Direction])
    scan.add_argument("--audit", help="append decisions to this audit log")
    scan.add_argument("--quiet", action="store_true", help="no progress bar")

    pol = sub.add_parser("policy", help="check a policy, print its JSON Schema or the default policy")
    psub = pol.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    check = psub.add_parser("check", help="validate a policy file; report every problem with its line")
    check.add_argument("file")
    check.add_argument("--table", action="store_true",
                       help="also print the compiled decision table, in the order its entries are tried")
    psub.add_parser("schema", help="print the policy JSON Schema (for editor completion)")
    psub.add_parser("default", help="print the built-in default policy as YAML")

    aud = sub.add_parser("audit", help="audit log tools")
    asub = aud.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    ver = asub.add_parser("verify", help="verify an audit log's hash chain; name any altered record")
    ver.add_argument("file")
    ver.add_argument("--key-env", default="CTXGUARD_AUDIT_KEY", help="variable holding the HMAC key, if keyed")
    ver.add_argument("--no-head", action="store_true", help="accept a log without its .head file")
    rep = asub.add_parser("report", help="write an HTML page: integrity, decisions by rule, tool, source and "
                                         "time, and shadow mode's would-have-blocked list")
    rep.add_argument("file")
    rep.add_argument("--out", default="ctxguard-audit-report.html", help="where to write the page")
    rep.add_argument("--key-env", default="CTXGUARD_AUDIT_KEY", help="variable holding the HMAC key, if keyed")
    rep.add_argument("--no-head", action="store_true", help="accept a log without its .head file")

    demo = sub.add_parser("demo", help="run a scripted agent session offline and show what ctxguard does")
    demo.add_argument("--audit", help="keep the demo's audit log at this path (default: a temporary file)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "policy":
            return _policy(args)
        if args.command == "audit":
            return _audit(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(audit_path=args.audit)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return EXIT_POLICY_INVALID
    except ConfigurationError as exc:
        print(f"ctxguard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


# ---- scan -----------------------------------------------------------------------------------------------
def _inputs(path: str) -> Iterator[tuple[str, str | None, str]]:
    """(name, text or None, why skipped) for stdin, a file, or every file under a directory."""
    if path == "-":
        yield "<stdin>", sys.stdin.read(), ""
        return
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        yield str(f), *_read_text(f)


def _read_text(f: Path) -> tuple[str | None, str]:
    try:
        if f.stat().st_size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES} bytes"
        raw = f.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"
    if b"\x00" in raw[:8192]:
        return None, "binary"
    return raw.decode("utf-8", errors="replace"), ""


def _count_files(path: str) -> int:
    p = Path(path)
    return sum(1 for f in p.rglob("*") if f.is_file()) if p.is_dir() else 1


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal (logs stay clean)."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = enabled and total > 1 and stream.isatty()

    def step(self, name: str) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            label = name[-40:]
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label:<40}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def _scan(args: argparse.Namespace) -> int:
    policy = Policy.from_file(args.policy) if args.policy else Policy.default()
    if args.path != "-" and not Path(args.path).exists():
        print(f"ctxguard: no such file or directory: {args.path}", file=sys.stderr)
        return EXIT_USAGE
    total = _count_files(args.path) if args.path != "-" else 1
    inputs = _inputs(args.path)
    worst = EXIT_OK
    progress = _Progress(total, sys.stderr, not args.quiet)
    with Firewall(policy, audit=args.audit) as fw:
        multi = args.path != "-" and Path(args.path).is_dir()
        for name, text, skipped in inputs:
            progress.step(name)
            if text is None:
                print(f"ctxguard: skipped {name}: {skipped}", file=sys.stderr)
                continue
            decision = fw.scan(text, source=args.source, direction=args.direction)
            worst = max(worst, _exit_for(decision), key=_exit_rank)
            if args.json:
                print(json.dumps({"path": name, **decision.summary(), "record": decision.record_id},
                                 sort_keys=True))
            else:
                if multi:
                    print(f"==> {name} [{decision.action.value}] <==")
                if decision.action is Action.BLOCK:
                    print(f"[blocked: {decision.reason}]")
                else:
                    sys.stdout.write(decision.text if decision.text.endswith("\n") or not decision.text
                                     else decision.text + "\n")
    progress.close()
    return worst


def _exit_for(d: Decision) -> int:
    if d.action in (Action.BLOCK, Action.REQUIRE_APPROVAL):
        return EXIT_BLOCKED
    if d.action is Action.REDACT:
        return EXIT_REDACTED
    return EXIT_OK


def _exit_rank(code: int) -> int:
    return {EXIT_OK: 0, EXIT_REDACTED: 1, EXIT_BLOCKED: 2}[code]


# ---- policy -----------------------------------------------------------------------------------------------
def _policy(args: argparse.Namespace) -> int:
    if args.policy_command == "schema":
        print(json.dumps(PolicyModel.model_json_schema(by_alias=True), indent=2, sort_keys=True))
        return EXIT_OK
    if args.policy_command == "default":
        import yaml

        data = PolicyModel().model_dump(mode="json", by_alias=True)
        print("# ctxguard's built-in default policy (what Firewall() uses)")
        print(yaml.safe_dump(data, sort_keys=False), end="")
        return EXIT_OK
    try:
        policy = Policy.from_file(args.file)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(f"{args.file}: INVALID ({n} problem{'s' if n != 1 else ''})", file=sys.stderr)
        return EXIT_POLICY_INVALID
    m = policy.model
    print(f"{args.file}: OK (mode {m.mode}, on_error {m.on_error}, {len(m.tools.tools)} tools, {len(m.rules)} rules)")
    if args.table:
        print("decision table (first match wins; a redact no edit can carry out blocks):")
        for i, name in enumerate(policy.decisions.describe(), 1):
            print(f"  {i:>3}. {name}")
    return EXIT_OK


# ---- audit ------------------------------------------------------------------------------------------------
def _audit(args: argparse.Namespace) -> int:
    key_value = os.environ.get(args.key_env)
    if args.audit_command == "report":
        from .audit_report import report as html_report

        try:
            page = html_report(args.file, key=key_value.encode("utf-8") if key_value else None,
                          require_head=not args.no_head)
        except FileNotFoundError:
            print(f"ctxguard: no such audit log: {args.file}", file=sys.stderr)
            return EXIT_USAGE
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"wrote {args.out}")
        return EXIT_OK
    try:
        report = verify(args.file, key=key_value.encode("utf-8") if key_value else None,
                        require_head=not args.no_head)
    except FileNotFoundError:
        print(f"ctxguard: no such audit log: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    print(report, file=sys.stdout if report.ok else sys.stderr)
    return EXIT_OK if report.ok else EXIT_AUDIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

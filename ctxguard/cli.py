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
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .audit import verify
from .decision import Action, Direction
from .errors import ConfigurationError, PolicyError
from .policy import Policy, PolicyModel

EXIT_OK = 0
EXIT_REDACTED = 1
EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_POLICY_INVALID = 4
EXIT_AUDIT_FAILED = 5



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
    scan.add_argument("--format", choices=["text", "json", "sarif"], default=None,
                      help="text (the redacted text), json (one object per input) or sarif (SARIF 2.1.0)")
    scan.add_argument("--engine", choices=["local", "ray"], default="local",
                      help="local (this process) or ray (Ray Data, one worker per --workers)")
    scan.add_argument("--workers", type=int, default=2, help="Ray workers (default 2)")
    scan.add_argument("--field", default="text", help="the text field of JSONL records (default: text)")
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
def _scan(args: argparse.Namespace) -> int:
    from .corpus import CorpusScanner, Item, Skipped, read_items, scan_local, scan_ray, to_sarif

    fmt = args.format or ("json" if args.json else "text")
    if args.policy:
        Policy.from_file(args.policy)  # a bad policy is reported with its lines before any work
    policy_yaml = Path(args.policy).read_text(encoding="utf-8") if args.policy else None
    if args.path != "-" and not Path(args.path).exists():
        print(f"ctxguard: no such file or directory: {args.path}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1:
        print("ctxguard: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    items: list[Item] = []
    for got in read_items(args.path, field=args.field):
        if isinstance(got, Skipped):
            where = f"{got.path}:{got.line}" if got.line else got.path
            print(f"ctxguard: skipped {where}: {got.why}", file=sys.stderr)
        else:
            items.append(got)
    if args.engine == "ray":
        results = list(scan_ray(items, policy_yaml=policy_yaml, source=args.source, direction=args.direction,
                                workers=args.workers))
    else:
        scanner = CorpusScanner(policy_yaml, source=args.source, direction=args.direction, audit=args.audit)
        with _progress(len(items), enabled=not args.quiet) as advance:
            results = []
            for r in scan_local(items, scanner):
                results.append(r)
                advance()
        scanner.firewall.close()
    worst = EXIT_OK
    multi = len(items) > 1 or any(i.line for i in items)
    for r in results:
        worst = max(worst, _exit_for_action(Action(r["action"])), key=_exit_rank)
        if fmt == "json":
            kinds = [{"kind": k, "start": a, "end": b} for k, a, b in json.loads(r["findings"])]
            print(json.dumps({**{k: r[k] for k in ("path", "line", "action", "rule", "reason", "record")},
                              "findings": kinds}, sort_keys=True))
        elif fmt == "text":
            if multi:
                where = f"{r['path']}:{r['line']}" if r["line"] else r["path"]
                print(f"==> {where} [{r['action']}] <==")
            if r["action"] == Action.BLOCK.value:
                print(f"[blocked: {r['reason']}]")
            else:
                text = str(r["text"])
                sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    if fmt == "sarif":
        from . import __version__

        print(json.dumps(to_sarif(results, version=__version__), indent=2))
    return worst


@contextlib.contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress bar (rich) on stderr, only when stderr is a terminal: logs and pipes stay clean."""
    if not (enabled and total > 1 and sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("scanning", total=total)
        yield lambda: bar.advance(task)


def _exit_for_action(action: Action) -> int:
    if action in (Action.BLOCK, Action.REQUIRE_APPROVAL):
        return EXIT_BLOCKED
    if action is Action.REDACT:
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
    key = key_value.encode("utf-8") if key_value else None
    try:
        if args.audit_command == "report":
            from .audit_report import report as html_report

            page = html_report(args.file, key=key, require_head=not args.no_head)
        else:
            report = verify(args.file, key=key, require_head=not args.no_head)
    except FileNotFoundError:
        print(f"ctxguard: no such audit log: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    if args.audit_command == "report":
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"wrote {args.out}")
        return EXIT_OK
    print(report, file=sys.stdout if report.ok else sys.stderr)
    return EXIT_OK if report.ok else EXIT_AUDIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

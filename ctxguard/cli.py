"""The ``ctxguard`` command: scan, policy check/schema/default, audit verify/report/export, approvals
list/answer, demo.

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
from .errors import ConfigurationError, PolicyError, StateUnavailable
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
    rep = asub.add_parser("report", help="write an HTML page: integrity, decisions by rule, tool, source and "
                                         "time, and shadow mode's would-have-blocked list")
    exp = asub.add_parser("export", help="write a shared chain (Redis, PostgreSQL) out as a log file and its .head")
    for cmd in (ver, rep, exp):
        if cmd is not exp:
            cmd.add_argument("file", nargs="?", help="the audit log file (or use --policy for a shared chain)")
        cmd.add_argument("--policy", help="read the shared chain this policy's audit section names")
        cmd.add_argument("--key-env", default=None,
                         help="variable holding the HMAC key, if keyed (default: the policy's, or CTXGUARD_AUDIT_KEY)")
    for cmd in (ver, rep):
        cmd.add_argument("--no-head", action="store_true", help="accept a log without its .head file")
    rep.add_argument("--out", default="ctxguard-audit-report.html", help="where to write the page")
    exp.add_argument("--out", required=True, help="the log file to write (its head goes to OUT.head)")

    appr = sub.add_parser("approvals", help="the shared approval queue: list pending calls, answer one")
    apsub = appr.add_subparsers(dest="approvals_command", required=True, parser_class=_Parser)
    alist = apsub.add_parser("list", help="print the calls waiting for approval, with their arguments")
    alist.add_argument("--policy", required=True, help="the policy whose approvals.queue to read")
    alist.add_argument("--json", action="store_true", help="one JSON object per request")
    ans = apsub.add_parser("answer", help="approve, reject or edit one waiting call")
    ans.add_argument("--policy", required=True, help="the policy whose approvals.queue to answer")
    ans.add_argument("id", help="the request id, as `approvals list` prints it")
    ans.add_argument("decision", choices=["approve", "reject", "edit"])
    ans.add_argument("--args", help="for edit: the new arguments, a JSON object")
    ans.add_argument("--reason", default="", help="why (kept with the answer)")

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
        if args.command == "approvals":
            return _approvals(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(audit_path=args.audit)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return EXIT_POLICY_INVALID
    except (ConfigurationError, StateUnavailable) as exc:
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
    if args.policy is None and args.audit_command == "export":
        print("ctxguard: audit export reads a shared chain: give --policy", file=sys.stderr)
        return EXIT_USAGE
    if args.policy is not None and getattr(args, "file", None):
        print("ctxguard: give a log file or --policy, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.policy is None and not args.file:
        print("ctxguard: give the audit log file (or --policy for a shared chain)", file=sys.stderr)
        return EXIT_USAGE
    cfg = Policy.from_file(args.policy).model.audit if args.policy is not None else None
    key_value = os.environ.get(args.key_env or (cfg.key_env if cfg is not None else "CTXGUARD_AUDIT_KEY"))
    key = key_value.encode("utf-8") if key_value else None
    if cfg is not None:
        return _shared_audit(args, cfg, key)
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


def _shared_audit(args: argparse.Namespace, cfg: Any, key: bytes | None) -> int:
    """verify / report / export for a chain kept in Redis or PostgreSQL."""
    import tempfile

    from .state.backends import open_chain_store
    from .state.chain import SharedAuditLog, export

    if cfg.store == "file":
        print("ctxguard: the policy's audit store is a file: give the file instead of --policy", file=sys.stderr)
        return EXIT_USAGE
    store = open_chain_store(cfg)
    try:
        if args.audit_command == "verify":
            report = SharedAuditLog(store, key=key).verify()
            print(report, file=sys.stdout if report.ok else sys.stderr)
            return EXIT_OK if report.ok else EXIT_AUDIT_FAILED
        if args.audit_command == "export":
            count, head = export(store, args.out)
            print(f"wrote {count} records to {args.out} (head seq {head})")
            return EXIT_OK
        from .audit_report import report as html_report

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{cfg.chain}.jsonl")
            export(store, path)
            page = html_report(path, key=key, require_head=not args.no_head)
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"wrote {args.out}")
        return EXIT_OK
    finally:
        store.close()


# ---- approvals ----------------------------------------------------------------------------------------------
def _approvals(args: argparse.Namespace) -> int:
    from .state.backends import approval_key, open_queue
    from .state.queue import ApprovalDesk

    cfg = Policy.from_file(args.policy).model.approvals
    queue = open_queue(cfg)
    try:
        desk = ApprovalDesk(queue, approval_key(cfg))
        if args.approvals_command == "list":
            waiting, unreadable = desk.pending()
            for p in waiting:
                if args.json:
                    print(json.dumps({"id": p.id, "tool": p.tool, "args": dict(p.args), "reason": p.description,
                                      "rule": p.rule, "findings": list(p.findings), "expires": p.expires},
                                     default=str, ensure_ascii=False))
                else:
                    print(f"{p.id}  {p.tool}({json.dumps(dict(p.args), default=str, ensure_ascii=False)[:500]})")
                    print(f"    {p.description}")
            if unreadable:
                print(f"ctxguard: {unreadable} request(s) do not open with this key (another key, or edited)",
                      file=sys.stderr)
            return EXIT_OK
        edited: dict[str, Any] | None = None
        if args.decision == "edit":
            try:
                edited = json.loads(args.args or "")
            except ValueError:
                edited = None
            if not isinstance(edited, dict):
                print("ctxguard: edit needs --args with a JSON object", file=sys.stderr)
                return EXIT_USAGE
        if desk.answer(args.id, args.decision, args=edited, reason=args.reason):
            print(f"{args.id}: {args.decision}")
            return EXIT_OK
        print(f"ctxguard: {args.id} is not waiting (answered, expired or unknown)", file=sys.stderr)
        return EXIT_USAGE
    finally:
        queue.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

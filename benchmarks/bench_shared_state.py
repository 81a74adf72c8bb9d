"""Shared state on real servers: what Redis and PostgreSQL cost next to the single-process stores.

Needs the servers of ``.ci/start-servers`` (``eval "$(.ci/start-servers)"``): it reads
``CTXGUARD_TEST_REDIS_URL`` and ``CTXGUARD_TEST_POSTGRES_URL``. In one run, on loopback:

- audit appends per second: the file ``AuditLog`` (one writer process, as it must be; with and without
  fsync, since the servers here fsync every write: Redis ``appendfsync always``, PostgreSQL
  ``fsync=on`` with synchronous commit) against the
  shared chain in Redis and PostgreSQL with 1, 2 and 4 writer processes appending at once; every chain
  is verified afterwards and must hold every record;
- vault: ``token_for`` on new values (a store write each) and on values already issued (answered from
  the vault's own cache after the first lookup), per store: memory, SQLite, Redis, PostgreSQL;
- approval round trip: an agent thread submits a request, a reviewer thread answers as soon as it
  sees it, and the time until the agent has the answer.

    python benchmarks/bench_shared_state.py [--appends 2000] [--values 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctxguard import Action, ApprovalRequest, AuditLog, Decision, Direction, Label  # noqa: E402
from ctxguard.audit import verify  # noqa: E402
from ctxguard.policy.schema import ApprovalPolicy, AuditPolicy, VaultPolicy  # noqa: E402
from ctxguard.redact.stores import MemoryVaultStore, SQLiteVaultStore  # noqa: E402
from ctxguard.redact.vault import PseudonymVault  # noqa: E402
from ctxguard.state.backends import open_chain_store, open_queue, open_vault_store  # noqa: E402
from ctxguard.state.chain import SharedAuditLog  # noqa: E402
from ctxguard.state.queue import ApprovalDesk, QueueApprover  # noqa: E402

AUDIT_KEY = b"bench-audit-key-0123456789abcdef"
VAULT_KEY = b"bench-vault-key-0123456789abcdef"
APPROVAL_KEY = b"bench-approval-key-0123456789abc"
URL_ENV = {"redis": "CTXGUARD_TEST_REDIS_URL", "postgres": "CTXGUARD_TEST_POSTGRES_URL"}
EVENT = {"type": "decision", "op": "tool_call", "tool": "send_email", "action": "allow", "rule": "tools",
         "findings": ["pii:EMAIL_ADDRESS"], "session": "s", "principal": "p", "tenant": "acme"}

WRITER = """
import json, sys, time
sys.path.insert(0, {root!r})
from ctxguard.policy.schema import AuditPolicy
from ctxguard.state.backends import open_chain_store
from ctxguard.state.chain import SharedAuditLog
cfg = AuditPolicy.model_validate(json.loads(sys.argv[1]))
log = SharedAuditLog(open_chain_store(cfg), key={key!r})
event = json.loads(sys.argv[2]); n = int(sys.argv[3]); go = sys.argv[4]
import os
while not os.path.exists(go):
    time.sleep(0.002)
t0 = time.perf_counter()
for i in range(n):
    log.append({{**event, "i": i}})
print(time.perf_counter() - t0)
"""


def file_appends(n: int, *, fsync: bool = False) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        with AuditLog(path, key=AUDIT_KEY, fsync=fsync) as log:
            t0 = time.perf_counter()
            for i in range(n):
                log.append({**EVENT, "i": i})
            elapsed = time.perf_counter() - t0
        assert verify(path, key=AUDIT_KEY).ok
    return n / elapsed


def shared_appends(backend: str, writers: int, n: int) -> tuple[float, bool]:
    """Appends per second, all writers together, from the first start to the last finish."""
    cfg = {"store": backend, "url_env": URL_ENV[backend], "chain": uuid.uuid4().hex}
    script = WRITER.format(root=str(ROOT), key=AUDIT_KEY)
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [subprocess.Popen([sys.executable, "-c", script, json.dumps(cfg), json.dumps(EVENT), str(n), str(go)],
                                  stdout=subprocess.PIPE, text=True) for _ in range(writers)]
        time.sleep(1.5)
        t0 = time.perf_counter()
        go.write_text("go")
        for p in procs:
            p.communicate(timeout=600)
            assert p.returncode == 0
        elapsed = time.perf_counter() - t0
    store = open_chain_store(AuditPolicy.model_validate(cfg))
    report = SharedAuditLog(store, key=AUDIT_KEY).verify()
    store.close()
    return writers * n / elapsed, report.ok and report.records == writers * n


def vault_rates(store: Any, values: int) -> tuple[float, float]:
    vault = PseudonymVault(store, tenant="acme", session=uuid.uuid4().hex, key=VAULT_KEY)
    addresses = [f"person{i}@example.org" for i in range(values)]
    t0 = time.perf_counter()
    for a in addresses:
        vault.token_for("EMAIL_ADDRESS", a)
    new = values / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for a in addresses:
        vault.token_for("EMAIL_ADDRESS", a)
    again = values / (time.perf_counter() - t0)
    return new, again


def approval_round_trip(backend: str, rounds: int) -> float:
    cfg = ApprovalPolicy(queue=backend, url_env=URL_ENV[backend], name=uuid.uuid4().hex)  # type: ignore[arg-type]
    queue = open_queue(cfg)
    approver = QueueApprover(queue, APPROVAL_KEY, timeout=30)
    desk = ApprovalDesk(open_queue(cfg), APPROVAL_KEY)
    stop = threading.Event()

    def review() -> None:
        while not stop.is_set():
            waiting, _ = desk.pending()
            for p in waiting:
                desk.answer(p.id, "approve")
            time.sleep(0.005)

    t = threading.Thread(target=review, daemon=True)
    t.start()
    times = []
    label = Label.for_text("", source="model:output", trust="untrusted")
    decision = Decision(action=Action.REQUIRE_APPROVAL, text="", label=label, direction=Direction.INTO_TOOL,
                        tool="send_email")
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = approver(ApprovalRequest(tool="send_email", args={"to": "bob@acme.com"}, decision=decision))
        times.append(time.perf_counter() - t0)
        assert result.approved
    stop.set()
    t.join(2)
    queue.close()
    times.sort()
    return 1000 * times[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--appends", type=int, default=2000, help="appends per writer")
    ap.add_argument("--values", type=int, default=2000, help="vault values")
    ap.add_argument("--rounds", type=int, default=30, help="approval round trips")
    args = ap.parse_args()
    backends = [b for b in ("redis", "postgres") if os.environ.get(URL_ENV[b])]
    if not backends:
        raise SystemExit("no servers: eval \"$(.ci/start-servers)\" first")
    os.environ.setdefault("CTXGUARD_VAULT_KEY", VAULT_KEY.decode())

    base = file_appends(args.appends)
    print(f"audit appends ({args.appends} per writer, keyed chain, loopback):")
    print("| store | writers | appends/s (all writers) | vs file log | chain verified, all records |")
    print("|---|---|---|---|---|")
    print(f"| file `AuditLog` | 1 | {base:,.0f} | 1.00x | yes |")
    synced = file_appends(args.appends, fsync=True)
    print(f"| file `AuditLog`, `fsync: true` (durable, as the servers here are) | 1 | {synced:,.0f} | "
          f"{synced / base:.2f}x | yes |")
    for b in backends:
        for w in (1, 2, 4):
            rate, ok = shared_appends(b, w, args.appends)
            print(f"| {b} | {w} | {rate:,.0f} | {rate / base:.2f}x | {'yes' if ok else 'NO'} |")

    print(f"\nvault token_for ({args.values} e-mail addresses):")
    print("| store | new values/s | issued values/s (cached) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        stores: list[tuple[str, Any]] = [("memory", MemoryVaultStore()),
                                         ("sqlite", SQLiteVaultStore(Path(tmp) / "v.db"))]
        for b in backends:
            stores.append((b, open_vault_store(VaultPolicy(store=b, url_env=URL_ENV[b]))[0]))  # type: ignore[arg-type]
        for name, store in stores:
            new, again = vault_rates(store, args.values)
            print(f"| {name} | {new:,.0f} | {again:,.0f} |")
            store.close()

    print(f"\napproval round trip (median of {args.rounds}; the reviewer polls every 5 ms):")
    print("| queue | ms |")
    print("|---|---|")
    for b in backends:
        print(f"| {b} | {approval_round_trip(b, args.rounds):.1f} |")


if __name__ == "__main__":
    main()

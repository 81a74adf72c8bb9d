"""Shared state on real servers: the vault, the audit chain and the approval queue in Redis and PostgreSQL,
used by several processes at once, and what happens when a server goes away.

The servers come from ``.ci/start-servers`` (Debian's redis-server and postgresql), which prints the
URLs these tests read (``CTXGUARD_TEST_REDIS_URL``, ``CTXGUARD_TEST_POSTGRES_URL``). Without them the
tests skip, unless ``CTXGUARD_REQUIRE_SERVERS=1`` (as in ``.ci/run``), where a missing server fails.
Every test works in its own namespace (a fresh chain, queue or session id), so they can share servers.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctxguard import Firewall, Policy
from ctxguard.audit import verify
from ctxguard.cli import main as cli
from ctxguard.errors import ConfigurationError, PolicyError, StateUnavailable
from ctxguard.redact.vault import PseudonymVault
from ctxguard.state.backends import open_chain_store, open_queue, open_vault_store
from ctxguard.state.chain import SharedAuditLog, export
from ctxguard.state.queue import ApprovalDesk, QueueApprover

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "state_worker.py"
KEYS = {"CTXGUARD_VAULT_KEY": "vault-key-for-tests-0123456789", "CTXGUARD_AUDIT_KEY": "audit-key-for-tests-0123456789",
        "CTXGUARD_APPROVAL_KEY": "approval-key-for-tests-012345"}
URL_ENV = {"redis": "CTXGUARD_TEST_REDIS_URL", "postgres": "CTXGUARD_TEST_POSTGRES_URL"}
REQUIRED = os.environ.get("CTXGUARD_REQUIRE_SERVERS") == "1"


def server_url(backend: str) -> str:
    url = os.environ.get(URL_ENV[backend])
    if not url:
        if REQUIRED:
            pytest.fail(f"{URL_ENV[backend]} is not set: run .ci/start-servers first")
        pytest.skip(f"no {backend} server: set {URL_ENV[backend]} (eval \"$(.ci/start-servers)\")")
    return url


@pytest.fixture(params=["redis", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    server_url(request.param)
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    return str(request.param)


def shared_policy(backend: str, *, chain: str, queue: str = "q", extra: str = "", spool: str | None = None) -> str:
    env = URL_ENV[backend]
    return f"""
redaction:
  vault: {{store: {backend}, url_env: {env}}}
audit: {{store: {backend}, url_env: {env}, chain: {chain}{', spool: ' + json.dumps(spool) if spool else ''}}}
approvals: {{queue: {backend}, url_env: {env}, name: {queue}, timeout_seconds: 20}}
{extra}
"""


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def run_workers(commands: list[list[str]], go: Path, timeout: float = 180) -> list[dict[str, Any]]:
    """Start the workers, let them load, then release them at once; return each one's JSON line."""
    env = {**os.environ, **KEYS, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(WORKER), *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT) for c in commands]
    time.sleep(1.0)
    go.write_text("go")
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err[-2000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


# --- the policy -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("section", [
    "redaction: {vault: {store: redis, url: 'redis://:hunter2@127.0.0.1:6379/0'}}",
    "audit: {store: postgres, url: 'postgresql://app:hunter2@127.0.0.1/db'}",
    "approvals: {queue: redis, url: 'redis://u:hunter2@127.0.0.1'}",
])
def test_a_password_in_the_policy_file_is_refused_and_not_repeated(section: str) -> None:
    with pytest.raises(PolicyError) as err:
        Policy.from_yaml(section)
    assert "url_env" in str(err.value)
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("section, message", [
    ("redaction: {vault: {store: redis}}", "url or url_env"),
    ("audit: {store: postgres, url: 'redis://127.0.0.1'}", "postgresql://"),
    ("audit: {store: redis, url: 'redis://127.0.0.1', path: a.jsonl}", "path is for the file store"),
    ("audit: {spool: s.jsonl}", "spool is for the redis and postgres"),
    ("approvals: {queue: postgres, url: 'postgresql://h/db', url_env: X}", "one of url or url_env"),
    ("redaction: {vault: {store: memory, url: 'redis://h'}}", "not memory"),
])
def test_bad_store_settings_are_policy_errors_with_the_field(section: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        Policy.from_yaml(section)
    assert message in str(err.value)


def test_a_shared_vault_without_its_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTXGUARD_VAULT_KEY", raising=False)
    monkeypatch.setenv("X_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(ConfigurationError, match="needs a key"):
        Firewall(Policy.from_yaml("redaction: {vault: {store: redis, url_env: X_URL}}"))


def test_an_unset_url_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_URL", raising=False)
    with pytest.raises(ConfigurationError, match="NOT_SET_URL is not set"):
        Firewall(Policy.from_yaml("audit: {store: postgres, url_env: NOT_SET_URL}"))


# --- the vault --------------------------------------------------------------------------------------------

def test_vault_store_keeps_one_token_per_value_and_one_value_per_token(backend: str) -> None:
    from ctxguard.policy.schema import VaultPolicy

    store, _ = open_vault_store(VaultPolicy(store=backend, url_env=URL_ENV[backend]))  # type: ignore[arg-type]
    scope = json.dumps(["acme", uuid.uuid4().hex])
    try:
        assert store.put(scope, "EMAIL_ADDRESS", b"d1", "<EMAIL_ADDRESS_1>", b"c1") == "<EMAIL_ADDRESS_1>"
        # the same value again: the held token, not the new one
        assert store.put(scope, "EMAIL_ADDRESS", b"d1", "<EMAIL_ADDRESS_2>", b"c2") == "<EMAIL_ADDRESS_1>"
        # another value wanting a held token: nothing stored
        assert store.put(scope, "EMAIL_ADDRESS", b"d2", "<EMAIL_ADDRESS_1>", b"c3") is None
        assert store.get_token(scope, "EMAIL_ADDRESS", b"d2") is None
        entry = store.get_entry(scope, "<EMAIL_ADDRESS_1>")
        assert entry is not None and (entry.entity, entry.digest, entry.ciphertext) == ("EMAIL_ADDRESS", b"d1", b"c1")
        assert store.has_digest(scope, b"d1") and not store.has_digest(scope, b"d2")
        assert [store.next_counter(scope, "PERSON") for _ in range(3)] == [1, 2, 3]
        assert store.tokens(scope) == ["<EMAIL_ADDRESS_1>"] and store.count(scope) == 1
        other = json.dumps(["acme", uuid.uuid4().hex])
        assert store.get_entry(other, "<EMAIL_ADDRESS_1>") is None and store.count(other) == 0
    finally:
        store.close()


def test_processes_sharing_a_vault_agree_on_every_pseudonym(backend: str, tmp_path: Path) -> None:
    policy = write(tmp_path, shared_policy(backend, chain=uuid.uuid4().hex))
    session_id = uuid.uuid4().hex
    values = ",".join(f"person{i}@example.org" for i in range(40))
    outs = run_workers([["vault", policy, session_id, str(tmp_path / "go"), values] for _ in range(4)],
                       tmp_path / "go")
    first = outs[0]["tokens"]
    assert len(set(first.values())) == 40  # one token per value
    for out in outs:
        assert out["tokens"] == first  # every process got the same token for each value
        assert out["restored"] == {t: v for v, t in first.items()}  # and can read back every other's


def test_the_shared_vault_never_holds_a_value(backend: str, tmp_path: Path) -> None:
    from ctxguard.policy.schema import VaultPolicy

    store, key = open_vault_store(VaultPolicy(store=backend, url_env=URL_ENV[backend]))  # type: ignore[arg-type]
    session = uuid.uuid4().hex
    vault = PseudonymVault(store, tenant="acme", session=session, key=key)
    token = vault.token_for("EMAIL_ADDRESS", "dana.secret@example.org")
    raw = dump_server(backend)
    store.close()
    assert token.startswith("<EMAIL_ADDRESS_")
    assert b"dana.secret" not in raw and b"example.org" not in raw
    assert len(raw) > 100  # the dump did read the entry (digest, ciphertext)


def dump_server(backend: str) -> bytes:
    """Everything the server's vault holds, as bytes (small test databases only)."""
    url = server_url(backend)
    if backend == "redis":
        import redis

        r = redis.Redis.from_url(url)
        out = []
        for k in r.scan_iter(match="ctxguard:vault:*", count=1000):
            out.append(k)
            kind = r.type(k)
            if kind == b"hash":
                for f, v in r.hgetall(k).items():
                    out += [f, v]
            elif kind == b"string":
                out.append(r.get(k) or b"")
            elif kind == b"list":
                out += r.lrange(k, 0, -1)
            elif kind == b"set":
                out += list(r.smembers(k))
        r.close()
        return b"\n".join(out)
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT scope, entity, digest, token, ciphertext FROM ctxguard_vault_entries").fetchall()
    return b"\n".join(bytes(c) if isinstance(c, bytes | memoryview) else str(c).encode() for r in rows for c in r)


# --- the audit chain --------------------------------------------------------------------------------------

def test_concurrent_writers_make_one_verifiable_chain(backend: str, tmp_path: Path) -> None:
    chain = uuid.uuid4().hex
    policy = write(tmp_path, shared_policy(backend, chain=chain))
    outs = run_workers([["audit", policy, str(w), str(tmp_path / "go"), "60"] for w in range(4)], tmp_path / "go")
    assert sum(o["appended"] for o in outs) == 240
    store = open_chain_store(Policy.from_file(policy).model.audit)
    log = SharedAuditLog(store, key=KEYS["CTXGUARD_AUDIT_KEY"].encode())
    report = log.verify()
    assert report.ok, str(report)
    records = [json.loads(line) for line in store.lines()]
    assert [r["seq"] for r in records] == list(range(len(records)))
    steps = Counter(r["event"]["worker"] for r in records if r["event"].get("type") == "worker_step")
    assert steps == {str(w): 60 for w in range(4)}
    # the writers really interleaved: one process's records are not all in one run
    order = [r["event"]["worker"] for r in records if r["event"].get("type") == "worker_step"]
    assert sum(1 for a, b in itertools.pairwise(order) if a != b) > 3
    # the export is a file log that the file verifier and the CLI accept
    out = tmp_path / "export.jsonl"
    assert export(store, out)[0] == len(records)
    assert verify(out, key=KEYS["CTXGUARD_AUDIT_KEY"].encode()).ok
    assert cli(["audit", "verify", "--policy", policy]) == 0
    assert cli(["audit", "report", "--policy", policy, "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert f"OK, {len(records)} records, chain intact" in page
    store.close()


def test_an_edit_on_the_server_is_named_by_verify(backend: str, tmp_path: Path) -> None:
    chain = uuid.uuid4().hex
    policy = write(tmp_path, shared_policy(backend, chain=chain))
    cfg = Policy.from_file(policy).model.audit
    log = SharedAuditLog(open_chain_store(cfg), key=KEYS["CTXGUARD_AUDIT_KEY"].encode())
    for i in range(5):
        log.append({"type": "step", "i": i, "action": "block"})
    lines = list(log.store.lines())
    forged = lines[2].replace(b'"action":"block"', b'"action":"allow"')
    assert forged != lines[2]
    tamper(backend, chain, 2, forged)
    report = log.verify()
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "edited")]
    assert cli(["audit", "verify", "--policy", policy]) == 5
    log.close()


def tamper(backend: str, chain: str, seq: int, line: bytes) -> None:
    url = server_url(backend)
    if backend == "redis":
        import redis

        from ctxguard.state.redis_state import _tag

        r = redis.Redis.from_url(url)
        r.lset(f"ctxguard:audit:{{{_tag(chain)}}}:lines", seq, line)
        r.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE ctxguard_audit SET line = %s WHERE chain = %s AND seq = %s", (line.decode(), chain, seq))


# --- the approval queue -----------------------------------------------------------------------------------

APPROVAL_TOOLS = """
exfiltration: {allowed_domains: [acme.com]}
tools:
  tools:
    send_email: {class: egress, require_approval: true}
"""
CALL = {"to": "bob@acme.com", "body": "Lunch at noon?"}


def reviewer(policy: str, answer: str, *, args: dict[str, Any] | None = None) -> threading.Thread:
    """A reviewer in this process that waits for one request and answers it through the CLI."""
    def run() -> None:
        cfg = Policy.from_file(policy).model.approvals
        desk = ApprovalDesk(open_queue(cfg), KEYS["CTXGUARD_APPROVAL_KEY"].encode())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting, _ = desk.pending()
            if waiting:
                [req] = waiting
                assert req.tool == "send_email" and dict(req.args) == CALL
                cmd = ["approvals", "answer", "--policy", policy, req.id, answer]
                if args is not None:
                    cmd += ["--args", json.dumps(args)]
                assert cli(cmd) == 0
                assert cli(cmd) == 2  # answered once only
                return
            time.sleep(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("answer, expected", [("approve", "allow"), ("reject", "block")])
def test_an_agent_process_waits_for_a_reviewer_in_another(backend: str, tmp_path: Path, answer: str,
                                                        expected: str) -> None:
    policy = write(tmp_path, shared_policy(backend, chain=uuid.uuid4().hex, queue=uuid.uuid4().hex,
                                           extra=APPROVAL_TOOLS))
    t = reviewer(policy, answer)
    [out] = run_workers([["approve", policy, "send_email", json.dumps(CALL)]], tmp_path / "go")
    t.join(10)
    assert out["action"] == expected
    if expected == "allow":
        assert out["args"] == CALL


def test_an_edit_from_the_queue_is_checked_again_in_full(backend: str, tmp_path: Path) -> None:
    policy = write(tmp_path, shared_policy(backend, chain=uuid.uuid4().hex, queue=uuid.uuid4().hex,
                                           extra=APPROVAL_TOOLS))
    # the reviewer "edits" the call to send to an outside address: the re-check blocks it
    t = reviewer(policy, "edit", args={"to": "mallory@evil.example", "body": "Lunch at noon?"})
    [out] = run_workers([["approve", policy, "send_email", json.dumps(CALL)]], tmp_path / "go")
    t.join(10)
    assert out["action"] == "block"


def test_an_unanswered_request_expires_and_a_late_answer_changes_nothing(backend: str) -> None:
    from ctxguard.policy.schema import ApprovalPolicy

    cfg = ApprovalPolicy(queue=backend, url_env=URL_ENV[backend], name=uuid.uuid4().hex)  # type: ignore[arg-type]
    queue = Recording(open_queue(cfg))
    key = KEYS["CTXGUARD_APPROVAL_KEY"].encode()
    with Firewall(Policy.from_yaml(APPROVAL_TOOLS + "approvals: {timeout_seconds: 5}")) as fw, \
            fw.session("alice", "acme", approver=QueueApprover(queue, key, timeout=0.5)) as s:
        d = s.check_tool_call("send_email", CALL)
    assert d.blocked and "no answer" in d.reason and d.rule == "approvals.timeout_seconds"
    [request_id] = queue.submitted
    assert queue.status(request_id) == ("expired", None)
    assert queue.pending() == []
    assert not ApprovalDesk(queue, key).answer(request_id, "approve")  # too late: nothing to answer
    queue.close()


class Recording:
    """A queue that remembers the ids submitted to it."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        self.submitted: list[str] = []

    def submit(self, request_id: str, *args: Any) -> None:
        self.submitted.append(request_id)
        self._queue.submit(request_id, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


def test_a_forged_answer_without_the_key_is_a_rejection(backend: str) -> None:
    from ctxguard.policy.schema import ApprovalPolicy

    cfg = ApprovalPolicy(queue=backend, url_env=URL_ENV[backend], name=uuid.uuid4().hex)  # type: ignore[arg-type]
    queue = open_queue(cfg)
    forger = ApprovalDesk(queue, b"not-the-approval-key-at-all")

    def forge() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ids = [r[0] for r in queue.pending()]
            if ids:
                forger.answer(ids[0], "approve")
                return
            time.sleep(0.02)

    t = threading.Thread(target=forge, daemon=True)
    t.start()
    with Firewall(Policy.from_yaml(APPROVAL_TOOLS)) as fw, fw.session(
            "alice", "acme", approver=QueueApprover(queue, KEYS["CTXGUARD_APPROVAL_KEY"].encode(), timeout=20)) as s:
        d = s.check_tool_call("send_email", CALL)
    t.join(5)
    assert d.blocked and d.rule == "approvals"
    queue.close()


# --- a server that goes away ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own (append-only file, fsync always), to stop and start at will."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            if REQUIRED:
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                                      "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    server = PrivateRedis(tmp_path)
    server.start()
    monkeypatch.setenv("PRIVATE_REDIS_URL", f"redis://127.0.0.1:{server.port}/0")
    yield server
    server.stop()


def test_redis_down_blocks_the_check_spools_its_record_and_loses_nothing(private_redis: PrivateRedis,
                                                                         tmp_path: Path) -> None:
    spool = tmp_path / "audit.spool"
    policy = Policy.from_yaml(f"""
redaction:
  vault: {{store: redis, url_env: PRIVATE_REDIS_URL, server_timeout_seconds: 1}}
audit: {{store: redis, url_env: PRIVATE_REDIS_URL, spool: {json.dumps(str(spool))}, server_timeout_seconds: 1}}
""")
    with Firewall(policy) as fw, fw.session("alice", "acme") as s:
        first = s.admit("Write to dana@example.org please", source="user")
        assert not first.blocked and "<EMAIL_ADDRESS_1>" in first.text

        private_redis.stop()
        with pytest.raises(StateUnavailable) as err:
            s.admit("and copy lee@example.org", source="user")  # a new value: the vault must be asked
        assert "spool" in str(err.value) and "lee@" not in str(err.value)
        [spooled] = [json.loads(line) for line in spool.read_text().splitlines()]
        assert spooled["event"]["decision"]["action"] == "block"  # the check failed closed...
        assert spooled["event"]["decision"]["reason"] == "check failed: StateUnavailable"  # ...and says why
        assert "lee@" not in spool.read_text()

        private_redis.start()  # same folder: the append-only file brings the chain back
        third = s.admit("Thanks, that is all", source="user")
        assert not third.blocked
        log = fw.audit
        assert isinstance(log, SharedAuditLog)
        assert log.spooled() == 0
        report = log.verify()
        assert report.ok, str(report)
        events = [json.loads(line)["event"] for line in log.store.lines()]
    decisions = [e for e in events if e.get("type") == "decision"]
    assert [e["decision"]["action"] for e in decisions] == ["redact", "block", "allow"]  # in order, nothing lost
    assert "spooled_at" in decisions[1] and "spooled_at" not in decisions[2]


def test_redis_down_without_a_spool_raises_and_the_adapter_would_block(private_redis: PrivateRedis) -> None:
    policy = Policy.from_yaml("audit: {store: redis, url_env: PRIVATE_REDIS_URL, server_timeout_seconds: 1}")
    with Firewall(policy) as fw:
        s = fw.session("alice", "acme")
        assert not s.admit("hello", source="user").blocked
        private_redis.stop()
        with pytest.raises(StateUnavailable, match="nothing was written"):
            s.admit("hello again", source="user")
        with pytest.raises(StateUnavailable):  # even the session's closing record is not dropped silently
            s.close()


def test_postgres_unreachable_fails_closed_and_keeps_the_password_out_of_errors(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("DEAD_PG_URL", f"postgresql://app:hunter2@127.0.0.1:{free_port()}/db")
    policy = Policy.from_yaml("redaction: {vault: {store: postgres, url_env: DEAD_PG_URL, server_timeout_seconds: 1}}")
    with Firewall(policy) as fw, fw.session("alice", "acme") as s:
        d = s.admit("Write to dana@example.org please", source="user")
        records = fw.audit.records
    assert d.blocked and d.rule == "on_error" and d.text == ""
    assert d.reason == "check failed: StateUnavailable"
    assert [r["event"]["decision"]["reason"] for r in records if r["event"]["type"] == "decision"] == [d.reason]
    assert "hunter2" not in json.dumps(records)


def test_an_approval_queue_that_is_down_does_not_approve(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("DEAD_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    policy = Policy.from_yaml(APPROVAL_TOOLS + "approvals: {queue: redis, url_env: DEAD_REDIS_URL, "
                                               "server_timeout_seconds: 1}")
    with Firewall(policy) as fw, fw.session("alice", "acme") as s:
        d = s.check_tool_call("send_email", CALL)
    assert d.blocked and d.reason == "approver failed: StateUnavailable"


def test_cli_says_the_store_is_down_instead_of_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEAD_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    policy = write(tmp_path, "audit: {store: redis, url_env: DEAD_REDIS_URL, server_timeout_seconds: 1}")
    assert cli(["audit", "verify", "--policy", policy]) == 2
    assert "is unavailable (ConnectionError)" in capsys.readouterr().err

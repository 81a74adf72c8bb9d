"""Specification tests for ctxguard.audit: the chain, what verify names, crash recovery, misuse errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxguard.audit import GENESIS, AuditLog, Problem, VerifyReport, verify
from ctxguard.errors import IntegrityError

KEY = b"k" * 32


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plain_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def keyed_hash(record: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hmac.new(key, canonical(body).encode(), hashlib.sha256).hexdigest()


def write_log(path: Path, n: int, *, key: bytes | None = None) -> list[str]:
    with AuditLog(path, key=key) as log:
        return [log.append({"i": i, "action": "allow", "rule": f"r{i}"}) for i in range(n)]


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def rewrite_record(path: Path, index: int, change: dict[str, Any], rehash: str | bytes | None = None) -> None:
    """Edit record ``index`` in place; ``rehash`` ("sha256" or a key) recomputes its hash like an attacker."""
    lines = read_lines(path)
    rec = json.loads(lines[index])
    rec["event"].update(change)
    if rehash == "sha256":
        rec["hash"] = plain_hash(rec)
    elif isinstance(rehash, bytes):
        rec["hash"] = keyed_hash(rec, rehash)
    lines[index] = canonical(rec) + "\n"
    write_lines(path, lines)


def only_problem(report: VerifyReport) -> Problem:
    assert not report.ok
    assert len(report.problems) == 1, str(report)
    return report.problems[0]


# --- the chain ------------------------------------------------------------------------------------


def test_clean_log_of_n_records_verifies_ok(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 10)
    report = verify(log_path)
    assert report.ok
    assert report.records == 10
    assert report.problems == ()
    assert "OK" in str(report)


def test_records_chain_by_prev_hash_with_consecutive_seqs(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log:
        ids = [log.append({"i": i}) for i in range(5)]
        records = log.records
        head = log.head
    assert [r["seq"] for r in records] == [0, 1, 2, 3, 4]
    assert records[0]["prev"] == GENESIS
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert [r["hash"] for r in records] == ids == [plain_hash(r) for r in records]
    assert head == (4, ids[-1])
    assert set(records[0]) == {"seq", "ts", "prev", "event", "hash"}
    assert records[0]["event"] == {"i": 0}


def test_head_file_is_overwritten_in_place_with_one_fixed_width_record(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    head_path = tmp_path / "a.jsonl.head"
    with AuditLog(log_path) as log:
        log.append({"i": 0})
        inode = head_path.stat().st_ino
        ids = [log.append({"i": i}) for i in range(1, 1200)]
        # every record after the first rewrote the head in place: the same file, the same 128 bytes
        assert head_path.stat().st_ino == inode and head_path.stat().st_size == 128
        assert json.loads(head_path.read_text(encoding="utf-8")) == {"seq": 1199, "hash": ids[-1]}
    lines = read_lines(log_path)
    log_path.write_text("".join(lines[:-2]), encoding="utf-8")  # cut two records off the end
    report = verify(log_path)
    assert not report.ok and [p.kind for p in report.problems] == ["truncated"]
    with pytest.raises(IntegrityError, match="cut off"):
        AuditLog(log_path)  # resuming would rewrite the head and hide the cut


def test_lines_on_disk_are_canonical_json_and_head_file_tracks_the_last_record(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    ids = write_log(log_path, 3)
    lines = read_lines(log_path)
    assert all(line == canonical(json.loads(line)) + "\n" for line in lines)
    head = json.loads((tmp_path / "a.jsonl.head").read_text(encoding="utf-8"))
    assert head == {"seq": 2, "hash": ids[-1]}


def test_keyed_log_uses_hmac_and_verifies_only_with_its_key(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    with AuditLog(log_path, key=KEY) as log:
        log.append({"i": 0})
        rec = log.records[0]
    assert rec["hash"] == keyed_hash(rec, KEY) != plain_hash(rec)
    assert verify(log_path, key=KEY).ok
    assert only_problem(verify(log_path)).kind == "edited"
    assert only_problem(verify(log_path, key=b"wrong key")).kind == "edited"


def test_empty_log_verifies(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    with AuditLog(log_path) as log:
        assert log.head == (-1, GENESIS)
    report = verify(log_path)
    assert report.ok and report.records == 0


# --- the four tamperings ---------------------------------------------------------------------------


def test_edited_record_is_named_by_verify(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    rewrite_record(log_path, 3, {"action": "block"})
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("edited", 4, 3)
    assert "line 4 (seq 3): edited" in str(verify(log_path))


def test_edit_with_recomputed_plain_hash_is_caught_by_the_next_records_prev(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    rewrite_record(log_path, 3, {"action": "block"}, rehash="sha256")
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("edited", 4, 3)
    assert "seq 4" in problem.message


def test_keyed_log_cannot_be_recomputed_without_the_key(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8, key=KEY)
    rewrite_record(log_path, 3, {"action": "block"}, rehash=b"attacker's guess")
    problem = only_problem(verify(log_path, key=KEY))
    assert (problem.kind, problem.line, problem.seq) == ("edited", 4, 3)


def test_keyed_log_edit_recomputed_as_plain_sha256_is_caught(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8, key=KEY)
    rewrite_record(log_path, 3, {"action": "block"}, rehash="sha256")
    problem = only_problem(verify(log_path, key=KEY))
    assert (problem.kind, problem.seq) == ("edited", 3)


def test_deleted_record_is_named_by_verify(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    lines = read_lines(log_path)
    del lines[3]
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.seq, problem.line) == ("deleted", 3, 4)
    assert "seq 3 is missing" in problem.message


def test_deleted_run_of_records_is_reported_once_naming_all_missing_seqs(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 10)
    lines = read_lines(log_path)
    del lines[3:6]
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.seq, problem.line) == ("deleted", 3, 4)
    assert "3..5" in problem.message


def test_reordered_records_are_named_by_verify(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    lines = read_lines(log_path)
    lines[2], lines[3] = lines[3], lines[2]
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert problem.kind == "reordered"
    assert (problem.line, problem.seq) == (3, 3)  # seq 3 now sits on line 3, before seq 2
    assert "after seq 2 (line 4)" in problem.message


def test_record_moved_to_the_front_is_one_reordered_problem(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    lines = read_lines(log_path)
    write_lines(log_path, [lines[-1], *lines[:-1]])
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("reordered", 1, 7)


def test_truncated_log_is_named_by_verify(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 10)
    write_lines(log_path, read_lines(log_path)[:-2])
    report = verify(log_path)
    problem = only_problem(report)
    assert (problem.kind, problem.seq, problem.line) == ("truncated", 8, 9)
    assert "8..9" in problem.message
    assert report.records == 8


def test_rewritten_last_record_is_caught_by_the_head_file(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 5)
    rewrite_record(log_path, 4, {"action": "block"}, rehash="sha256")
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("head_mismatch", 5, 4)


def test_replayed_record_is_named_as_duplicate(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 5)
    lines = read_lines(log_path)
    write_lines(log_path, [*lines, lines[2]])
    problem = only_problem(verify(log_path, require_head=False))
    assert (problem.kind, problem.line, problem.seq) == ("duplicate", 6, 2)


def test_edited_seq_field_is_one_edited_problem_not_a_deletion(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 8)
    lines = read_lines(log_path)
    rec = json.loads(lines[3])
    rec["seq"] = 3000
    lines[3] = canonical(rec) + "\n"
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("edited", 4, 3)
    assert "3000" in problem.message


def test_duplicate_key_injection_is_caught_even_though_the_hash_still_matches(tmp_path: Path) -> None:
    # A reader that keeps the first of two duplicate keys would see "block"; json keeps the last.
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 5)
    lines = read_lines(log_path)
    lines[2] = '{"event":{"action":"block"},' + lines[2][1:]
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("edited", 3, 2)
    assert "canonical" in problem.message


def test_report_lists_every_problem_and_can_raise(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 10)
    rewrite_record(log_path, 2, {"action": "block"})
    lines = read_lines(log_path)
    del lines[6]
    write_lines(log_path, lines[:-1])
    report = verify(log_path)
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 2), ("deleted", 6), ("truncated", 9)]
    text = str(report)
    assert "FAILED, 3 problems" in text and "line 3 (seq 2)" in text
    with pytest.raises(IntegrityError, match="seq 2"):
        report.raise_for_problems()


# --- head file ------------------------------------------------------------------------------------


def test_missing_head_file_is_reported_unless_not_required(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 4)
    (tmp_path / "a.jsonl.head").unlink()
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.line, problem.seq) == ("head_missing", 0, None)
    assert verify(log_path, require_head=False).ok


def test_expected_head_kept_elsewhere_catches_truncation_with_a_rewritten_head_file(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    with AuditLog(log_path, key=KEY) as log:
        for i in range(6):
            log.append({"i": i})
        anchored = log.head
        kept = log.records[3]
    write_lines(log_path, read_lines(log_path)[:4])
    (tmp_path / "a.jsonl.head").write_text(json.dumps({"seq": 3, "hash": kept["hash"]}), encoding="utf-8")
    assert verify(log_path, key=KEY).ok  # the documented limit of a head file next to the log
    problem = only_problem(verify(log_path, key=KEY, expected_head=anchored))
    assert (problem.kind, problem.seq) == ("truncated", 4)


# --- crashes and reopening ------------------------------------------------------------------------


def test_torn_last_line_then_reopen_and_append_leaves_one_torn_problem(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    ids = write_log(log_path, 5)
    with log_path.open("a", encoding="utf-8") as f:
        f.write('{"event":{"action":"allow","i":5},"hash":"ab')  # the process died mid-write
    torn = only_problem(verify(log_path))
    assert (torn.kind, torn.line) == ("torn", 6)

    with AuditLog(log_path) as log:
        assert log.head == (4, ids[-1])
        new = [log.append({"i": i}) for i in range(5, 8)]
        appended = log.records
    assert [r["seq"] for r in appended] == [5, 6, 7]
    assert appended[0]["prev"] == ids[-1]

    report = verify(log_path)
    problem = only_problem(report)
    assert (problem.kind, problem.line, problem.seq) == ("torn", 6, None)
    assert report.records == 8
    assert read_lines(log_path)[5].endswith('"hash":"ab\n')  # fenced off on its own line
    assert json.loads(read_lines(log_path)[-1])["hash"] == new[-1]


def test_reopened_log_resumes_the_chain(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    ids = write_log(log_path, 3, key=KEY)
    with AuditLog(log_path, key=KEY) as log:
        assert log.head == (2, ids[-1])
        log.append({"i": 3})
        assert log.records[0]["prev"] == ids[-1]
    report = verify(log_path, key=KEY)
    assert report.ok and report.records == 4


def test_last_record_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    ids = write_log(log_path, 3)
    log_path.write_text(log_path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    with AuditLog(log_path) as log:
        assert log.head == (2, ids[-1])
        log.append({"i": 3})
    report = verify(log_path)
    assert report.ok and report.records == 4


def test_reopening_a_truncated_log_refuses_to_append(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 5)
    write_lines(log_path, read_lines(log_path)[:3])
    with pytest.raises(IntegrityError, match="cut off"):
        AuditLog(log_path)
    assert only_problem(verify(log_path)).kind == "truncated"  # evidence not overwritten


def test_reopening_a_log_without_its_head_file_refuses_to_append(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 2)
    (tmp_path / "a.jsonl.head").unlink()
    with pytest.raises(IntegrityError, match="head file is missing"):
        AuditLog(log_path)


def test_reopening_with_the_wrong_key_refuses_to_append(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 2, key=KEY)
    with pytest.raises(IntegrityError, match="wrong key"):
        AuditLog(log_path, key=b"another key")
    with pytest.raises(IntegrityError, match="no key"):
        AuditLog(log_path)


def test_fsync_mode_writes_a_verifiable_log(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    with AuditLog(log_path, fsync=True) as log:
        log.append({"i": 0})
        log.append({"i": 1})
    assert verify(log_path).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "a.jsonl.head"]  # no temp files left


# --- in memory, threads, lifecycle ----------------------------------------------------------------


def test_in_memory_log_keeps_records_and_writes_no_file(tmp_path: Path) -> None:
    log = AuditLog(None)
    ids = [log.append({"i": i}) for i in range(4)]
    records = log.records
    assert [r["seq"] for r in records] == [0, 1, 2, 3]
    assert log.head == (3, ids[-1])
    assert list(tmp_path.iterdir()) == []
    dumped = tmp_path / "dump.jsonl"
    write_lines(dumped, [canonical(r) + "\n" for r in records])
    assert verify(dumped, require_head=False).ok


def test_records_are_copies_so_callers_cannot_rewrite_history() -> None:
    log = AuditLog(None)
    event: dict[str, Any] = {"tags": ["a"]}
    log.append(event)
    event["tags"].append("b")
    log.records[0]["event"]["tags"].append("c")
    assert log.records[0]["event"] == {"tags": ["a"]}
    assert log.records[0]["hash"] == plain_hash(log.records[0])


def test_concurrent_appends_from_threads_form_one_chain(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    with AuditLog(log_path) as log:

        def work(t: int) -> None:
            for i in range(200):
                log.append({"thread": t, "i": i})

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        records = log.records
    assert len(records) == 1600
    assert [r["seq"] for r in records] == list(range(1600))
    assert len(read_lines(log_path)) == 1600
    report = verify(log_path)
    assert report.ok and report.records == 1600


def test_log_is_a_context_manager_and_refuses_appends_after_close(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log:
        log.append({"i": 0})
    with pytest.raises(ValueError, match="closed"):
        log.append({"i": 1})
    log.close()  # closing twice is harmless


# --- misuse ---------------------------------------------------------------------------------------


def test_verify_of_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "nope.jsonl")


def test_non_mapping_event_raises_type_error() -> None:
    log = AuditLog(None)
    with pytest.raises(TypeError, match="mapping"):
        log.append(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert log.records == []


class Secretish:
    def __repr__(self) -> str:
        return "sk-SECRET-VALUE"


def test_unserialisable_value_error_names_the_key_path_not_the_value() -> None:
    log = AuditLog(None)
    with pytest.raises(TypeError) as exc:
        log.append({"user": {"ids": [1, Secretish()]}})
    assert "event.user.ids[1]" in str(exc.value)
    assert "Secretish" in str(exc.value)
    assert "SECRET-VALUE" not in str(exc.value)
    assert log.records == [] and log.head == (-1, GENESIS)


@pytest.mark.parametrize(
    ("event", "where"),
    [
        ({"score": float("nan")}, "event.score"),
        ({"m": {1: "x"}}, "event.m"),
        ({"odd key": {"b": b"bytes"}}, 'event["odd key"].b'),
    ],
)
def test_non_json_values_and_keys_raise_type_error_with_path(event: dict[str, Any], where: str) -> None:
    with pytest.raises(TypeError) as exc:
        AuditLog(None).append(event)
    assert where in str(exc.value)


def test_circular_event_raises_type_error() -> None:
    event: dict[str, Any] = {}
    event["self"] = event
    with pytest.raises(TypeError, match="circular"):
        AuditLog(None).append(event)


def test_empty_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        AuditLog(None, key=b"")


def test_non_ascii_hash_field_is_reported_not_a_crash(tmp_path: Path) -> None:
    log_path = tmp_path / "a.jsonl"
    write_log(log_path, 3)
    lines = read_lines(log_path)
    rec = json.loads(lines[1])
    rec["hash"] = "é" * 64
    lines[1] = canonical(rec) + "\n"
    write_lines(log_path, lines)
    problem = only_problem(verify(log_path))
    assert (problem.kind, problem.seq) == ("edited", 1)


# --- names the model chose are data: tool names, argument names, nested keys --------------------------------


def test_secret_or_address_used_as_a_tool_or_argument_name_never_reaches_the_log(tmp_path: Path) -> None:
    from ctxguard import Firewall
    from ctxguard.detect.validators import github_token

    token = github_token("ghp_", "Zq8Lm3Tr9Vw2Kp7nYc4BdJ6sHf1GtA")
    log = tmp_path / "audit.jsonl"
    with Firewall(audit=log) as fw, fw.session("alice") as s:
        s.check_tool_call("send_email", {token: "x", "headers": {"eve@evil.example": "1"}})
        s.check_tool_call(f"exfil_{token}", {"body": "hi"})
        s.check_tool_call("lookup", {"a b c": "1"})
    written = log.read_text()
    assert token not in written and "eve@evil.example" not in written and "a b c" not in written
    assert '"send_email"' in written and "h:" in written  # readable names stay; the rest are keyed hashes
    assert verify(log).ok


def test_unpaired_surrogates_in_names_give_a_decision_and_a_valid_log(tmp_path: Path) -> None:
    from ctxguard import Firewall

    log = tmp_path / "audit.jsonl"
    with Firewall(audit=log) as fw, fw.session("alice") as s:
        d = s.check_tool_call("t\ud800", {"a\udc00": "b\ud800"})
        assert d.action is not None
    assert verify(log).ok


# --- the fast copy of usual events is the careful copy --------------------------------------------------

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _JSONISH, max_size=6))
def test_the_fast_copy_equals_the_careful_one(event: dict) -> None:
    from ctxguard.audit import _plain, plain_event

    assert plain_event(event) == _plain(event, "event", set())


@pytest.mark.parametrize("event, where", [
    ({"a": {"b": "x\ud800"}}, "event.a.b"),
    ({"a": [1.0, float("nan")]}, "event.a[1]"),
    ({"a": {1: "x"}}, "event.a"),
    ({"a": {"b": object()}}, "event.a.b"),
])
def test_what_the_fast_copy_refuses_the_careful_one_names(event: dict, where: str) -> None:
    from ctxguard.audit import plain_event

    with pytest.raises(TypeError, match=re.escape(where)):
        plain_event(event)


def test_a_circular_event_is_named_not_recursed_into() -> None:
    from ctxguard.audit import plain_event

    loop: dict = {"a": 1}
    loop["self"] = loop
    with pytest.raises(TypeError, match="circular"):
        plain_event({"x": loop})

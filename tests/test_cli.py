"""The `ctxguard` command: scan, policy check/schema/default, audit verify, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxguard import AuditLog
from ctxguard.cli import (
    EXIT_AUDIT_FAILED,
    EXIT_BLOCKED,
    EXIT_OK,
    EXIT_POLICY_INVALID,
    EXIT_REDACTED,
    EXIT_USAGE,
    main,
)

ROOT = Path(__file__).resolve().parent.parent


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_scan_stdin_prints_redacted_text_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "Write to jane.roe@example.com today\n")
    assert main(["scan", "-"]) == EXIT_REDACTED
    out = capsys.readouterr().out
    assert "jane.roe@example.com" not in out
    assert "<EMAIL_ADDRESS_1>" in out


def test_scan_clean_text_exits_0_and_prints_it_unchanged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "The weather is mild.\n")
    assert main(["scan"]) == EXIT_OK
    assert capsys.readouterr().out == "The weather is mild.\n"


def test_scan_json_reports_findings_without_raw_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "token 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\n")
    code = main(["scan", "--json", "--direction", "into_tool"])
    out = capsys.readouterr().out
    assert code == EXIT_BLOCKED  # the default policy blocks secrets going into a tool
    data = json.loads(out)
    assert data["action"] == "block"
    assert [f["kind"] for f in data["findings"]] == ["secret:GITHUB_TOKEN"]
    assert "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" not in out


def test_scan_directory_reports_each_file_and_skips_binaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("nothing here\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("My social security number is 536-90-4399\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    code = main(["scan", "--json", str(tmp_path)])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["a.txt", "b.txt"]
    assert "skipped" in captured.err and "blob.bin" in captured.err
    assert rows[0]["action"] == "allow"
    assert code in (EXIT_REDACTED, EXIT_BLOCKED)


def test_scan_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "/nonexistent/definitely/not/here"]) == EXIT_USAGE
    assert "no such file" in capsys.readouterr().err


def test_scan_writes_an_audit_log_that_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "scan.audit.jsonl"
    _stdin(monkeypatch, "call 555-867-5309\n")
    main(["scan", "--audit", str(log)])
    assert main(["audit", "verify", str(log)]) == EXIT_OK


def test_policy_check_accepts_every_example_policy_except_the_broken_one(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted((ROOT / "examples" / "policies").glob("*.yaml")):
        expected = EXIT_POLICY_INVALID if path.name == "broken.yaml" else EXIT_OK
        assert main(["policy", "check", str(path)]) == expected, path.name
    capsys.readouterr()


def test_policy_check_names_line_and_field_of_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(ROOT / "examples" / "policies" / "broken.yaml")]) == EXIT_POLICY_INVALID
    err = capsys.readouterr().err
    assert "broken.yaml:3:1: mode:" in err
    assert "broken.yaml:6:5: trust.sources.tool:*: unknown trust level 'semi-trusted'" in err
    assert "broken.yaml:10:7: tools.tools.send_email.class:" in err
    assert "broken.yaml:12:14: tools.tools.send_email.args.to.max_lenght: Extra inputs are not permitted" in err
    assert "INVALID (4 problems)" in err


def test_policy_check_missing_file_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", "/nonexistent.yaml"]) == EXIT_POLICY_INVALID
    assert "not found" in capsys.readouterr().err


def test_policy_schema_is_json_schema_with_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    assert {
        "trust",
        "access",
        "redaction",
        "tools",
        "exfiltration",
        "approvals",
        "budgets",
        "rules",
        "audit",
        "mode",
        "on_error",
    } <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_policy_default_round_trips_through_the_loader(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["policy", "default"]) == EXIT_OK
    path = tmp_path / "default.yaml"
    path.write_text(capsys.readouterr().out)
    assert main(["policy", "check", str(path)]) == EXIT_OK


def _write_log(path: Path, n: int = 6) -> None:
    with AuditLog(path) as log:
        for i in range(n):
            log.append({"i": i, "action": "block"})


def test_audit_verify_exit_codes_for_intact_and_edited_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.jsonl"
    _write_log(log)
    assert main(["audit", "verify", str(log)]) == EXIT_OK
    lines = log.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"action":"block"', '"action":"allow"')
    log.write_text("".join(lines))
    assert main(["audit", "verify", str(log)]) == EXIT_AUDIT_FAILED
    err = capsys.readouterr().err
    assert "line 3 (seq 2): edited" in err


def test_audit_verify_names_a_deleted_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.jsonl"
    _write_log(log)
    lines = log.read_text().splitlines(keepends=True)
    del lines[3]
    log.write_text("".join(lines))
    assert main(["audit", "verify", str(log)]) == EXIT_AUDIT_FAILED
    assert "deleted" in capsys.readouterr().err


def test_audit_verify_missing_file_is_a_usage_error() -> None:
    assert main(["audit", "verify", "/nonexistent.jsonl"]) == EXIT_USAGE


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == EXIT_USAGE


def test_policy_check_table_prints_the_user_rules_before_the_built_in_entries(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  - name: no-emails\n    when: {finding: 'pii:EMAIL_ADDRESS'}\n    action: block\n")
    assert main(["policy", "check", str(policy), "--table"]) == 0
    lines = [ln.strip() for ln in capsys.readouterr().out.splitlines()]
    entries = [ln.split(". ", 1)[1] for ln in lines if ln[:1].isdigit()]
    assert entries[0] == "rules.no-emails" and entries[1] == "redaction.entities" and entries[-1] == "detection"

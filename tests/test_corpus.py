"""Corpus scanning (``ctxguard scan``): files, folders and JSONL, in one process and on Ray Data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxguard.cli import EXIT_REDACTED, main
from ctxguard.corpus import CorpusScanner, Item, Skipped, read_items, scan_local, scan_ray, to_sarif

EMAIL = "jane.doe@example.com"


def _corpus(root: Path) -> Path:
    root.mkdir()
    (root / "docs.jsonl").write_text("\n".join([
        json.dumps({"text": f"Mail {EMAIL} about the refund."}),
        json.dumps({"text": "Nothing to see here."}),
        json.dumps({"body": 3}),
        "not json",
        json.dumps({"text": "Deploy key AKIAIOSFODNN7EXAMPLX for the build."}),
    ]) + "\n")
    (root / "note.txt").write_text("Escalations go to jane.doe@example.com.\n")
    return root


def test_jsonl_records_are_items_and_what_cannot_be_read_is_reported(tmp_path: Path) -> None:
    got = list(read_items(str(_corpus(tmp_path / "c"))))
    items = [g for g in got if isinstance(g, Item)]
    skipped = [(g.line, g.why) for g in got if isinstance(g, Skipped)]
    assert [(Path(i.path).name, i.line) for i in items] == [("docs.jsonl", 1), ("docs.jsonl", 2), ("docs.jsonl", 5),
                                                           ("note.txt", 0)]
    assert skipped == [(3, "no string field 'text'"), (4, "not a JSON record")]


def test_sarif_names_each_finding_by_file_and_line_and_never_holds_the_value(tmp_path: Path) -> None:
    items = [g for g in read_items(str(_corpus(tmp_path / "c"))) if isinstance(g, Item)]
    scanner = CorpusScanner()
    results = list(scan_local(items, scanner))
    scanner.firewall.close()
    sarif = to_sarif(results, version="0.1.0")
    assert sarif["version"] == "2.1.0"
    found = {(Path(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name,
              r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"), r["ruleId"])
             for r in sarif["runs"][0]["results"]}
    assert ("docs.jsonl", 1, "pii:EMAIL_ADDRESS") in found and ("note.txt", None, "pii:EMAIL_ADDRESS") in found
    assert any(rule == "secret:AWS_ACCESS_KEY" for _, _, rule in found)
    assert EMAIL not in json.dumps(sarif) and "AKIAIOSFODNN7EXAMPLX" not in json.dumps(sarif)


def test_the_cli_scans_a_folder_with_jsonl_as_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(_corpus(tmp_path / "c")), "--format", "json", "--quiet"]) == EXIT_REDACTED
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert [(Path(r["path"]).name, r["line"], r["action"]) for r in rows] == [
        ("docs.jsonl", 1, "redact"), ("docs.jsonl", 2, "allow"), ("docs.jsonl", 5, "redact"), ("note.txt", 0, "redact")]
    assert "skipped" in out.err and "docs.jsonl:4" in out.err
    assert EMAIL not in out.out


@pytest.mark.slow
def test_ray_data_gives_the_same_results_as_one_process(tmp_path: Path) -> None:
    pytest.importorskip("ray.data")
    items = [g for g in read_items(str(_corpus(tmp_path / "c"))) if isinstance(g, Item)]
    items += [Item("generated", n, f"Customer {n} wrote from c{n}@example.org about order {n}.") for n in range(1, 41)]
    scanner = CorpusScanner()
    local = list(scan_local(items, scanner))
    scanner.firewall.close()
    on_ray = list(scan_ray(items, policy_yaml=None, source="file", direction="into_model", workers=2))

    def key(r: dict[str, object]) -> tuple[object, ...]:
        return r["path"], r["line"], r["action"], r["findings"], r["text"]

    assert sorted(map(key, on_ray)) == sorted(map(key, local))
    assert len(on_ray) == len(items)

"""The example scripts run offline and show what the README says they show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_blocks_forged_and_foreign_documents_and_allows_the_allowed_host() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {line[:44].strip(): line[44:].split() for line in proc.stdout.splitlines() if len(line) > 44}
    assert rows["signed acme document"][0] == "allow"
    assert rows["same document, metadata edited"][0] == "block"
    assert rows["globex document in acme's session"][0] == "block"
    assert rows["long web result"][0] == "redact"
    assert rows["post to an unknown host"][0] == "block"
    assert rows["post to acme.com"][0] == "allow"

"""Using ctxguard prints nothing of third parties' own: no notice about components it never runs."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_loading_the_detectors_prints_no_third_party_notice() -> None:
    code = "import ctxguard; fw = ctxguard.Firewall(audit=ctxguard.AuditLog(None)); fw.warm_up(); print('ready')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ready"
    assert "PyTorch was not found" not in run.stderr
    assert run.stderr.strip() == "", run.stderr[-500:]

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


def test_langchain_agent_example_blocks_the_hijacked_call_runs_the_users_and_restores_the_answer() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "langchain_agent.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "my phone number is <PHONE_NUMBER_1>." in out  # what the model saw
    assert "label trust: hostile" in out
    assert "send_email(to=archive@exfil-drop.net) -> BLOCKED" in out
    assert "the agent was told: ctxguard blocked this call: " in out
    assert "tool ran: no" in out
    assert "send_email(to=bob@acme.com) -> ran" in out
    assert "user sees:   I e-mailed the summary to bob@acme.com. If a reply is needed I will reach you at " \
           "+1 415 555 0132." in out
    assert "chain intact" in out


def test_llamaindex_rag_scopes_retrieval_blocks_exfiltration_and_keeps_memory_labels() -> None:
    paths = [str(ROOT), str(ROOT / "integrations" / "llamaindex")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "llamaindex_rag.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "without ctxguard, globex documents in the top 3: 2" in out  # the control
    assert "globex documents seen by alice: 0" in out
    assert "prompt the model got mentions Globex: False" in out
    assert "send_email to attacker@evil.com: blocked" in out
    assert "send_email to billing@acme.com: sent; function ran for ['billing@acme.com']" in out
    assert "trust=hostile verified=True" in out and "415-867-5309" not in out
    assert "globex loading alice's memory sees 0 messages" in out
    assert "chain OK" in out

"""ctxguard must never touch the network at run time: run `scan` and `demo` with sockets disabled.

Each subprocess replaces every way out (socket connect, DNS lookup, create_connection) with a
tripwire that records the attempt on stderr and raises. Libraries that swallow network errors
(tldextract falls back to its snapshot after a failed fetch) would still pass a test that only
looked at the exit code, so the test asserts that no attempt was made at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TRIPWIRE = textwrap.dedent(
    """
    import socket, sys

    def _tripwire(*args, **kwargs):
        sys.stderr.write("NETWORK ATTEMPT\\n")
        sys.stderr.flush()
        raise OSError("network disabled by test")

    socket.socket.connect = _tripwire
    socket.socket.connect_ex = _tripwire
    socket.create_connection = _tripwire
    socket.getaddrinfo = _tripwire
    socket.gethostbyname = _tripwire

    from ctxguard.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _run_offline(args: list[str], stdin: str = "", tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if tmp_path is not None:
        # An empty home: no cached suffix list or model download can be what makes this pass.
        env["HOME"] = str(tmp_path)
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-c", TRIPWIRE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_scan_runs_with_sockets_disabled_and_makes_no_network_attempt(tmp_path: Path) -> None:
    text = "Mail john.doe@example.com or visit https://example.org/x, key AKIAIOSFODNN7EXAMPLE\n"
    proc = _run_offline(["scan", "--json", "-"], stdin=text, tmp_path=tmp_path)
    assert "NETWORK ATTEMPT" not in proc.stderr
    assert proc.returncode == 1, proc.stderr  # redacted
    out = json.loads(proc.stdout)
    kinds = {f["kind"] for f in out["findings"]}
    assert {"pii:EMAIL_ADDRESS", "secret:AWS_ACCESS_KEY"} <= kinds


@pytest.mark.slow
def test_demo_runs_with_sockets_disabled_and_makes_no_network_attempt(tmp_path: Path) -> None:
    proc = _run_offline(["demo"], tmp_path=tmp_path)
    assert "NETWORK ATTEMPT" not in proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo finished" in proc.stdout
    assert "BLOCK" in proc.stdout


def test_tripwire_itself_detects_a_network_attempt(tmp_path: Path) -> None:
    """The check above is only meaningful if the tripwire fires: prove it on a deliberate connect."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = TRIPWIRE.replace(
        "from ctxguard.cli import main\nsys.exit(main(sys.argv[1:]))",
        "import urllib.request\ntry:\n    urllib.request.urlopen('http://192.0.2.1/', timeout=1)\n"
        "except Exception:\n    pass\n",
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert "NETWORK ATTEMPT" in proc.stderr


EXAMPLE_CHECKS = {
    # script -> a line its output must contain (it ran to the end and showed the point)
    "examples/langchain_agent.py": "chain intact",
    "examples/llamaindex_rag.py": "globex documents seen by alice: 0",
    "examples/trust_scoped_memory.py": "globex memories seen: 0",
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXAMPLE_CHECKS))
def test_framework_examples_make_no_network_attempt(script: str, tmp_path: Path) -> None:
    """The LangChain, LlamaIndex and FAISS paths, with every socket entry point a tripwire."""
    code = TRIPWIRE.replace(
        "from ctxguard.cli import main\nsys.exit(main(sys.argv[1:]))",
        "import runpy\nrunpy.run_path(sys.argv[1], run_name='__main__')",
    )
    env = dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "integrations" / "langchain"), str(ROOT / "integrations" / "llamaindex"),
         env.get("PYTHONPATH", "")]
    )
    env.pop("LANGCHAIN_TRACING_V2", None)
    env.pop("LANGSMITH_TRACING", None)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / script)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert "NETWORK ATTEMPT" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert EXAMPLE_CHECKS[script] in proc.stdout

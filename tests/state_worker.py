"""One agent process for the shared-state tests (tests/test_shared_state.py runs several at once).

    python tests/state_worker.py MODE POLICY_FILE ARG...

Each mode writes one JSON line to stdout with what it saw, so the test can compare processes.
The processes start together on a barrier file, so their writes really overlap.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time


def _wait_for_start(go: str) -> None:
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise SystemExit("the start file never appeared")
        time.sleep(0.005)


def vault(policy: str, session_id: str, go: str, values: str) -> dict[str, object]:
    """Pseudonymise the same e-mail addresses as the other processes, in a random order."""
    from ctxguard import Firewall

    addresses = values.split(",")
    random.shuffle(addresses)
    with Firewall(policy) as fw, fw.session("worker", tenant="acme", session_id=session_id) as s:
        _wait_for_start(go)
        tokens = {a: s.vault.token_for("EMAIL_ADDRESS", a) for a in addresses}
        restored = {t: s.vault.value_for(t) for t in tokens.values()}
    return {"tokens": tokens, "restored": restored}


def audit(policy: str, worker: str, go: str, count: str) -> dict[str, object]:
    """Append ``count`` decisions to the shared chain, as real checks through a session."""
    from ctxguard import Firewall

    with Firewall(policy) as fw, fw.session(f"worker-{worker}", tenant="acme") as s:
        _wait_for_start(go)
        for i in range(int(count)):
            s.record_event("worker_step", worker=worker, step=i)
    return {"worker": worker, "appended": int(count)}


def approve(policy: str, tool: str, args_json: str) -> dict[str, object]:
    """Check one call that needs approval; the approver is the policy's shared queue."""
    from ctxguard import Firewall

    with Firewall(policy) as fw, fw.session("agent", tenant="acme") as s:
        d = s.check_tool_call(tool, json.loads(args_json))
    return {"action": d.action.value, "args": None if d.args is None else dict(d.args), "reason": d.reason}


def main(argv: list[str]) -> int:
    mode, *rest = argv
    out = {"vault": vault, "audit": audit, "approve": approve}[mode](*rest)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

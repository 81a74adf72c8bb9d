"""Fuzz every public entry point with hypothesis: 100,000+ hostile inputs, no escaped exception, no
check that fails on its input.

The inputs (``tests/strategies.py``) are any code point, lone surrogates included, mixed with the
fragments detectors and decoders key on (markdown and HTML openers, entities, escapes, encodings,
secrets' prefixes, injection phrases). Each example is counted as: a Decision whose checks ran; a
Decision that blocked because a check raised ("check failed: <type>", safe but a bug); or an exception
that escaped (a crash). The properties are the ones tests/test_fuzz_entry_points.py asserts on fewer
examples.

    python benchmarks/fuzz_entry_points.py [--examples 25000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import FUZZ_POLICY, odd_text, sources, tool_args  # noqa: E402

from ctxguard import AuditLog, Decision, Firewall, Policy  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=25_000, help="examples per entry point (4 entry points)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    fw = Firewall(Policy.from_yaml(FUZZ_POLICY), audit=AuditLog(None), signing_key=b"fuzz-bench-key-0123456789")
    outcome: dict[str, Counter[str]] = {}
    first_failure: dict[str, str] = {}
    cfg = settings(max_examples=a.examples, deadline=None, database=None, derandomize=False,
                   suppress_health_check=list(HealthCheck))

    def count(name: str, call: Any) -> None:
        c = outcome.setdefault(name, Counter())
        try:
            d = call()
        except Exception as exc:  # the property under test: nothing escapes
            c["escaped: " + type(exc).__name__] += 1
            first_failure.setdefault(name, f"escaped {type(exc).__name__}")
            return
        if isinstance(d, Decision) and d.reason.startswith("check failed"):
            c[d.reason] += 1
            first_failure.setdefault(name, d.reason)
        else:
            c["ran"] += 1

    @seed(a.seed)
    @cfg
    @given(text=odd_text, source=sources)
    def admit(text: str, source: str) -> None:
        with fw.session("fuzz") as s:
            count("admit", lambda: s.admit(text, source=source))

    @seed(a.seed)
    @cfg
    @given(text=odd_text, earlier=odd_text)
    def output(text: str, earlier: str) -> None:
        with fw.session("fuzz") as s:
            s.admit(earlier, source="tool:web")
            count("check_output", lambda: s.check_output(text))

    @seed(a.seed)
    @cfg
    @given(tool=st.one_of(odd_text, st.just("send_email")), args=tool_args, earlier=odd_text)
    def tool_call(tool: str, args: dict[str, Any], earlier: str) -> None:
        with fw.session("fuzz") as s:
            s.admit(earlier, source="tool:web")
            count("check_tool_call", lambda: s.check_tool_call(tool, args))

    @seed(a.seed)
    @cfg
    @given(chunks=st.lists(odd_text, max_size=6))
    def stream(chunks: list[str]) -> None:
        with fw.session("fuzz") as s:
            def run() -> Decision:
                out = s.stream_output(hold_back=16, min_release=16)
                for ch in chunks:
                    out.feed(ch)
                return out.close()
            count("stream_output", run)

    total = 0
    t0 = time.perf_counter()
    for fn in (admit, output, tool_call, stream):
        fn()
    elapsed = time.perf_counter() - t0
    print(f"{'entry point':<18} {'examples':>9} {'ran':>9} {'check failed':>13} {'escaped':>8}")
    for name, c in outcome.items():
        n = sum(c.values())
        total += n
        failed = sum(v for k, v in c.items() if k.startswith("check failed"))
        escaped = sum(v for k, v in c.items() if k.startswith("escaped"))
        print(f"{name:<18} {n:>9,} {c['ran']:>9,} {failed:>13,} {escaped:>8,}")
        for k, v in sorted(c.items()):
            if k != "ran":
                print(f"    {k}: {v}")
    print(f"total {total:,} examples in {elapsed:.0f} s ({total / elapsed:,.0f}/s)")
    if first_failure:
        print("first failures:", first_failure)
        sys.exit(1)


if __name__ == "__main__":
    main()

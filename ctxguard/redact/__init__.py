"""Redaction strategies and the pseudonym vault."""

from .strategies import Edit, apply, keyed_hash, mask
from .vault import PseudonymVault

__all__ = ["Edit", "PseudonymVault", "apply", "keyed_hash", "mask"]

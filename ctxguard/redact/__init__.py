"""Redaction strategies and the pseudonym vault."""

from .stores import MemoryVaultStore, SQLiteVaultStore, VaultStore
from .strategies import Edit, apply, keyed_hash, mask
from .surrogates import SurrogateGenerator
from .vault import PseudonymVault

__all__ = [
    "Edit", "MemoryVaultStore", "PseudonymVault", "SQLiteVaultStore", "SurrogateGenerator", "VaultStore", "apply",
    "keyed_hash", "mask",
]

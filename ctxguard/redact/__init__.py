"""Redaction strategies and the pseudonym vault."""

from .strategies import Edit, apply, keyed_hash, mask
from .surrogates import SurrogateGenerator
from .vault import MemoryVaultStore, PseudonymVault, SQLiteVaultStore, VaultStore

__all__ = [
    "Edit", "MemoryVaultStore", "PseudonymVault", "SQLiteVaultStore", "SurrogateGenerator", "VaultStore", "apply",
    "keyed_hash", "mask",
]

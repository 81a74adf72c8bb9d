"""Per-entry access fields as numpy code arrays: a scope's visible set in a few vectorised lookups.

The store keeps each entry's tenant, confidentiality and trust as small integer codes (names
interned once) beside its verified flag, expiry and liveness. Which codes a scope may see is asked of
``Scope.violations`` itself, once per distinct name, so this module holds no access rule of its own:
it only spreads the scope's answer over a million rows with array indexing instead of a million calls.
That works because ``Scope`` judges each field on its own: tenant (with the verified flag),
confidentiality, trust.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ..labels import Label
from ..scope import Scope

_INITIAL_CAPACITY = 1024


class _Names:
    """Interned strings: name <-> small integer code, in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, name: str) -> int:
        c = self.codes.get(name)
        if c is None:
            c = self.codes[name] = len(self.names)
            self.names.append(name)
        return c


class LabelColumns:
    """The access-relevant part of every entry's label, one row per entry id (ids are row numbers)."""

    def __init__(self) -> None:
        self.size = 0  # ids below this have been handed out (some may be dead)
        self._tenants = _Names()
        self._conf = _Names()
        self._trust = _Names()
        cap = _INITIAL_CAPACITY
        self.tenant = np.zeros(cap, dtype=np.int32)
        self.confidentiality = np.zeros(cap, dtype=np.int32)
        self.trust = np.zeros(cap, dtype=np.int32)
        self.verified = np.zeros(cap, dtype=bool)
        self.alive = np.zeros(cap, dtype=bool)
        self.expires = np.full(cap, np.inf, dtype=np.float64)

    def _reserve(self, n: int) -> None:
        need = self.size + n
        cap = len(self.alive)
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        self.tenant = _grown(self.tenant, cap, 0)
        self.confidentiality = _grown(self.confidentiality, cap, 0)
        self.trust = _grown(self.trust, cap, 0)
        self.verified = _grown(self.verified, cap, False)
        self.alive = _grown(self.alive, cap, False)
        self.expires = _grown(self.expires, cap, np.inf)

    def append(self, labels: Sequence[Label], expires: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Rows for new entries; their ids, which continue from the last one handed out."""
        n = len(labels)
        self._reserve(n)
        start, stop = self.size, self.size + n
        # Entries of one bulk load usually share a handful of label objects: intern per distinct object.
        seen: dict[int, tuple[int, int, int]] = {}
        t_codes = np.empty(n, dtype=np.int32)
        c_codes = np.empty(n, dtype=np.int32)
        r_codes = np.empty(n, dtype=np.int32)
        verified = np.empty(n, dtype=bool)
        for i, lb in enumerate(labels):
            codes = seen.get(id(lb))
            if codes is None:
                codes = seen[id(lb)] = (
                    self._tenants.code(lb.tenant), self._conf.code(lb.confidentiality), self._trust.code(lb.trust)
                )
            t_codes[i], c_codes[i], r_codes[i] = codes
            verified[i] = lb.verified
        self.tenant[start:stop] = t_codes
        self.confidentiality[start:stop] = c_codes
        self.trust[start:stop] = r_codes
        self.verified[start:stop] = verified
        self.alive[start:stop] = True
        self.expires[start:stop] = expires
        self.size = stop
        return np.arange(start, stop, dtype=np.int64)

    def skip_to(self, size: int) -> None:
        """Hand out no id below ``size`` (ids of entries deleted before a store was saved stay unused)."""
        if size > self.size:
            self._reserve(size - self.size)
            self.size = size

    def kill(self, ids: npt.NDArray[np.int64]) -> None:
        self.alive[ids] = False

    @property
    def count(self) -> int:
        return int(self.alive[: self.size].sum())

    def visible(self, scope: Scope, now: float) -> npt.NDArray[np.bool_]:
        """Boolean mask over ids ``[0, size)``: alive, unexpired, and permitted by ``scope``."""
        n = self.size
        # A probe label that passes every field; each table below changes one field of it.
        probe = Label(source="memory", trust=scope.trust.highest, confidentiality=scope.confidentiality.lowest)

        def table(names: list[str], violation: str, field: str, **fixed: object) -> npt.NDArray[np.bool_]:
            ok = [violation not in scope.violations(probe.evolve(**{field: name}, **fixed)) for name in names]
            return np.array(ok, dtype=bool) if ok else np.zeros(0, dtype=bool)

        tenants = self._tenants.names
        tenant_if_verified = table(tenants, "tenant", "tenant", verified=True)
        tenant_if_unverified = table(tenants, "tenant", "tenant", verified=False)
        conf_ok = table(self._conf.names, "clearance", "confidentiality")
        trust_ok = table(self._trust.names, "trust", "trust")
        t = self.tenant[:n]
        mask = self.alive[:n].copy()
        mask &= np.where(self.verified[:n], tenant_if_verified[t], tenant_if_unverified[t])
        mask &= conf_ok[self.confidentiality[:n]]
        mask &= trust_ok[self.trust[:n]]
        mask &= self.expires[:n] > now
        return mask


_A = TypeVar("_A", bound=np.generic)


def _grown(arr: npt.NDArray[_A], cap: int, fill: object) -> npt.NDArray[_A]:
    out = np.full(cap, fill, dtype=arr.dtype)
    out[: len(arr)] = arr
    return out

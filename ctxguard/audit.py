"""A tamper-evident, append-only JSONL log of firewall decisions.

The audit log is what an operator reads after an incident, so it is exactly what an attacker (or an
agent steered by injected content, or an insider covering their tracks) wants to rewrite: delete the
line that shows a blocked exfiltration, soften a decision, or cut the log short. Each record is
therefore chained to the one before it by hash, and :func:`verify` names every record that was
edited, deleted, reordered, duplicated or cut off, instead of just saying "bad log".

What each mode protects against:

* **Keyless** (``key=None``, plain SHA-256): detects accidental corruption, naive edits, deleted,
  reordered and duplicated records, and (with the head file) truncation. It does *not* stop a
  deliberate forger: anyone who can write the file can edit a record and recompute every hash after
  it, and the result verifies.
* **Keyed** (``key=...``, HMAC-SHA256): every hash needs the key, so an attacker without it can
  neither recompute an edited record nor forge new ones. Keep the key out of the agent's reach.

Cutting records off the end leaves a shorter chain that is perfectly valid, so the writer also keeps
``<log>.head`` with the last seq and hash, replaced atomically after every append. That catches
crashes and naive truncation, but it sits next to the log: someone who can rewrite both can roll the
log back to an earlier, genuine state, keyed or not. Where that matters, copy :attr:`AuditLog.head`
somewhere the attacker cannot write (a remote log, a ticket) and pass it to
``verify(..., expected_head=...)``.

One writer process per file: the chain position lives in the writer, so two processes appending to
the same file would fork the chain. Threads sharing one :class:`AuditLog` are fine.

The log stores exactly the ``event`` mappings callers pass in, plus seq, time and hashes. It never
adds content of its own, so keeping raw sensitive values out of events stays the callers' job
(``Decision`` and ``Finding`` are built to be safe to log).
"""

from __future__ import annotations

import bisect
import collections
import copy
import hashlib
import hmac
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Final, Literal, Protocol

from ._memo import short_string_cache
from ._patterns import compile_linear
from .errors import IntegrityError

__all__ = ["GENESIS", "AuditLog", "AuditWriter", "Problem", "ProblemKind", "VerifyReport", "encode_record", "verify",
           "verify_lines"]

GENESIS: Final = "0" * 64
RECENT_RECORDS_KEPT: Final = 10_000
"""The ``prev`` of record 0, and the head hash of a log with no records yet (head seq -1)."""

ProblemKind = Literal[
    "edited",
    "deleted",
    "reordered",
    "duplicate",
    "truncated",
    "torn",
    "malformed",
    "head_mismatch",
    "head_missing",
]

_RECORD_KEYS: Final = ("event", "hash", "prev", "seq", "ts")
# The head file's fixed width: {"hash":"<64 hex>","seq":<up to 19 digits>} fits with room to spare, and the
# whole record stays inside one 512-byte sector.
_HEAD_WIDTH: Final = 128


# --- encoding -------------------------------------------------------------------------------------


# Names the model chooses (tool names, argument names, nested keys) are data: a hijacked model can
# put a secret or an address where a name goes. One is written as it is only when it looks like a
# name: a short identifier with no long random-looking run in it; anything else is replaced by a
# keyed hash, which still lets a reader group records by it.
_NAME = compile_linear(r"[A-Za-z0-9_.:/\-\[\]]{1,96}")
_NAME_RUN = compile_linear(r"[A-Za-z0-9]{16,}")


@short_string_cache(96)
def is_log_safe_name(name: str) -> bool:
    """Whether ``name`` (a tool, an argument path, a source) may go into a record as it is.

    Every record asks this of the same few names (its tools, argument paths and sources): the answers
    are remembered. A name of more than 96 characters is never log-safe (``_NAME``), so none longer is
    cached."""
    from .detect.validators import looks_random

    if _NAME.fullmatch(name) is None:
        return False
    return not any(looks_random(m.group()) for m in _NAME_RUN.finditer(name))


def log_safe_name(name: str, keyed_hash: Callable[[str], str]) -> str:
    """``name`` as a record may hold it: itself, or ``h:`` and 16 hex digits of ``keyed_hash(name)``."""
    return name if is_log_safe_name(name) else "h:" + keyed_hash(name)[:16]


def log_safe_source(name: str, keyed_hash: Callable[[str], str]) -> str:
    """A source, tool name or argument path as a record may hold it (see ``log_safe_name``); a source
    keeps its family prefix ("tool_call:", "tool:") readable."""
    family, sep, rest = name.partition(":")
    if sep and rest and is_log_safe_name(family + sep):
        return family + sep + log_safe_name(rest, keyed_hash)
    return log_safe_name(name, keyed_hash)


def log_safe_decision(summary: dict[str, Any], keyed_hash: Callable[[str], str]) -> dict[str, Any]:
    """A ``Decision.summary()`` with every model-chosen name made log-safe: the tool, the label's
    source, each finding's field (and the reason that quotes it). The record schema of a decision is
    this: the summary holds no text and no argument value, and names pass only as names."""
    if summary.get("tool"):
        summary["tool"] = log_safe_source(summary["tool"], keyed_hash)
    summary["label"]["source"] = log_safe_source(summary["label"]["source"], keyed_hash)
    reason = summary.get("reason", "")
    for f in summary["findings"]:
        field = f.get("field") or ""
        if field and not is_log_safe_name(field):
            safe = log_safe_source(field, keyed_hash)
            reason = reason.replace(repr(field), repr(safe))
            f["field"] = safe
    summary["reason"] = reason
    return summary


def _canonical(obj: Any) -> str:
    """One byte-exact serialisation, so a hash means the same thing to the writer and every verifier."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _digest(record: Mapping[str, Any], key: bytes | None) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    data = _canonical(body).encode("utf-8")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    """Constant-time compare that, unlike compare_digest on str, cannot raise on non-ASCII file content."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_key(key: bytes | None) -> bytes | None:
    """An empty or mistyped key would silently give a chain anyone can recompute."""
    if key is None:
        return None
    if not isinstance(key, bytes):
        raise TypeError(f"audit key must be bytes, not {type(key).__name__}")
    if not key:
        raise ValueError("audit key must not be empty")
    return key


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def _check_str(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError(f"audit event text at {path} has unpaired surrogates and cannot be UTF-8") from None
    return str.__str__(value)


def _plain(value: Any, path: str, active: set[int]) -> Any:
    """Copy ``value`` into plain JSON types, or fail naming *where* the bad value is.

    Errors name the key path and the type, never the value: a value that cannot be logged may well be
    the secret the firewall was protecting. The copy also means a caller mutating its event after
    ``append`` cannot change what was hashed.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"audit event value at {path} is a non-finite float, which JSON cannot represent")
        return float(value)
    if isinstance(value, str):
        return _check_str(value, path)
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in active:
            raise TypeError(f"audit event value at {path} contains itself (circular reference)")
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                out: dict[str, Any] = {}
                for k, v in value.items():
                    if not isinstance(k, str):
                        kind = type(k).__name__
                        raise TypeError(f"audit event mapping at {path} has a {kind} key; keys must be str")
                    k = _check_str(k, path)
                    out[k] = _plain(v, _join(path, k), active)
                return out
            return [_plain(v, f"{path}[{i}]", active) for i, v in enumerate(value)]
        finally:
            active.discard(id(value))
    kind = type(value).__name__
    raise TypeError(f"audit event value at {path} is a {kind}, which is not JSON-serialisable")


def _parse_line(raw: bytes) -> tuple[str, dict[str, Any] | None, str]:
    """Return ``(text, record, failure)``; record is None when failure says "torn" or "malformed"."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if not body.strip():
        return "", None, "malformed"
    try:
        text = body.decode("utf-8")
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return "", None, "torn"
    except RecursionError:
        return "", None, "malformed"
    if not (
        isinstance(obj, dict)
        and all(k in obj for k in _RECORD_KEYS)
        and type(obj["seq"]) is int
        and obj["seq"] >= 0
        and isinstance(obj["ts"], (int, float))
        and not isinstance(obj["ts"], bool)
        and isinstance(obj["prev"], str)
        and isinstance(obj["hash"], str)
        and isinstance(obj["event"], dict)
    ):
        return text, None, "malformed"
    return text, obj, ""


def _head_path(path: str) -> str:
    return path + ".head"


def _load_head(path: str) -> tuple[int, str] | None:
    """Read ``<log>.head``; None if absent, ValueError if it is not a head."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ValueError("head file is not UTF-8") from exc
    if not (
        isinstance(obj, dict)
        and type(obj.get("seq")) is int
        and obj["seq"] >= -1
        and isinstance(obj.get("hash"), str)
    ):
        raise ValueError('head file is not {"seq": int >= -1, "hash": str}')
    return obj["seq"], obj["hash"]


def encode_record(seq: int, prev: str, event: Mapping[str, Any], key: bytes | None) -> tuple[str, str]:
    """One chained record as its writer stores it: ``(hash, canonical line)``. ``event`` must already be
    plain JSON data (``plain_event``). Shared stores use this too, so every chain verifies the same way."""
    record: dict[str, Any] = {"seq": seq, "ts": time.time(), "prev": prev, "event": event}
    record["hash"] = digest = _digest(record, key)
    return digest, _canonical(record)


def plain_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """``event`` checked and copied as plain JSON data (TypeError/ValueError naming the bad field)."""
    if not isinstance(event, Mapping):
        raise TypeError(f"audit event must be a mapping, not {type(event).__name__}")
    if type(event) is dict:
        try:
            fast: dict[str, Any] = _plain_fast(event, 0)
            return fast
        except _NotPlain:
            pass  # the careful copy below says where and why
    plain: dict[str, Any] = _plain(event, "event", set())
    return plain


class _NotPlain(Exception):
    """Something ``_plain_fast`` does not take as it is; ``_plain`` then decides, and names it."""


_FAST_DEPTH: Final = 32


def _plain_fast(value: Any, depth: int) -> Any:
    """The copy ``_plain`` makes, for the usual event (dicts, lists, str, int, float, bool, None of
    exactly those types, no deeper than ``_FAST_DEPTH``), without building a key path for every value:
    every decision record goes through here. Anything else raises ``_NotPlain``."""
    t = type(value)
    if t is str:
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _NotPlain from None
        return value
    if value is None or t is bool or t is int:
        return value
    if t is float:
        if not math.isfinite(value):
            raise _NotPlain
        return value
    if depth >= _FAST_DEPTH:
        raise _NotPlain  # deep, or circular: the careful copy tells which
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _NotPlain
            out[_plain_fast(k, depth)] = _plain_fast(v, depth + 1)
        return out
    if t is list or t is tuple:
        return [_plain_fast(v, depth + 1) for v in value]
    raise _NotPlain



# --- writer ---------------------------------------------------------------------------------------


class AuditWriter(Protocol):
    """What a Firewall writes its records to: :class:`AuditLog` (a file, or memory) or a shared chain
    (``ctxguard.state.chain.SharedAuditLog``, Redis or PostgreSQL)."""

    def append(self, event: Mapping[str, Any]) -> str:
        """Chain ``event`` and return the record's hash."""
        ...

    @property
    def records(self) -> list[dict[str, Any]]:
        """Copies of recent records this writer appended."""
        ...

    @property
    def head(self) -> tuple[int, str]:
        ...

    @property
    def path(self) -> str | None:
        ...

    def close(self) -> None:
        ...


class AuditLog:
    """Append-only, hash-chained log of firewall events.

    ``path=None`` keeps records in memory only (tests, demos). Otherwise records are appended to the
    file, and an existing file is resumed from its last complete record, after checking it against the
    head file: appending to a log that was truncated, or whose head file was deleted, would rewrite the
    head and erase the evidence, so that raises :class:`IntegrityError` instead. A record torn by a
    crash is left in place (``verify`` reports it) and fenced off with a newline, and new records chain
    to the last complete one, so the rest of the log stays verifiable.

    ``key`` makes the chain HMAC-SHA256 so edits cannot be re-hashed without it; ``fsync`` trades
    throughput for records that survive power loss, not just a process crash.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, *, key: bytes | None = None, fsync: bool = False
    ) -> None:
        self._key = check_key(key)
        self._fsync = fsync
        self._lock = threading.Lock()
        # A file-backed log keeps only the most recent records in memory: a long-running firewall must
        # not grow without bound; the file is the record.
        self._records: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=None if path is None else RECENT_RECORDS_KEPT
        )
        self._seq = -1
        self._hash = GENESIS
        self._closed = False
        self._broken: BaseException | None = None
        self._file: IO[str] | None = None
        self._head_fd: int | None = None
        self._path = None if path is None else os.fspath(path)
        if self._path is not None:
            needs_newline = self._resume(self._path)
            self._file = open(self._path, "a", encoding="utf-8", newline="\n")
            try:
                if needs_newline:
                    self._file.write("\n")
                    self._flush(self._file)
                self._write_head()
            except BaseException:
                self._file.close()
                if self._head_fd is not None:
                    os.close(self._head_fd)
                raise

    def _resume(self, path: str) -> bool:
        """Find the chain position to continue from; return whether the file ends in a torn fragment."""
        try:
            head = _load_head(_head_path(path))
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{path}: cannot read its head file: {exc}") from exc
        last: dict[str, Any] | None = None
        at_head: dict[str, Any] | None = None
        ends_clean = True
        try:
            with open(path, "rb") as f:
                for raw in f:
                    ends_clean = raw.endswith(b"\n")
                    _, rec, _ = _parse_line(raw)
                    if rec is None:
                        continue
                    last = rec
                    if head is not None and rec["seq"] == head[0]:
                        at_head = rec
        except FileNotFoundError:
            pass
        advice = "run ctxguard.audit.verify() on it and archive it before logging to it again"
        if head is None and last is not None:
            raise IntegrityError(
                f"{path}: its head file is missing, so truncation cannot be ruled out; {advice}"
            )
        if head is not None:
            hseq, hhash = head
            last_seq = -1 if last is None else int(last["seq"])
            if last_seq < hseq:
                raise IntegrityError(
                    f"{path}: log ends at seq {last_seq} but its head file says seq {hseq} "
                    f"(records were cut off); {advice}"
                )
            found = GENESIS if hseq == -1 else (None if at_head is None else at_head["hash"])
            if found is None or not _same(str(found), hhash):
                raise IntegrityError(f"{path}: record seq {hseq} does not match its head file; {advice}")
        if last is not None:
            if not _same(_digest(last, self._key), str(last["hash"])):
                raise IntegrityError(
                    f"{path}: last record (seq {last['seq']}) does not verify with "
                    f"{'this key' if self._key else 'no key'} (wrong key, or it was edited); {advice}"
                )
            self._seq, self._hash = int(last["seq"]), str(last["hash"])
        return not ends_clean

    def _flush(self, f: IO[str]) -> None:
        f.flush()
        if self._fsync:
            os.fsync(f.fileno())

    def _write_head(self) -> None:
        """Record the head in ``<log>.head``, so a crash leaves the old head or the new one, never half.

        The file is first written whole and renamed into place (atomic on every filesystem); from then on
        this writer overwrites it in place with one fixed-width ``pwrite`` of under a disk sector, which
        no reader sees half done and a crash does not tear. The rename and the directory sync cost a few
        hundred microseconds per record; the in-place write, a few.
        """
        if self._path is None:
            return
        line = _canonical({"seq": self._seq, "hash": self._hash})
        if self._head_fd is not None and len(line) < _HEAD_WIDTH:
            os.pwrite(self._head_fd, (line.ljust(_HEAD_WIDTH - 1) + "\n").encode("ascii"), 0)
            if self._fsync:
                os.fsync(self._head_fd)
            return
        self._replace_head(line)
        if hasattr(os, "pwrite") and len(line) < _HEAD_WIDTH:
            self._head_fd = os.open(_head_path(self._path), os.O_WRONLY)

    def _replace_head(self, line: str) -> None:
        assert self._path is not None
        target = _head_path(self._path)
        directory = os.path.dirname(target) or "."
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(target) + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(line.ljust(_HEAD_WIDTH - 1) + "\n" if len(line) < _HEAD_WIDTH else line + "\n")
                f.flush()
                if self._fsync:
                    os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        if self._fsync and os.name == "posix":
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def append(self, event: Mapping[str, Any]) -> str:
        """Chain ``event`` onto the log and return the new record's hash, which serves as its id."""
        plain = plain_event(event)
        with self._lock:
            if self._closed:
                raise ValueError("append to a closed AuditLog")
            if self._broken is not None:
                # The failed write may have left part of a line; reopening fences it off as torn.
                msg = "an earlier write to this audit log failed; reopen the log"
                raise IntegrityError(msg) from self._broken
            seq = self._seq + 1
            digest, line = encode_record(seq, self._hash, plain, self._key)
            if self._file is not None:
                try:
                    self._file.write(line + "\n")
                    self._flush(self._file)
                except BaseException as exc:
                    self._broken = exc
                    raise
            self._seq, self._hash = seq, digest
            self._records.append(json.loads(line))
            if self._file is not None:
                self._write_head()
            return digest

    @property
    def records(self) -> list[dict[str, Any]]:
        """Copies of the records this instance appended (not ones already in a resumed file); for a
        file-backed log, only the most recent ``RECENT_RECORDS_KEPT``."""
        with self._lock:
            return copy.deepcopy(list(self._records))

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, ``(-1, GENESIS)`` when empty: the value worth anchoring."""
        with self._lock:
            return self._seq, self._hash

    @property
    def path(self) -> str | None:
        return self._path

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._file is not None:
                self._file.close()
            if self._head_fd is not None:
                os.close(self._head_fd)
                self._head_fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- verifier -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a log, named by ``line`` (1-based; 0 = the head file, not a line) and ``seq``.

    For ``deleted`` and ``truncated``, ``seq`` is the first missing seq and ``line`` is where the
    missing records would have been.
    """

    line: int
    seq: int | None
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        where = "head file" if self.line == 0 else f"line {self.line}"
        if self.seq is not None:
            where += f" (seq {self.seq})"
        return f"{where}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify`. ``records`` counts lines that parsed as records, edited or not."""

    ok: bool
    records: int
    problems: tuple[Problem, ...]
    path: str = ""

    def __str__(self) -> str:
        name = self.path or "audit log"
        if self.ok:
            return f"{name}: OK, {self.records} records, chain intact"
        n = len(self.problems)
        lines = [f"{name}: FAILED, {n} problem{'s' if n != 1 else ''} in {self.records} records"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)

    def raise_for_problems(self) -> None:
        """For callers that must not continue on a damaged log (e.g. before shipping it as evidence)."""
        if not self.ok:
            raise IntegrityError(str(self))


@dataclass(slots=True)
class _Entry:
    line: int
    seq: int
    prev: str
    hash: str
    content_ok: bool
    canonical_ok: bool
    claimed_seq: int
    placed: bool = True  # False: an edited record whose seq field cannot be trusted or placed

    @property
    def intact(self) -> bool:
        return self.content_ok and self.canonical_ok


def _read_entries(f: Iterable[bytes], key: bytes | None, problems: list[Problem]) -> tuple[list[_Entry], int]:
    entries: list[_Entry] = []
    lineno = 0
    for raw in f:
        lineno += 1
        text, rec, failure = _parse_line(raw)
        if rec is None:
            if failure == "torn":
                how = "line is not complete JSON" if raw.endswith(b"\n") else "last line is cut off"
                problems.append(Problem(lineno, None, "torn", f"{how}: a write torn by a crash, or damage"))
            else:
                problems.append(
                    Problem(lineno, None, "malformed", "not an audit record (empty or fields missing)")
                )
            continue
        try:
            canonical_ok = _canonical(rec) == text
            content_ok = _same(_digest(rec, key), rec["hash"])
        except ValueError:  # NaN/Infinity tokens: never written by AuditLog
            problems.append(Problem(lineno, rec["seq"], "malformed", "record contains non-finite numbers"))
            continue
        seq = rec["seq"]
        entries.append(_Entry(lineno, seq, rec["prev"], rec["hash"], content_ok, canonical_ok, seq))
    return entries, lineno


def _place_untrusted(entries: list[_Entry]) -> None:
    """Decide where edited records sit, so one edited seq field does not read as a deletion elsewhere.

    An intact record's seq is covered by its hash. An edited record's seq is trusted only if it fits
    between its intact neighbours; if not and there is exactly one slot between them, it takes that slot.
    """
    next_intact: list[int | None] = [None] * len(entries)
    nxt: int | None = None
    for i in range(len(entries) - 1, -1, -1):
        next_intact[i] = nxt
        if entries[i].intact:
            nxt = entries[i].seq
    last = -1
    for i, e in enumerate(entries):
        if not e.intact:
            upper = next_intact[i]
            limit = upper if upper is not None else last + (len(entries) - i) + 1
            if not last < e.seq < limit:
                if upper is not None and upper - last == 2:
                    e.seq = last + 1
                else:
                    e.placed = False
                    continue
        last = max(last, e.seq)


def _edit_message(e: _Entry, key: bytes | None) -> str:
    note = "" if e.seq == e.claimed_seq else f" (its seq field was changed to {e.claimed_seq})"
    if not e.content_ok:
        hint = ", or the log is keyed and no key was given" if key is None else ", or the key is wrong"
        return f"content does not match its hash: changed after it was written{hint}{note}"
    return f"line is not in the writer's canonical form (re-serialised, or duplicate keys){note}"


def _lis(seqs: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing run-in-order: the records that are where they belong."""
    tail_idx: list[int] = []
    tail_val: list[int] = []
    back = [-1] * len(seqs)
    for i, s in enumerate(seqs):
        j = bisect.bisect_left(tail_val, s)
        back[i] = tail_idx[j - 1] if j else -1
        if j == len(tail_idx):
            tail_idx.append(i)
            tail_val.append(s)
        else:
            tail_idx[j], tail_val[j] = i, s
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = back[i]
    return keep


def _check_structure(entries: list[_Entry], key: bytes | None, problems: list[Problem]) -> dict[int, _Entry]:
    """Edits, duplicates, order, gaps and links, each reported once at the record responsible."""
    _place_untrusted(entries)
    for e in entries:
        if not e.intact:
            problems.append(Problem(e.line, e.seq, "edited", _edit_message(e, key)))

    by_seq: dict[int, _Entry] = {}
    order: list[_Entry] = []
    for e in entries:
        if not e.placed:
            continue
        other = by_seq.get(e.seq)
        if other is None:
            by_seq[e.seq] = e
            order.append(e)
            continue
        keep, drop = (e, other) if e.intact and not other.intact else (other, e)
        if keep is e:
            by_seq[e.seq] = e
            order.remove(other)
            order.append(e)
        if drop.intact:  # a replayed copy; an edited one was already reported
            msg = f"seq {drop.seq} appears again (also at line {keep.line})"
            problems.append(Problem(drop.line, drop.seq, "duplicate", msg))

    in_place = _lis([e.seq for e in order])
    placed_sorted = sorted(order[i].seq for i in in_place)
    for i, e in enumerate(order):
        if i in in_place:
            continue
        j = bisect.bisect_left(placed_sorted, e.seq)
        before = placed_sorted[j - 1] if j else None
        where = "first" if before is None else f"after seq {before} (line {by_seq[before].line})"
        msg = f"seq {e.seq} is out of order: it belongs {where}"
        problems.append(Problem(e.line, e.seq, "reordered", msg))

    seqs = sorted(by_seq)
    expected = 0
    for s in seqs:
        if s > expected:
            gap = _describe_run(expected, s - 1)
            problems.append(Problem(by_seq[s].line, expected, "deleted", f"{gap} missing before seq {s}"))
        expected = s + 1

    blamed: set[int] = set()
    for s in seqs:
        e = by_seq[s]
        if s == 0:
            if e.prev != GENESIS and e.intact:
                blamed.add(0)
                msg = "first record does not start from the genesis prev"
                problems.append(Problem(e.line, 0, "edited", msg))
            continue
        p = by_seq.get(s - 1)
        if p is None or e.prev == p.hash or not (p.intact and e.intact) or p.seq in blamed:
            continue  # a gap, intact link, or a record already reported as edited
        blamed.add(p.seq)
        problems.append(
            Problem(
                p.line,
                p.seq,
                "edited",
                f"hash no longer matches the prev of seq {s} (line {e.line}): rewritten with a "
                f"recomputed hash (or seq {s}'s prev was changed)",
            )
        )
    return by_seq


def _describe_run(first: int, last: int) -> str:
    return f"seq {first} is" if first == last else f"seqs {first}..{last} ({last - first + 1} records) are"


def _check_head(
    head: tuple[int, str], by_seq: dict[int, _Entry], lines: int, problems: list[Problem]
) -> None:
    hseq, hhash = head
    last = max(by_seq, default=-1)
    if hseq > last:
        msg = f"log ends at seq {last} but the head says {hseq}: {_describe_run(last + 1, hseq)} cut off"
        problems.append(Problem(lines + 1, last + 1, "truncated", msg))
    elif hseq == -1:
        if hhash != GENESIS:
            msg = "head of an empty log does not hold the genesis hash"
            problems.append(Problem(0, None, "head_mismatch", msg))
    elif hseq in by_seq and not _same(by_seq[hseq].hash, hhash):
        e = by_seq[hseq]
        msg = "hash differs from the head's: the last record was rewritten"
        problems.append(Problem(e.line, hseq, "head_mismatch", msg))


def verify(
    path: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    require_head: bool = True,
    expected_head: tuple[int, str] | None = None,
) -> VerifyReport:
    """Check a log written by :class:`AuditLog` and name every record that is not as written.

    Verification never stops at the first problem: each is reported once, at the record responsible,
    and checking resumes with the next record, so one edit does not bury the rest of the report.
    ``expected_head`` is a head kept outside the attacker's reach; it replaces ``<path>.head``.
    ``require_head=False`` accepts a log whose head file is missing (e.g. a copy of the log alone).
    """
    log_path = os.fspath(path)
    key = check_key(key)
    problems: list[Problem] = []
    head = expected_head
    if head is None:
        try:
            head = _load_head(_head_path(log_path))
        except (OSError, ValueError) as exc:
            problems.append(Problem(0, None, "malformed", f"cannot read the head file: {exc}"))
        else:
            if head is None and require_head:
                msg = "no head file: records cut off the end would go unnoticed"
                problems.append(Problem(0, None, "head_missing", msg))
    with open(log_path, "rb") as f:
        return verify_lines(f, key=key, head=head, name=log_path, problems=problems)


def verify_lines(
    lines: Iterable[bytes],
    *,
    key: bytes | None = None,
    head: tuple[int, str] | None,
    name: str = "",
    problems: list[Problem] | None = None,
) -> VerifyReport:
    """:func:`verify` over records from anywhere (a shared store, an export): each item is one line as
    written, and ``head`` is the chain's last (seq, hash) as its store keeps it (None: not checked)."""
    key = check_key(key)
    problems = [] if problems is None else problems
    entries, count = _read_entries(lines, key, problems)
    by_seq = _check_structure(entries, key, problems)
    if head is not None:
        _check_head(head, by_seq, count, problems)
    problems.sort(key=lambda p: (p.line == 0, p.line))
    return VerifyReport(ok=not problems, records=len(entries), problems=tuple(problems), path=name)


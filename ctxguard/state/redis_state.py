"""Redis backends: the pseudonym vault, the audit chain and the approval queue.

Every write that must be atomic is one Lua script, which Redis runs without interleaving any other
command: "store this token unless the value or the token is taken", "append this record if the head
is still the one it was built on", "answer this request if it is still pending". Keys carry a hash tag
(``{...}``) so each script's keys share a slot on a Redis Cluster too. Key names hold a digest of the
scope, never a tenant's or session's name, and values are stored sealed (see ``stores.py``).

For an audit chain that survives a crash of the server, run Redis with ``appendonly yes`` and
``appendfsync always`` (``.ci/start-servers`` does); otherwise the last second of records can be lost
with the server, which ``verify`` then cannot tell from records never written.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any, Final

from ..audit import GENESIS
from ..errors import IntegrityError
from ..redact.stores import VaultEntry
from .chain import Build
from .connect import DEFAULT_TIMEOUT, PerProcess, calls, check_url, import_client, safe_url
from .queue import Status

_PREFIX: Final = "ctxguard"
_READ_BATCH: Final = 1000
_APPEND_ATTEMPTS: Final = 10_000
_REQUEST_TTL: Final = 7 * 24 * 3600

_VAULT_PUT: Final = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then return held end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return ARGV[2]
"""

# KEYS: head, lines. ARGV: expected head ('' when empty), new head, line, expected length.
_CHAIN_APPEND: Final = """
local head = redis.call('GET', KEYS[1]) or ''
if head ~= ARGV[1] then return 0 end
if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[4]) then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# KEYS: request hash, pending zset, reply list. ARGV: id, answer, ttl.
_QUEUE_ANSWER: Final = """
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'answered', 'answer', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[3], '1')
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[3]))
return 1
"""

_QUEUE_EXPIRE: Final = """
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'expired')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


def _frame(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _unframe(data: bytes, n: int) -> list[bytes] | None:
    out: list[bytes] = []
    i = 0
    for _ in range(n):
        if i + 4 > len(data):
            return None
        size = int.from_bytes(data[i:i + 4], "big")
        i += 4
        if i + size > len(data):
            return None
        out.append(data[i:i + size])
        i += size
    return out if i == len(data) else None


def _tag(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _RedisClient:
    """One redis-py client per process (it pools its own connections and is thread-safe)."""

    def __init__(self, url: str, *, timeout: float, what: str) -> None:
        self.url = check_url("redis", url)
        self._redis = import_client("redis")
        self.what = f"{what} (redis {safe_url(url)})"
        self.errors: tuple[type[BaseException], ...] = (self._redis.RedisError, OSError)

        def connect() -> Any:
            return self._redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=False,
                health_check_interval=30)

        self._clients = PerProcess(connect, lambda c: c.close(), per_thread=False)
        self._scripts: dict[str, Any] = {}

    def get(self) -> Any:
        return self._clients.get()

    def script(self, source: str) -> Any:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.get().register_script(source)
        return script

    def run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        with calls(self.what, self.errors):
            return self.script(source)(keys=keys, args=args, client=self.get())

    def close(self) -> None:
        self._clients.close()


class RedisVaultStore:
    """A ``VaultStore`` in Redis: processes on many machines share one set of pseudonyms."""

    persistent = True

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, prefix: str = _PREFIX) -> None:
        self._client = _RedisClient(url, timeout=timeout, what="the pseudonym vault")
        self._prefix = prefix

    def _keys(self, scope: str) -> tuple[str, str, str, str]:
        base = f"{self._prefix}:vault:{{{_tag(scope)}}}"
        return f"{base}:tok", f"{base}:ent", f"{base}:dig", f"{base}:ctr"

    @staticmethod
    def _field(entity: str, digest: bytes) -> bytes:
        return _frame(entity.encode("utf-8", "surrogatepass"), digest)

    def get_token(self, scope: str, entity: str, digest: bytes) -> str | None:
        tok, _, _, _ = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            held = self._client.get().hget(tok, self._field(entity, digest))
        return None if held is None else bytes(held).decode("utf-8", "surrogatepass")

    def get_entry(self, scope: str, token: str) -> VaultEntry | None:
        _, ent, _, _ = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            packed = self._client.get().hget(ent, token.encode("utf-8", "surrogatepass"))
        parts = None if packed is None else _unframe(bytes(packed), 3)
        if parts is None:
            return None  # unknown, or a value edited on the server: as unreadable as a tampered row
        try:
            entity = parts[0].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None
        return VaultEntry(entity, parts[1], parts[2])

    def has_digest(self, scope: str, digest: bytes) -> bool:
        _, _, dig, _ = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            return bool(self._client.get().sismember(dig, digest))

    def put(self, scope: str, entity: str, digest: bytes, token: str, ciphertext: bytes) -> str | None:
        tok, ent, dig, _ = self._keys(scope)
        packed = _frame(entity.encode("utf-8", "surrogatepass"), digest, ciphertext)
        held = self._client.run(_VAULT_PUT, [tok, ent, dig],
                                [self._field(entity, digest), token.encode("utf-8", "surrogatepass"), packed, digest])
        return None if held is None else bytes(held).decode("utf-8", "surrogatepass")

    def next_counter(self, scope: str, entity: str) -> int:
        _, _, _, ctr = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            return int(self._client.get().hincrby(ctr, entity.encode("utf-8", "surrogatepass"), 1))

    def tokens(self, scope: str) -> list[str]:
        _, ent, _, _ = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            names = self._client.get().hkeys(ent)
        return [bytes(n).decode("utf-8", "surrogatepass") for n in names]

    def count(self, scope: str) -> int:
        _, ent, _, _ = self._keys(scope)
        with calls(self._client.what, self._client.errors):
            return int(self._client.get().hlen(ent))

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisVaultStore({safe_url(self._client.url)!r})"


class RedisChainStore:
    """A ``ChainStore`` in Redis: the lines in a list, the head beside it, one script to append."""

    def __init__(self, url: str, *, chain: str = "default", timeout: float = DEFAULT_TIMEOUT,
                 prefix: str = _PREFIX) -> None:
        self._client = _RedisClient(url, timeout=timeout, what=f"the audit chain {chain!r}")
        base = f"{prefix}:audit:{{{_tag(chain)}}}"
        self._head_key, self._lines_key = f"{base}:head", f"{base}:lines"
        self.name = self._client.what

    def _read_head(self) -> tuple[bytes, tuple[int, str]]:
        with calls(self._client.what, self._client.errors):
            raw = self._client.get().get(self._head_key)
        if raw is None:
            return b"", (-1, GENESIS)
        try:
            seq_text, digest = bytes(raw).decode("ascii").split(" ")
            return bytes(raw), (int(seq_text), digest)
        except (UnicodeDecodeError, ValueError):
            raise IntegrityError(f"{self.name}: its head is not a (seq, hash) pair: edited on the server") from None

    def head(self) -> tuple[int, str]:
        return self._read_head()[1]

    def append(self, build: Build) -> tuple[int, str]:
        for attempt in range(_APPEND_ATTEMPTS):
            raw, (seq, prev) = self._read_head()
            digest, line = build(seq + 1, prev)
            new_head = f"{seq + 1} {digest}".encode("ascii")
            done = self._client.run(_CHAIN_APPEND, [self._head_key, self._lines_key],
                                    [raw, new_head, line.encode("utf-8", "surrogatepass"), seq + 1])
            if done == 1:
                return seq + 1, digest
            if done == -1:
                raise IntegrityError(
                    f"{self.name}: the head says {seq + 1} records but the list holds another number: records "
                    "were removed or added on the server; verify and archive the chain before logging to it")
            time.sleep(min(0.001 * (attempt % 8), 0.005))  # another writer won: rebuild on its head
        raise IntegrityError(f"{self.name}: could not append after {_APPEND_ATTEMPTS} attempts")

    def lines(self) -> Iterator[bytes]:
        start = 0
        while True:
            with calls(self._client.what, self._client.errors):
                batch = self._client.get().lrange(self._lines_key, start, start + _READ_BATCH - 1)
            yield from (bytes(b) for b in batch)
            if len(batch) < _READ_BATCH:
                return
            start += _READ_BATCH

    def close(self) -> None:
        self._client.close()


class RedisApprovalQueue:
    """An ``ApprovalQueue`` in Redis: a hash per request, a sorted set of pending ids, and a list per
    request that the answer pushes to, so the waiting agent wakes at once (BLPOP) instead of polling."""

    def __init__(self, url: str, *, name: str = "default", timeout: float = DEFAULT_TIMEOUT,
                 prefix: str = _PREFIX) -> None:
        self._client = _RedisClient(url, timeout=timeout, what=f"the approval queue {name!r}")
        self._timeout = timeout
        self._base = f"{prefix}:approvals:{{{_tag(name)}}}"
        self.name = name

    def _request(self, request_id: str) -> str:
        return f"{self._base}:r:{request_id}"

    def _reply(self, request_id: str) -> str:
        return f"{self._base}:reply:{request_id}"

    def submit(self, request_id: str, payload: bytes, created: float, expires: float) -> None:
        with calls(self._client.what, self._client.errors):
            pipe = self._client.get().pipeline(transaction=True)
            pipe.hset(self._request(request_id), mapping={
                "status": "pending", "payload": payload, "created": repr(created), "expires": repr(expires)})
            pipe.expire(self._request(request_id), _REQUEST_TTL)
            pipe.zadd(f"{self._base}:pending", {request_id: created})
            pipe.execute()

    def pending(self) -> list[tuple[str, bytes, float, float]]:
        with calls(self._client.what, self._client.errors):
            client = self._client.get()
            ids = [bytes(i).decode("ascii", "replace") for i in client.zrange(f"{self._base}:pending", 0, -1)]
            out = []
            for request_id in ids:
                payload, created, expires = client.hmget(self._request(request_id), "payload", "created", "expires")
                if payload is None:
                    continue
                try:
                    out.append((request_id, bytes(payload), float(created), float(expires)))
                except (TypeError, ValueError):
                    continue
        return out

    def answer(self, request_id: str, sealed_answer: bytes) -> bool:
        done = self._client.run(_QUEUE_ANSWER, [self._request(request_id), f"{self._base}:pending",
                                                self._reply(request_id)], [request_id, sealed_answer, _REQUEST_TTL])
        return bool(done == 1)

    def expire(self, request_id: str) -> bool:
        done = self._client.run(_QUEUE_EXPIRE, [self._request(request_id), f"{self._base}:pending"], [request_id])
        return bool(done == 1)

    def wait(self, request_id: str, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            state = self.status(request_id)
            if state is not None and state[0] == "answered":
                return state[1]
            left = deadline - time.monotonic()
            if left <= 0 or (state is not None and state[0] == "expired"):
                return None
            # BLPOP blocks on the server; keep each wait under the socket timeout so a slow answer is
            # not mistaken for a dead server.
            with calls(self._client.what, self._client.errors):
                self._client.get().blpop([self._reply(request_id)], timeout=max(0.01, min(left, self._timeout / 2)))

    def status(self, request_id: str) -> tuple[Status, bytes | None] | None:
        with calls(self._client.what, self._client.errors):
            status, answer = self._client.get().hmget(self._request(request_id), "status", "answer")
        if status is None:
            return None
        text = bytes(status).decode("ascii", "replace")
        if text not in ("pending", "answered", "expired"):
            return None
        return text, None if answer is None else bytes(answer)  # type: ignore[return-value]

    def close(self) -> None:
        self._client.close()


__all__ = ["RedisApprovalQueue", "RedisChainStore", "RedisVaultStore"]

"""Connections to the shared state servers: URL checks, lazy client imports, and one error type.

Every backend goes through here so they fail the same way: a server that is down, slow or refuses a
write raises :class:`~ctxguard.errors.StateUnavailable` naming the store and the error's type, never
the URL's password or a value; a missing client library raises ``ConfigurationError`` saying which
extra to install. Connections are opened lazily and again after a fork, since a socket inherited
from a parent process is shared with it and answers would cross.
"""

from __future__ import annotations

import contextlib
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, Literal

from ..errors import ConfigurationError, StateUnavailable

Backend = Literal["redis", "postgres"]

#: Seconds to wait for a connection or an answer before the store counts as down. A check that waits on
#: a server holds up an agent's step, so this is short; a policy may raise it (``timeout_seconds``).
DEFAULT_TIMEOUT: Final = 5.0

_SCHEMES: Final[dict[str, tuple[str, ...]]] = {
    "redis": ("redis", "rediss", "unix"),
    "postgres": ("postgresql", "postgres"),
}
_EXTRAS: Final = {"redis": ("redis", "redis"), "postgres": ("psycopg", "postgres")}


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***``: for messages and reprs."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = urllib.parse.quote(parts.username or "", safe="")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def check_url(backend: Backend, url: str) -> str:
    """Refuse a URL of the wrong kind now, with the reason, instead of at the first write."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"the {backend} store needs a URL")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES[backend]:
        expected = " or ".join(f"{s}://" for s in _SCHEMES[backend])
        raise ConfigurationError(f"a {backend} store URL starts with {expected}, not {safe_url(url)!r}")
    return url


def resolve_url(backend: Backend, url: str | None, url_env: str | None) -> str:
    """The URL from the policy, or from the variable it names (so a password stays out of the file)."""
    if url_env:
        value = os.environ.get(url_env)
        if not value:
            raise ConfigurationError(f"the {backend} store's URL variable {url_env} is not set")
        return check_url(backend, value)
    if url:
        return check_url(backend, url)
    raise ConfigurationError(f"the {backend} store needs url or url_env")


def import_client(backend: Backend) -> Any:
    """The client module (``redis`` or ``psycopg``), or a ConfigurationError naming the extra."""
    module, extra = _EXTRAS[backend]
    try:
        return __import__(module)
    except ImportError:
        raise ConfigurationError(
            f"the {backend} store needs the {module} package: pip install 'ctxguard[{extra}]'"
        ) from None


def unavailable(store: str, exc: BaseException) -> StateUnavailable:
    """The error to raise for a failed server call: the store and the error's type, nothing else
    (client errors can quote the command they failed on, and a command carries ciphertext or keys)."""
    return StateUnavailable(f"{store} is unavailable ({type(exc).__name__}); nothing was written")


class PerProcess:
    """One client per process (and per thread, when ``per_thread``), rebuilt after a fork.

    redis-py's client is thread-safe and pools its own connections, so it is kept per process; a
    psycopg connection runs one command at a time, so PostgreSQL stores keep one per thread.
    """

    def __init__(self, factory: Callable[[], Any], close: Callable[[Any], None], *, per_thread: bool) -> None:
        self._factory = factory
        self._close = close
        self._per_thread = per_thread
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = -1
        self._shared: Any = None
        self._opened: list[Any] = []
        self._closed = False

    def get(self) -> Any:
        if self._closed:
            raise StateUnavailable("the shared store is closed")
        pid = os.getpid()
        if pid != self._pid:
            with self._lock:
                if pid != self._pid:  # a forked child: the parent's sockets are not ours to use
                    self._opened = []
                    self._shared = None
                    self._local = threading.local()
                    self._pid = pid
        if not self._per_thread:
            if self._shared is None:
                with self._lock:
                    if self._shared is None:
                        self._shared = self._open()
            return self._shared
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._open()
        return client

    def _open(self) -> Any:
        client = self._factory()
        self._opened.append(client)
        return client

    def discard(self) -> None:
        """Drop this thread's client after an error, so the next call reconnects."""
        if self._per_thread:
            client = getattr(self._local, "client", None)
            self._local.client = None
            if client is not None:
                with contextlib.suppress(Exception):  # already broken: closing is best effort
                    self._close(client)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        if self._pid == os.getpid():
            for client in opened:
                with contextlib.suppress(Exception):  # a server that is down cannot be told goodbye
                    self._close(client)


@contextmanager
def calls(store: str, errors: tuple[type[BaseException], ...], on_error: Callable[[], None] | None = None
          ) -> Iterator[None]:
    """Turn a client's connection and server errors into StateUnavailable."""
    try:
        yield
    except errors as exc:
        if on_error is not None:
            on_error()
        raise unavailable(store, exc) from None


__all__ = ["DEFAULT_TIMEOUT", "Backend", "PerProcess", "calls", "check_url", "import_client", "resolve_url",
           "safe_url", "unavailable"]

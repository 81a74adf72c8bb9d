"""Tool-call arguments as the checks see them: every string inside nested mappings and sequences,
with a path, and the rewrite that puts redacted strings back in the same shape.

Every value is checked, dict keys included, bytes and numbers as their text: a redaction that could
only reach top-level strings would pass a secret nested one level down untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._unicode import scrub_surrogates
from ..flow.destinations import is_destination
from ..policy.schema import ToolPolicy
from ..redact.strategies import Edit, apply
from ..redact.vault import PseudonymVault


def as_str(value: object, name: str) -> str:
    """``value`` as a plain ``str``: frameworks hand over str subclasses (LangChain's ``TextAccessor``)
    that some detectors (spaCy) refuse, which would turn every check into a fail-closed block."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return scrub_surrogates(value if type(value) is str else str.__str__(value))


def as_args(value: object) -> dict[str, Any]:
    """Tool arguments checked for shape and scrubbed of lone surrogates (see ``scrub_args``)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"args must be a mapping of argument names to values, not {type(value).__name__}")
    return scrub_args(value)  # type: ignore[no-any-return]


def scrub_args(value: Any) -> Any:
    """Tool arguments with surrogates scrubbed from every string, keys included (see scrub_surrogates);
    containers are copied, other values kept as they are."""
    if isinstance(value, str):
        return scrub_surrogates(str.__str__(value))
    if isinstance(value, Mapping):
        return {scrub_args(k): scrub_args(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_args(v) for v in value) if type(value) in (list, tuple) else \
            [scrub_args(v) for v in value]
    return value


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every scalar inside nested mappings and sequences of tool arguments."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from flatten(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, str.__str__(value)  # a plain str, as in as_str
    elif isinstance(value, bytes):
        yield path, value.decode("utf-8", "replace")
    elif value is None or isinstance(value, bool | int | float):
        yield path, "" if value is None else str(value)
    else:
        yield path, str(value)


def non_text_paths(value: Any, path: str = "") -> set[str]:
    """Paths of the scalar values that are not ``str`` (bytes, numbers, other objects): they are read
    as text but cannot be rewritten in place, so a redaction there blocks the call instead."""
    if isinstance(value, Mapping):
        return {p for k, v in value.items() for p in non_text_paths(v, f"{path}.{k}" if path else str(k))}
    if isinstance(value, list | tuple):
        return {p for i, v in enumerate(value) for p in non_text_paths(v, f"{path}[{i}]")}
    return set() if isinstance(value, str) or value is None else {path}


def keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, key) for every string key inside nested mappings and sequences of tool arguments."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                yield here, k
            yield from keys(v, here)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from keys(v, f"{path}[{i}]")


def rewrite_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """Nested arguments with every string leaf passed through ``fn``; numbers, booleans and keys kept
    (for adapters rewriting a framework's own copy of a call's arguments)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: rewrite_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rewrite_strings(v, fn) for v in value]
    return value


def rewrite_args(
    value: Any, edits: dict[str, list[Edit]], key: bytes, hash_length: int, vault: PseudonymVault, *,
    restore: bool, path: str = "",
) -> Any:
    """The arguments with each string's edits applied (and, with ``restore``, pseudonyms the vault
    issued put back to their real values), in the same nested shape."""
    if isinstance(value, Mapping):
        return {k: rewrite_args(v, edits, key, hash_length, vault, restore=restore,
                                path=f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(rewrite_args(v, edits, key, hash_length, vault, restore=restore, path=f"{path}[{i}]")
                           for i, v in enumerate(value))
    if isinstance(value, str):
        out = apply(value, edits[path], hash_key=key, hash_length=hash_length, vault=vault) if path in edits else value
        if restore:
            out, _, _ = vault.restore(out)
        return out
    return value


def top_name(path: str) -> str:
    """The top-level argument a path lies in: ``to`` for ``to[0].address``."""
    return path.split("[")[0].split(".")[0]


def names_destination(path: str, value: str, tp: ToolPolicy) -> bool:
    """Whether an argument names where data goes: declared in the policy, a destination-word name, or a
    value that is nothing but addresses and URLs (see ctxguard.flow.destinations)."""
    rule = tp.args.get(top_name(path))
    return is_destination(path, value, declared=rule is not None and rule.destination)

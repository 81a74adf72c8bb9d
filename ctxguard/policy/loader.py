"""YAML -> PolicyModel, with every problem reported at its line and field path.

PyYAML's ``compose`` keeps a start mark on every node; we walk that node tree alongside pydantic's
error locations so ``ctxguard policy check`` can say ``policy.yaml:14:5: tools.tools.send_email.class:
Input should be 'read_only', 'side_effect' or 'egress'``. Duplicate keys, which PyYAML silently
resolves to the last one, are errors here: in a security policy the shadowed entry is usually the one
the author meant.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import PolicyError, PolicyProblem
from .schema import PolicyModel, cross_reference_problems

_AT_PREFIX = re.compile(r"^(?:Value error, )?at (\[.*?\]): ")
MAX_POLICY_BYTES = 1_000_000


class _Located:
    """A YAML node's Python value plus the marks of its children, for error reporting."""

    __slots__ = ("children", "column", "key_marks", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.children: dict[str | int, _Located] = {}
        self.key_marks: dict[str | int, tuple[int, int]] = {}


def _construct(node: yaml.Node, loc: _Located, problems: list[PolicyProblem], path: str, source: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(_problem(path, "mapping keys must be plain scalars", key_node, source))
                continue
            key = yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), key_node)
            child_path = f"{path}.{key}" if path else str(key)
            if key in out:
                problems.append(_problem(child_path, "duplicate key (YAML would keep only the last)", key_node, source))
            child = _Located(value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            loc.children[key] = child
            loc.key_marks[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(value_node, child, problems, child_path, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for i, item_node in enumerate(node.value):
            child = _Located(item_node.start_mark.line + 1, item_node.start_mark.column + 1)
            loc.children[i] = child
            items.append(_construct(item_node, child, problems, f"{path}[{i}]", source))
        return items
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _problem(path: str, message: str, node: yaml.Node, source: str) -> PolicyProblem:
    return PolicyProblem(
        path=path, message=message, line=node.start_mark.line + 1, column=node.start_mark.column + 1, source=source
    )


def _format_path(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _locate(root: _Located, parts: Sequence[str | int]) -> tuple[int, int]:
    """Line and column of the deepest node on ``parts`` that exists in the YAML (a missing field
    points at its parent, an unknown key at the key itself)."""
    node = root
    line, col = root.line, root.column
    for i, p in enumerate(parts):
        if p in node.children:
            if i == len(parts) - 1 and p in node.key_marks:
                # Point at the key for the last step: that is where the author looks.
                line, col = node.key_marks[p]
            node = node.children[p]
            if i != len(parts) - 1:
                line, col = node.line, node.column
        else:
            break
    return line, col


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    # pydantic adds pseudo-steps for validators and unions ("function-after[...]", "str"); drop them.
    out: list[str | int] = []
    for p in loc:
        if isinstance(p, int):
            out.append(p)
        elif isinstance(p, str) and not ("[" in p and "]" in p and "(" not in p and p.split("[")[0].isidentifier()
                                         and "-" in p.split("[")[0]):
            out.append(p)
    return out


def _problems_from_validation(
    err: ValidationError, root: _Located, source: str, alias_of: dict[str, str]
) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    for e in err.errors(include_url=False, include_input=False):
        parts = _clean_loc(e["loc"])
        msg = str(e["msg"])
        m = _AT_PREFIX.match(msg)
        if m:
            try:
                extra = json.loads(m.group(1))
            except ValueError:
                extra = []
            parts = parts + [p for p in extra if isinstance(p, str | int)]
            msg = msg[m.end():]
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        parts = [alias_of.get(p, p) if isinstance(p, str) else p for p in parts]
        line, col = _locate(root, parts)
        problems.append(PolicyProblem(path=_format_path(parts), message=msg, line=line, column=col, source=source))
    return problems


def parse_policy_text(text: str, source: str = "<policy>") -> PolicyModel:
    """Parse and validate policy YAML. Raises PolicyError listing every problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyError([PolicyProblem(path="", message=f"policy larger than {MAX_POLICY_BYTES} bytes",
                                         source=source)])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError([PolicyProblem(
            path="", message=f"YAML syntax error: {exc.problem or exc.context}",
            line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None, source=source,
        )]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(path="", message=f"YAML error: {exc}", source=source)]) from None
    root = _Located(1, 1)
    problems: list[PolicyProblem] = []
    data: Any = {} if node is None else _construct(node, root, problems, "", source)
    if not isinstance(data, dict):
        raise PolicyError([PolicyProblem(path="", message="a policy must be a mapping of sections", line=1,
                                         column=1, source=source)])
    for parts, message in cross_reference_problems(data):
        line, col = _locate(root, parts)
        problems.append(PolicyProblem(path=_format_path(parts), message=message, line=line, column=col, source=source))
    try:
        model = PolicyModel.model_validate(data)
    except ValidationError as exc:
        seen = {(p.path, p.message) for p in problems}
        problems.extend(p for p in _problems_from_validation(exc, root, source, {"cls": "class"})
                        if (p.path, p.message) not in seen)
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise PolicyError(problems)
    return model


def load_policy_file(path: str | os.PathLike[str]) -> PolicyModel:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PolicyError([PolicyProblem(path="", message="policy file not found", source=str(p))]) from None
    except OSError as exc:
        raise PolicyError([PolicyProblem(path="", message=f"cannot read policy: {exc.strerror}",
                                         source=str(p))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([PolicyProblem(path="", message=f"policy is not UTF-8 (byte {exc.start})",
                                         source=str(p))]) from None
    return parse_policy_text(text, source=str(p))

"""Presidio's patterns (Python ``regex`` syntax) translated once to RE2, which runs in linear time:
lookarounds and backreferences RE2 lacks are dropped to a superset, confirmed by Presidio's own
pattern at each candidate (see ``Translation``)."""

from __future__ import annotations

from dataclasses import dataclass

from .ascii_fold import _regex


@dataclass(frozen=True, slots=True)
class Translation:
    """An RE2 rendering of a Presidio pattern.

    ``pattern`` is matched against ``fold(text)``. ``group`` is the capture group holding the entity
    (1 when a lookbehind/lookahead became a consumed prefix/suffix, else 0). ``step_back`` is 1 when
    a prefix consumes the character before the entity, so the next search starts one back. ``exact``
    is False when a construct was dropped: the RE2 pattern then matches a superset of positions and
    each candidate must be confirmed by the original pattern.
    """

    pattern: str
    group: int
    step_back: int
    exact: bool


_UNSUPPORTED_GROUPS = ("(?>", "(?|", "(?(", "(?&", "(?R", "(?P=", "(?P>", "(?'")
_SPACE_CLASS = r"\t-\r "  # the regex module's ASCII \s; RE2's \s lacks \v


def _class_end(p: str, i: int) -> int:
    """Index just past the character class opening at p[i] == '['."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    if j >= len(p):
        raise ValueError("unterminated character class")
    return j + 1


def _group_end(p: str, i: int) -> int:
    """Index just past the group opening at p[i] == '('."""
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced parenthesis")


def _negate_single(item: str) -> str | None:
    """RE2 class matching one character that ``item`` (a class, escape or literal) does not."""
    if item.startswith("[") and _class_end(item, 0) == len(item):
        inner = item[1:-1]
        body = inner[1:] if inner.startswith("^") else "^" + inner
        return "[" + _convert_class_body(body) + "]"
    if len(item) == 2 and item[0] == "\\" and item[1] in "wdsWDS":
        return {"w": r"\W", "d": r"\D", "s": f"[^{_SPACE_CLASS}]", "W": r"\w", "D": r"\d",
                "S": f"[{_SPACE_CLASS}]"}[item[1]]
    if len(item) == 1 and item not in "()[]{}|*+?.^$\\":
        return f"[^{item}]"
    if len(item) == 2 and item[0] == "\\" and not item[1].isalnum():
        return f"[^{item}]"
    return None


def _convert_class_body(body: str) -> str:
    out, j = [], 0
    while j < len(body):
        if body[j] == "\\" and j + 1 < len(body):
            esc = body[j + 1]
            if esc == "s":
                out.append(_SPACE_CLASS)
            elif esc == "S":
                raise ValueError(r"\S inside a class")
            else:
                out.append(body[j:j + 2])
            j += 2
        else:
            out.append(body[j])
            j += 1
    return "".join(out)


def _translate_body(p: str, groups: list[str]) -> tuple[str, bool]:
    """RE2 text for ``p``: groups made non-capturing, lookarounds dropped, backreferences widened.

    ``groups`` collects the translated text of each capturing group, numbered as the original
    numbers them, so a backreference can be replaced by what its group may match.
    """
    out: list[str] = []
    exact = True
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            esc = p[i + 1]
            if esc.isdigit() and esc != "0":
                k = int(esc)
                if k > len(groups) or not groups[k - 1]:
                    raise ValueError("backreference to an open or unknown group")
                out.append("(?:" + groups[k - 1] + ")")
                exact = False
            elif esc == "s":
                out.append(f"[{_SPACE_CLASS}]")
            elif esc == "S":
                out.append(f"[^{_SPACE_CLASS}]")
            elif esc == "Z":
                out.append(r"\z")
            elif esc == "x":
                code = p[i + 2:i + 4]
                if len(code) < 2 or int(code, 16) > 127:
                    raise ValueError("escape beyond ASCII")
                out.append(p[i:i + 4])
                i += 4
                continue
            elif esc in "pPNuUgGXRKhH":
                raise ValueError(f"escape \\{esc}")
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = _class_end(p, i)
            out.append("[" + _convert_class_body(p[i + 1:j - 1]) + "]")
            i = j
            continue
        if c == "(":
            if p.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                i = _group_end(p, i)
                exact = False
                continue
            if p.startswith("(?#", i):
                i = p.index(")", i) + 1
                continue
            if p.startswith(_UNSUPPORTED_GROUPS, i):
                raise ValueError("group construct")
            j = _group_end(p, i)
            if p.startswith("(?P<", i):
                inner_start, head, capturing = p.index(">", i) + 1, "(?:", True
            elif p.startswith("(?", i):
                colon, close = p.find(":", i), p.find(")", i)
                if colon == -1 or close < colon:
                    out.append(p[i:close + 1])  # an inline flag group such as (?i): RE2 has it
                    i = close + 1
                    continue
                inner_start, head, capturing = colon + 1, p[i:colon + 1], False
            else:
                inner_start, head, capturing = i + 1, "(?:", True
            slot = len(groups)
            if capturing:
                groups.append("")
            inner, inner_exact = _translate_body(p[inner_start:j - 1], groups)
            if capturing:
                groups[slot] = inner
            exact = exact and inner_exact
            out.append(head + inner + ")")
            i = j
            continue
        if c == "{" and p.startswith("{,", i):
            out.append("{0,")
            i += 2
            continue
        if ord(c) > 127:
            raise ValueError("non-ASCII literal")
        out.append(c)
        i += 1
    return "".join(out), exact


def _top_level_alternation(p: str) -> bool:
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(p, i)
        elif c == "(":
            i = _group_end(p, i)
        elif c == "|":
            return True
        else:
            i += 1
    return False


def _split_lookaround(p: str) -> tuple[str | None, str, str | None]:
    """(negated class for a leading (?<!x), the rest, negated class for a trailing (?!x))."""
    prefix = suffix = None
    if p.startswith("(?<!"):
        end = _group_end(p, 0)
        neg = _negate_single(p[4:end - 1])
        if neg is not None:
            prefix, p = neg, p[end:]
    if p.endswith(")"):
        # find the group that closes at the very end
        i = 0
        last = -1
        while i < len(p):
            c = p[i]
            if c == "\\":
                i += 2
                continue
            if c == "[":
                i = _class_end(p, i)
                continue
            if c == "(":
                j = _group_end(p, i)
                if j == len(p):
                    last = i
                    break
                i = j
                continue
            i += 1
        if last != -1 and p.startswith("(?!", last):
            neg = _negate_single(p[last + 3:-1])
            if neg is not None:
                suffix, p = neg, p[:last]
    return prefix, p, suffix


def translate(pattern: str, flags: int) -> Translation:
    """Translate a Presidio pattern (``regex`` syntax, Presidio's flags) to RE2. Raises ValueError."""
    regex = _regex()

    unsupported = regex.VERBOSE | regex.ASCII | getattr(regex, "V1", 0) | regex.LOCALE
    if flags & unsupported:
        raise ValueError("unsupported flags")
    if "$" in pattern and not flags & regex.MULTILINE:
        raise ValueError("$ without MULTILINE")
    prefix, body, suffix = (None, pattern, None)
    if not _top_level_alternation(pattern):
        prefix, body, suffix = _split_lookaround(pattern)
    body_re2, exact = _translate_body(body, [])
    inline = ("(?s)" if flags & regex.DOTALL else "") + ("(?m)" if flags & regex.MULTILINE else "")
    if prefix is None and suffix is None:
        return Translation(inline + body_re2, 0, 0, exact)
    out = inline + (rf"(?:\A|{prefix})" if prefix else "") + "(" + body_re2 + ")"
    out += rf"(?:\z|{suffix})" if suffix else ""
    return Translation(out, 1, 1 if prefix else 0, exact)

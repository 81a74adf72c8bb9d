"""Linear-time pattern matching for everything that reads hostile text.

Python's ``re`` backtracks: a crafted input can make one pattern take seconds or hours. RE2
guarantees time linear in the input for every pattern it accepts (and refuses the constructs that
cannot be linear: backreferences, lookaround), so all of ctxguard's own patterns are compiled here.
Policy globs are translated to RE2 too, since they are matched against values a model produced.

Caution: google-re2's ``sub`` mis-encodes a non-ASCII *string* replacement ("é" comes out as "Ã©");
pass a function (``lambda _: "é"``) instead, which it handles correctly.
"""

from __future__ import annotations

import re
from typing import Any

import re2

# RE2 keeps a DFA cache per pattern; the default 8 MiB is plenty for our patterns.
_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20


def compile_linear(pattern: str, *, ignore_case: bool = False) -> Any:
    """Compile ``pattern`` with RE2. Raises ValueError (not re2.error) naming the pattern on failure."""
    options = re2.Options()
    options.max_mem = _OPTIONS.max_mem
    options.case_sensitive = not ignore_case
    options.log_errors = False  # errors become our ValueError; RE2's own logging would go to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(f"pattern is not linear-time compatible (RE2): {pattern!r}: {exc}") from None


def glob_to_regex(glob: str) -> str:
    """Shell-style glob -> anchored regex: ``*`` any run, ``?`` one character, ``[...]`` a class."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            while i + 1 < n and glob[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = glob.find("]", i + 2 if i + 1 < n and glob[i + 1] in "!^" else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:j]
                neg = body[:1] in ("!", "^")
                body = body[1:] if neg else body
                body = body.replace("\\", "\\\\").replace("]", "\\]")
                out.append(f"[{'^' if neg else ''}{body}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "(?s)^" + "".join(out) + "$"

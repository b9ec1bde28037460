"""Where a field is written in a TOML file: the line of a pydantic error's field path, for messages like
`config/agencies.toml:41: agencies[3].sla_days: ...`.

`tomllib` gives values but no positions, so a small scanner walks the text: table headers (`[a.b]`, and
`[[a]]` counted per array, so the fourth `[[agencies]]` is `agencies[3]`) and `key = value` lines (dotted keys
included). A path that is not written anywhere (a missing field, an item inside an inline array) falls back to
the nearest enclosing key or table that is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")
_PARTS = re.compile(_KEY_PART)


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Every table and key path written in `text` (array items as indexes), with its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}
    counts: dict[tuple[Any, ...], int] = {}  # array-of-tables path → items seen so far
    table: tuple[Any, ...] = ()
    in_string: str | None = None  # the delimiter of a multi-line string being skipped
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if in_string in line:
                in_string = None
            continue
        if match := _ARRAY_HEADER.match(line):
            path = _resolve(_split(match.group(1)), counts)
            counts[path] = counts.get(path, 0) + 1
            table = (*path, counts[path] - 1)
            _record(lines, table, number)
        elif match := _TABLE_HEADER.match(line):
            table = _resolve(_split(match.group(1)), counts)
            _record(lines, table, number)
        elif match := _KEY_LINE.match(line):
            _record(lines, (*table, *_split(match.group(1))), number)
            rest = line[match.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_string = quote
    return lines


def line_of(text: str, loc: Sequence[Any]) -> int:
    """The line where `loc` (a pydantic error location) is written, or its nearest written parent; 1 for the top."""
    lines = key_lines(text)
    path = tuple(part for part in loc if part != "[key]")
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _split(dotted: str) -> list[str]:
    parts = []
    for part in _PARTS.findall(dotted):
        parts.append(part[1:-1] if part[:1] in "\"'" else part)
    return parts


def _resolve(parts: list[str], counts: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """A header's dotted name as a concrete path: each array of tables on the way stands for its last item."""
    path: tuple[Any, ...] = ()
    for i, part in enumerate(parts):
        path = (*path, part)
        if i < len(parts) - 1 and path in counts:
            path = (*path, counts[path] - 1)
    return path


def _record(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], number: int) -> None:
    for end in range(1, len(path) + 1):
        lines.setdefault(path[:end], number)  # a parent is written where it first appears

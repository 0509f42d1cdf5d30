"""The in-place editor of a source record (`assets/sources/<id>.yaml`).

Maintainers write these records by hand, with comments, folded text and their own order, so
a promotion never re-dumps them: it edits the few lines that change (a file's `sha256`,
`bytes` and `taken_from`; the top-level `retrieved`, `vintage` and `coverage`) line by line,
keeping everything else byte for byte. The result is parsed back and must equal the old
record with exactly those changes, and must match the schema; a layout this editor cannot
edit safely is refused, asking for the edit by hand.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from paccto_data.acquire.records import validate_record
from paccto_data.errors import CatalogueError
from paccto_data.fileio import parse_yaml


class RecordEditError(CatalogueError):
    """A source record cannot be edited in place (an unusual layout); nothing was changed."""


_SCALAR = re.compile(
    r"^(?P<head>[ \t]*(?:-[ \t]+)?)(?P<key>[A-Za-z_][\w-]*):(?P<sp>[ \t]*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s#][^#\n]*?)?(?P<rest>[ \t]*(?:#.*)?)$"
)


def _set_value(line: str, value: str, quote_bare: bool) -> str:
    match = _SCALAR.match(line)
    old = match.group("value") or ""
    if old.startswith('"'):
        text = '"' + value + '"'
    elif old.startswith("'"):
        text = "'" + value + "'"
    else:
        text = f'"{value}"' if quote_bare else value
    sp = match.group("sp") or " "
    return f"{match.group('head')}{match.group('key')}:{sp}{text}{match.group('rest')}"


def _scalar(line: str) -> str | None:
    match = _SCALAR.match(line)
    if not match or not match.group("value") or match.group("value")[0] in ">|&*!{[":
        return None  # empty, a block scalar, an anchor, alias, tag or flow collection
    return match.group("value").strip().strip("\"'")


def _top_level(lines: list[str], key: str, path: Path) -> int:
    found = [i for i, line in enumerate(lines) if re.match(rf"^{key}:", line)]
    if len(found) != 1 or not _SCALAR.match(lines[found[0]]) or _scalar(lines[found[0]]) is None:
        raise RecordEditError(f"{path}: expected one plain `{key}: value` line at the top "
                              "level; edit it by hand")
    return found[0]


def _top_level_block(lines: list[str], key: str, path: Path) -> int:
    found = [i for i, line in enumerate(lines) if re.match(rf"^{key}:[ \t]*(#.*)?$", line)]
    if len(found) != 1:
        raise RecordEditError(f"{path}: expected one `{key}:` block at the top level")
    return found[0]


def _key_at(line: str, key: str, column: int, is_dash_line: bool) -> bool:
    if is_dash_line:
        return bool(re.match(rf"^[ \t]*-[ \t]+{key}:", line)) and \
            len(re.match(r"^[ \t]*-[ \t]+", line).group(0)) == column
    return bool(re.match(rf"^[ \t]{{{column}}}{key}:", line))


def _file_items(lines: list[str], path: Path) -> dict[str, tuple[int, int, int]]:
    """file id -> (first line, end line, key column) of each item of the `files:` list."""
    start = _top_level_block(lines, "files", path)
    end = next((i for i in range(start + 1, len(lines))
                if lines[i][:1] not in ("", " ", "\t", "#", "-")), len(lines))
    dashes = [(i, len(lines[i]) - len(lines[i].lstrip())) for i in range(start + 1, end)
              if re.match(r"^[ \t]*-[ \t]", lines[i])]
    if not dashes:
        raise RecordEditError(f"{path}: `files:` is not a block list of mappings; "
                              "edit it by hand")
    indent = min(d for _, d in dashes)
    starts = [i for i, d in dashes if d == indent]
    items = {}
    for n, first in enumerate(starts):
        last = starts[n + 1] if n + 1 < len(starts) else end
        column = len(re.match(r"^[ \t]*-[ \t]+", lines[first]).group(0))
        file_id = None
        for i in range(first, last):
            if _key_at(lines[i], "id", column, first == i):
                file_id = _scalar(lines[i])
        if file_id is None:
            raise RecordEditError(f"{path}: line {first + 1}: a file without an `id:`")
        items[file_id] = (first, last, column)
    return items


def _item_key(lines: list[str], item: tuple[int, int, int], key: str) -> int | None:
    first, last, column = item
    found = [i for i in range(first, last) if _key_at(lines[i], key, column, i == first)]
    return found[0] if found else None


def _set_coverage(lines: list[str], path: Path, years: tuple[int, int]) -> None:
    """`coverage: {first_year: N, last_year: M}` on one line: the two numbers replaced."""
    found = [i for i, line in enumerate(lines) if re.match(r"^coverage:[ \t]*\{", line)]
    if len(found) != 1:
        raise RecordEditError(f"{path}: expected one `coverage: {{first_year: ..., last_year: "
                              "...}` line at the top level; edit it by hand")
    line = lines[found[0]]
    for key, year in zip(("first_year", "last_year"), years):
        pattern = rf"(?P<lead>[{{,][ \t]*{key}:[ \t]*)-?[0-9]+(?=[ \t]*[,}}])"
        line, n = re.subn(pattern, rf"\g<lead>{int(year)}", line)
        if n != 1:
            raise RecordEditError(f"{path}: `coverage:` has no plain `{key}: <year>`; "
                                  "edit it by hand")
    lines[found[0]] = line


def edit_source_yaml(text: str, path: Path, files: Mapping[str, tuple[str, int, str | None]],
                     retrieved: str, vintage: str,
                     coverage: tuple[int, int] | None = None,
                     keep_taken_from: frozenset[str] = frozenset()) -> str:
    """The YAML `text` with new `sha256`/`bytes` (and `taken_from`: a new value, or None to
    remove the line) for each file id in `files`, new top-level `retrieved` and `vintage`,
    and, when given, new `coverage` years (first, last), edited line by line so that comments,
    order, quoting and wrapping stay as they were. The `taken_from` of the file ids in
    `keep_taken_from` is left as it is. The result is parsed back and must equal the old record
    with exactly those changes, and must match the schema."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    record = parse_yaml(text)
    expected = copy.deepcopy(record)
    for key, value in (("retrieved", retrieved), ("vintage", vintage)):
        i = _top_level(lines, key, path)
        lines[i] = _set_value(lines[i], value, quote_bare=True)
        expected[key] = value
    if coverage is not None:
        _set_coverage(lines, path, coverage)
        expected["coverage"] = {**(expected.get("coverage") or {}),
                                "first_year": int(coverage[0]), "last_year": int(coverage[1])}
    items = _file_items(lines, path)
    remove = []
    for file_id, (sha, size, taken_from) in files.items():
        if file_id not in items:
            raise RecordEditError(f"{path}: no file {file_id!r} in `files:`")
        entry = next(f for f in expected["files"] if f["id"] == file_id)
        for key, value, quote in (("sha256", sha, False), ("bytes", str(size), False)):
            i = _item_key(lines, items[file_id], key)
            if i is None or _scalar(lines[i]) is None:
                raise RecordEditError(f"{path}: file {file_id!r} has no plain `{key}:` line")
            lines[i] = _set_value(lines[i], value, quote_bare=quote)
        entry["sha256"], entry["bytes"] = sha, size
        i = _item_key(lines, items[file_id], "taken_from")
        if i is not None and file_id not in keep_taken_from:
            if taken_from is None:
                remove.append(i)
                entry.pop("taken_from", None)
            else:
                lines[i] = _set_value(lines[i], taken_from, quote_bare=True)
                entry["taken_from"] = taken_from
    for i in sorted(remove, reverse=True):
        del lines[i]
    new_text = newline.join(lines)
    try:
        new_record = parse_yaml(new_text)
    except yaml.YAMLError as exc:
        raise RecordEditError(f"{path}: the in-place edit broke the YAML ({exc}); "
                              "nothing was changed: edit it by hand") from exc
    if new_record != expected:
        raise RecordEditError(f"{path}: the in-place edit did not give the expected record "
                              "(an unusual layout?); nothing was changed: edit it by hand")
    validate_record(new_record, path)
    return new_text

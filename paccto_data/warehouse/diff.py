"""The one table diff: two versions of a table compared on a key, in DuckDB.

Package versioning compares each table with the published release (paccto_data/publication/
versions.py); the refresh report compares a source's staging tables built from the bundled
snapshot and from the download (paccto_data/refresh/). Both ask here, so "revised" means the
same thing in a CHANGELOG.md and in a refresh report: a row whose key exists on both sides
and where some other shared column IS DISTINCT FROM its old value (two nulls are equal).

The sides may be anything DuckDB scans (a pyarrow Table, a pandas DataFrame, a relation);
the joins run in DuckDB, so memory follows the differences, not the tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb

OCCURRENCE = "_occurrence"  # added to a key that is not unique: rows compared as a multiset


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class TableDiff:
    """What changed between `old` and `new`, compared on `key`.

    `added` and `removed` hold the whole rows (new and old columns respectively), `revised`
    one row per changed value: the key, `column`, `old` and `new` (as text). All three are
    sorted by key. A retyped field is reported, not compared value by value."""

    key: list[str]
    old_rows: int
    new_rows: int
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    fields_retyped: dict[str, tuple[str, str]] = field(default_factory=dict)
    compared: list[str] = field(default_factory=list)  # the fields compared value by value
    added: object = None  # pyarrow.Table
    removed: object = None
    revised: object = None

    @property
    def counts(self) -> tuple[int, int, int]:
        """(rows added, rows removed, rows with a revised value)."""
        revised_rows = 0
        if self.revised is not None and self.revised.num_rows:
            con = duckdb.connect()
            try:
                con.register("revised", self.revised)
                keys = ", ".join(quote(k) for k in self.key)
                revised_rows = con.execute(
                    f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM revised)").fetchone()[0]
            finally:
                con.close()
        return self.added.num_rows, self.removed.num_rows, revised_rows

    @property
    def revised_by_column(self) -> dict[str, int]:
        """Changed values per column, in the order of the columns."""
        counts = dict.fromkeys(self.compared, 0)
        for column in self.revised.column("column").to_pylist():
            counts[column] += 1
        return {column: n for column, n in counts.items() if n}

    @property
    def identical(self) -> bool:
        return (self.counts == (0, 0, 0) and not self.fields_added and not self.fields_removed
                and not self.fields_retyped)


def is_unique(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str]) -> bool:
    """No two rows of `table` share a key, a null being a value like any other (as the
    joins pair rows: a null key matches a null key)."""
    keys = ", ".join(quote(k) for k in key)
    return con.execute(f"SELECT (SELECT count(*) FROM {table}) = "
                       f"(SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {table}))"
                       ).fetchone()[0]


def infer_key(old, new, preferred: Sequence[str], never: Sequence[str] = ()) -> list[str]:
    """A key for two tables that declare none: the `preferred` columns present on both sides
    when they are unique on both; otherwise the shortest prefix of those followed by the
    other shared columns (except `never` and floating-point columns) that is unique. If no
    prefix is, all of them: the diff then adds an occurrence counter."""
    con = duckdb.connect()
    try:
        con.register("old_rows", old)
        con.register("new_rows", new)
        old_types = dict(con.execute("SELECT column_name, column_type FROM "
                                     "(DESCRIBE old_rows)").fetchall())
        new_types = dict(con.execute("SELECT column_name, column_type FROM "
                                     "(DESCRIBE new_rows)").fetchall())
        shared = [c for c in old_types if c in new_types]
        first = [c for c in preferred if c in shared]
        floats = {"FLOAT", "DOUBLE", "REAL"}
        candidates = first + [c for c in shared if c not in first and c not in never
                              and old_types[c] not in floats and new_types[c] not in floats]

        def unique(key: list[str]) -> bool:
            return bool(key) and is_unique(con, "old_rows", key) and \
                is_unique(con, "new_rows", key)

        if unique(first):
            return first
        for n in range(1, len(candidates) + 1):
            if unique(candidates[:n]):
                return candidates[:n]
        return candidates
    finally:
        con.close()


def diff_tables(old, new, key: Sequence[str],
                types: tuple[Mapping[str, str], Mapping[str, str]] | None = None) -> TableDiff:
    """Compare `old` with `new` on `key` (columns of both). `types`, when given, is the
    (old, new) type of each field in the caller's own terms (e.g. Table Schema types); by
    default DuckDB's types of the two sides are compared."""
    key = list(key)
    con = duckdb.connect()
    try:
        con.register("old_in", old)
        con.register("new_in", new)
        old_fields = [r[0] for r in con.execute("DESCRIBE old_in").fetchall()]
        new_fields = [r[0] for r in con.execute("DESCRIBE new_in").fetchall()]
        if types is None:
            types = (dict(con.execute("SELECT column_name, column_type FROM "
                                      "(DESCRIBE old_in)").fetchall()),
                     dict(con.execute("SELECT column_name, column_type FROM "
                                      "(DESCRIBE new_in)").fetchall()))
        old_types, new_types = types
        retyped = {f: (old_types[f], new_types[f]) for f in new_fields
                   if f in old_fields and f not in key and old_types.get(f) != new_types.get(f)}
        compared = [f for f in new_fields if f in old_fields and f not in key
                    and f not in retyped]
        match = list(key)
        if not (is_unique(con, "old_in", key) and is_unique(con, "new_in", key)):
            match.append(OCCURRENCE)  # identical keys repeated: pair them in file order
        for side in ("old", "new"):
            partition = ", ".join(quote(k) for k in key)
            con.execute(f"CREATE TEMP TABLE {side}_rows AS SELECT *, row_number() OVER "
                        f"(PARTITION BY {partition} ORDER BY _position) - 1 AS {OCCURRENCE} "
                        f"FROM (SELECT *, row_number() OVER () AS _position FROM {side}_in)")
        order = ", ".join(quote(k) for k in key)
        drop = f"EXCLUDE (_position, {OCCURRENCE})"
        added = con.sql(f"SELECT n.* {drop} FROM new_rows AS n ANTI JOIN old_rows AS o "
                            f"ON {_on(match)} ORDER BY {order}, _position").to_arrow_table()
        removed = con.sql(f"SELECT o.* {drop} FROM old_rows AS o ANTI JOIN new_rows AS n "
                              f"ON {_on(match)} ORDER BY {order}, _position").to_arrow_table()
        if compared:
            revised = _revised(con, key, match, compared)
        else:
            revised = con.sql(
                f"SELECT {', '.join(quote(k) for k in key)}, '' AS \"column\", "
                "'' AS old, '' AS new FROM new_rows LIMIT 0").to_arrow_table()
        old_rows = con.execute("SELECT count(*) FROM old_in").fetchone()[0]
        new_rows = con.execute("SELECT count(*) FROM new_in").fetchone()[0]
    finally:
        con.close()
    return TableDiff(
        key=key, old_rows=old_rows, new_rows=new_rows,
        fields_added=[f for f in new_fields if f not in old_fields],
        fields_removed=[f for f in old_fields if f not in new_fields],
        fields_retyped=retyped, compared=compared, added=added, removed=removed, revised=revised)


def _revised(con: duckdb.DuckDBPyConnection, key: list[str], match: list[str],
             compared: list[str]):
    """One row per changed value: key, column, old, new (as text), sorted by key."""
    selects = []
    for position, column in enumerate(compared):
        c = quote(column)
        name = column.replace("'", "''")
        selects.append(
            f"SELECT {', '.join(f'n.{quote(k)}' for k in key)}, '{name}' AS \"column\", "
            f"CAST(o.{c} AS VARCHAR) AS old, CAST(n.{c} AS VARCHAR) AS new, "
            f"n._position AS _position, {position} AS _column "
            f"FROM new_rows AS n JOIN old_rows AS o ON {_on(match)} "
            f"WHERE o.{c} IS DISTINCT FROM n.{c}")
    order = ", ".join(quote(k) for k in key)
    return con.sql(
        f"SELECT * EXCLUDE (_position, _column) FROM ({' UNION ALL '.join(selects)}) "
        f"ORDER BY {order}, _position, _column").to_arrow_table()


def _on(match: list[str]) -> str:
    """Rows pair up on equal keys, a null matching a null."""
    return " AND ".join(f"n.{quote(k)} IS NOT DISTINCT FROM o.{quote(k)}" for k in match)

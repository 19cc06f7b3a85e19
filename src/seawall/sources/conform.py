"""Give text fields their schema types, and name every value that does not fit.

Formats whose records arrive as text (JSON lines, CSV exports) build a table of strings;
``conform`` casts the columns that have a fixed type in the store (timestamps, ports,
pids...) in one vectorised DuckDB statement and returns the reason for each record that
holds a value its column cannot take. Such a record is quarantined whole rather than
stored with a silently emptied field.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from seawall.store.schema import CORE_COLUMNS, NATIVE_TYPE, TIMESTAMP, quote

REASON = "_reason"


def _typed(column: str, sqltype: str) -> str:
    value = quote(column)
    if column == TIMESTAMP or sqltype == "TIMESTAMPTZ":
        # ISO 8601 / RFC 3339 text, or epoch seconds / milliseconds.
        return f"""CASE
            WHEN regexp_full_match({value}, '\\d{{9,11}}(\\.\\d+)?') THEN to_timestamp(TRY_CAST({value} AS DOUBLE))
            WHEN regexp_full_match({value}, '\\d{{12,14}}') THEN to_timestamp(TRY_CAST({value} AS DOUBLE) / 1000)
            ELSE TRY_CAST({value} AS TIMESTAMPTZ) END"""
    if sqltype in ("INTEGER", "BIGINT"):
        # TRY_CAST alone takes '1e3', '0x1F' and '1_000' and rounds '80.5': only whole numbers pass.
        return f"CASE WHEN regexp_full_match({value}, '[+-]?\\d+(\\.0+)?') THEN TRY_CAST(TRY_CAST({value} AS DOUBLE) AS {sqltype}) END"
    return f"TRY_CAST({value} AS {sqltype})"


def conform(table: pa.Table) -> tuple[pa.Table, pa.Array]:
    """Cast fixed-type columns; return the typed table and a reason (or null) per row."""
    typed = {
        name: CORE_COLUMNS[name]
        for name in table.column_names
        if CORE_COLUMNS.get(name, NATIVE_TYPE) != NATIVE_TYPE and pa.types.is_string(table.schema.field(name).type)
    }
    if not typed:
        return table, pa.nulls(table.num_rows, pa.string())
    select = []
    checks = []
    for name in table.column_names:
        if name in typed:
            expr = _typed(name, typed[name])
            select.append(f"{expr} AS {quote(name)}")
            checks.append(
                f"CASE WHEN {quote(name)} IS NOT NULL AND ({expr}) IS NULL THEN "
                f"'field {name}: cannot read ''' || {quote(name)} || ''' as {typed[name].lower()}' END"
            )
        else:
            select.append(quote(name))
    sql = f"SELECT {', '.join(select)}, nullif(concat_ws('; ', {', '.join(checks)}), '') AS {REASON} FROM staged"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("staged", table)
        result = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return result.drop_columns([REASON]), result[REASON].combine_chunks()


def split_by_reason(table: pa.Table, reasons: pa.Array) -> tuple[pa.Table, pa.Table, pa.Array]:
    """Rows without a reason, rows with one, and those reasons."""
    if reasons.null_count == len(reasons):  # the common case: nothing to set aside, nothing to copy
        return table, table.slice(0, 0), pa.array([], pa.string())
    bad = pc.is_valid(reasons)
    return table.filter(pc.invert(bad)), table.filter(bad), reasons.filter(bad)

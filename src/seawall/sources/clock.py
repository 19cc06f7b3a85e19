"""Clock readings as logs print them ('Mar  6 12:00:00.123', 'Mar 6 2026 12:00:00', '2026 Mar 6 12:00:00'),
turned into timestamps with string functions and one cast.

DuckDB's strptime with a list of formats costs more than all the rest of syslog
parsing; rebuilding the text as ISO 8601 and casting it costs a fraction of that.
"""

from __future__ import annotations

MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec"


def clock_parts_sql(text: str) -> str:
    """SQL: the words of a clock reading (feed the result to ``clock_sql``)."""
    return f"string_split(regexp_replace(trim({text}), ' +', ' ', 'g'), ' ')"


def clock_sql(parts: str, year: str) -> str:
    """SQL: a clock reading split into words (``clock_parts_sql``) as a naive TIMESTAMP;
    NULL when it names no such date. Readings without a year are read in ``year``."""
    year_first = f"({parts}[1][1] BETWEEN '0' AND '9')"
    month = f"CASE WHEN {year_first} THEN {parts}[2] ELSE {parts}[1] END"
    position = f"strpos('{MONTHS}', {month})"
    return f"""TRY_CAST(
        CASE WHEN len({parts}) = 4 AND {year_first} THEN {parts}[1] WHEN len({parts}) = 4 THEN {parts}[3] ELSE {year} END
        || '-' || CASE WHEN length({month}) = 3 AND {position} % 3 = 1 THEN lpad(({position} // 3 + 1)::VARCHAR, 2, '0') END
        || '-' || lpad(CASE WHEN {year_first} THEN {parts}[3] ELSE {parts}[2] END, 2, '0')
        || ' ' || {parts}[-1][1:15] AS TIMESTAMP)"""

"""Intel matching benchmark: events against a large indicator set, in a workspace on disk.

    python bench/bench_intel.py                                  # 1M events, 100k indicators, 3 runs
    python bench/bench_intel.py --events 10000000 --indicators 1000000 --repeat 3

A workspace file is generated once (fixed seed, in DuckDB): events with source.ip,
destination.ip, url.domain, file.hash.sha256 (one event in ten) and a syslog-like
event.original line naming the addresses and the host; and an intel store holding STIX
indicators: 40% IPv4 addresses, 1% IPv4 CIDRs (/20 to /30, eleven prefix lengths), 30%
domains, 29% SHA-256 hashes; 100 in a million (--hits-per-million) are drawn from the
values the events carry, so there are hits, about as few as in a real hunt (and the CIDRs
catch some addresses by chance).
Addresses come from pools (1M distinct sources, 100k destinations), as in real traffic.

Each phase runs in a fresh process (harness.measure), its setup (imports, opening the
workspace, compiling the indicators where the phase does not time it) before the clock:

* compile   -- read and compile the indicators (patterns -> atoms)
* cidr      -- the address step alone: distinct addresses of the workspace -> those an IPv4
               atom covers (a CIDR, or an address filed as a /32)
* join      -- the column joins: exact values, addresses (the step above), validity; counts
               the distinct (indicator, event) hits
* text      -- the token pass over event.original (tokens joined with the indicators)
* detector  -- the whole detector: compile, joins, text, findings with evidence

Rates are events per second of the phase (indicators per second for compile).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import harness

# harness.PROBE, also timing the CPU seconds of the body (every thread of the process).
PROBE = harness.PROBE.replace("t0 = time.perf_counter()", "c0 = time.process_time()\nt0 = time.perf_counter()").replace(
    '"seconds": elapsed,', '"seconds": elapsed, "cpu": time.process_time() - c0,'
)


def measure(runner: str, source: Path, label: str) -> dict:
    """harness.measure with the CPU seconds of the timed body."""
    original = harness.PROBE
    harness.PROBE = PROBE
    try:
        return harness.measure(runner, source, label)
    finally:
        harness.PROBE = original


COMMON = """
    from pathlib import Path
    import ibis
    from seawall.detect.base import HuntContext
    from seawall.detect import intel
    from seawall.store import Workspace
    ws = Workspace(Path(SRC))
    ctx = HuntContext()
    events_table = ws.events()
    backend = ibis.get_backend(events_table)
    fields = intel.intel_fields()
    present = {p: [c for c in cols if c in events_table.columns] for p, cols in fields.items()}
    total = ws.count()
"""
RUNNERS = {
    "compile": COMMON
    + """
    table = ws.table(intel.INDICATORS)
    # run
    loaded = intel.load(table, fields, backend, ctx, "intel")
    events = loaded.compiled
""",
    "join": COMMON
    + """
    loaded = intel.load(ws.table(intel.INDICATORS), fields, backend, ctx, "intel")
    # run
    parts = list(intel.column_hits(events_table, loaded, present))
    hits = intel.in_validity(intel._union(parts), loaded, ctx).distinct().count().execute()
    events = total
""",
    "cidr": COMMON
    + """
    loaded = intel.load(ws.table(intel.INDICATORS), fields, backend, ctx, "intel")
    columns = sorted({c for p in loaded.address_paths for c in present.get(p, ())})
    # run
    lengths = loaded.lengths | {32}
    spelled = intel._cidr4_spellings(intel._distinct(events_table, columns), loaded.atoms, lengths, hosts=True)
    hits = spelled.to_pyarrow().num_rows
    events = total
""",
    "text": COMMON
    + """
    loaded = intel.load(ws.table(intel.INDICATORS), fields, backend, ctx, "intel")
    # run
    parts = list(intel.token_hits(events_table, loaded))
    hits = intel.in_validity(intel._union(parts), loaded, ctx).distinct().count().execute()
    events = total
""",
    "detector": COMMON
    + """
    # run
    findings = list(intel.IntelDetector().run(ws, ctx))
    assert findings and not ctx.skipped, (len(findings), ctx.skipped[:3])
    events = total
""",
}

# 'ip' expressions over an integer k: a deterministic IPv4 address per k.
_IP = "(hash(({k}) * 4 + 1) % 223 + 1)::VARCHAR || '.' || (hash(({k}) * 4 + 2) % 256)::VARCHAR || '.' || (hash(({k}) * 4 + 3) % 256)::VARCHAR || '.' || (hash(({k}) * 4) % 256)::VARCHAR"


def _ip(k: str) -> str:
    return _IP.format(k=k)


def generate(path: Path, events: int, indicators: int, hits_per_million: int = 100) -> None:
    """Write the workspace: events, then the intel store's tables with the indicators."""
    from seawall.intel.store import IntelStore, SourceBatch
    from seawall.store import Workspace

    with Workspace(path) as ws:
        con = ws.con
        for column in ("url.domain", "file.hash.sha256"):
            con.execute(f'ALTER TABLE events ADD COLUMN "{column}" VARCHAR')
        src, dst = _ip("hash(i) % 1000000"), _ip("hash(i * 7) % 100000 + 3000000")
        con.execute(
            f"""INSERT INTO events BY NAME
            SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds((i % 8640000)::BIGINT) AS "@timestamp",
                   '/evidence/fw' || (i % 8) || '.log' AS "seawall.source.path",
                   i * 120 AS "seawall.source.offset", i + 1 AS "seawall.source.line",
                   'net' AS "event.dataset", 'fw' || (i % 8) AS "host.name",
                   s AS "source.ip", d AS "destination.ip", dom AS "url.domain",
                   CASE WHEN i % 10 = 0 THEN sha256((hash(i) % 100000)::VARCHAR) END AS "file.hash.sha256",
                   'fw' || (i % 8) || ' kernel: ACCEPT IN=eth0 SRC=' || s || ' DST=' || d || ' PROTO=TCP DPT=443 host='
                       || dom AS "event.original"
            FROM (SELECT i, {src} AS s, {dst} AS d, 'h' || (hash(i * 13) % 500000) || '.example.net' AS dom
                  FROM range({events}) t(i))"""
        )
        store = IntelStore(ws)
        store.replace_source(SourceBatch("stix", "bench-advisory.json", "bench", name="Bench advisory"))
        sid = con.execute("SELECT source_id FROM intel_sources").fetchone()[0]
        # kind by row number: 0-39 IPv4, 40 CIDR, 41-70 domain, 71-99 SHA-256 (per 100)
        con.execute(
            f"""INSERT INTO intel_indicators BY NAME
            SELECT 'indicator--' || uuid() AS id, '{sid}' AS source_id, NULL AS name, NULL AS description,
                   '[' || CASE
                       WHEN m < 40 THEN 'ipv4-addr:value = ''' || CASE WHEN hit THEN {_ip("hash(j) % 1000000")}
                                                                     ELSE {_ip("j + 50000000")} END || ''''
                       WHEN m < 41 THEN 'ipv4-addr:value ISSUBSET ''' || {_ip("j + 90000000")} || '/' || (20 + j % 11) || ''''
                       WHEN m < 71 THEN 'domain-name:value = ''' || CASE WHEN hit THEN 'h' || (hash(j) % 500000) ||
                           '.example.net' ELSE 'x' || j || '.bad.example' END || ''''
                       ELSE 'file:hashes.''SHA-256'' = ''' || sha256(CASE WHEN hit THEN (hash(j) % 100000)::VARCHAR
                                                                          ELSE 'n' || j END) || ''''
                   END || ']' AS pattern,
                   'stix' AS pattern_type, TIMESTAMPTZ '2025-01-01 00:00:00+00' AS valid_from, NULL AS valid_until,
                   false AS revoked, 'amber' AS tlp, 'high' AS severity
            FROM (SELECT j, j % 100 AS m, hash(j * 3) % 1000000 < {hits_per_million} AS hit FROM range({indicators}) t(j))"""
        )
        con.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hits-per-million", type=int, default=100, help="indicators drawn from the events' values")
    parser.add_argument("--phases", default="compile,cidr,join,text,detector")
    args = parser.parse_args()
    phases = args.phases.split(",")
    with tempfile.TemporaryDirectory(prefix="seawall-bench-intel-") as tmp:
        source = Path(tmp) / "workspace.duckdb"
        print(f"generating {args.events:,} events, {args.indicators:,} indicators -> {source}", file=sys.stderr)
        generate(source, args.events, args.indicators, args.hits_per_million)
        size_mb = source.stat().st_size / 1e6
        runs: dict[str, list[dict]] = {p: [] for p in phases}
        for round_ in range(args.repeat):  # rounds interleaved: machine noise hits every phase alike
            for phase in phases:
                run = measure(RUNNERS[phase], source, phase)
                runs[phase].append(run)
                print(
                    f"round {round_ + 1} {phase}: {run['seconds']:.2f}s wall, {run['cpu']:.2f}s CPU, "
                    f"{run['peak_mb']:.0f} MB",
                    file=sys.stderr,
                )
    print(
        f"\n{args.events:,} events, {args.indicators:,} indicators, workspace {size_mb:.0f} MB; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"median of {args.repeat}\n"
    )
    print("| phase | median s | rate | median CPU s | best s (rate) | peak RSS MB | rounds s |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for phase in phases:
        seconds = statistics.median(r["seconds"] for r in runs[phase])
        unit = "indicators/s" if phase == "compile" else "events/s"
        rate = runs[phase][0]["events"] / seconds
        cpu = statistics.median(r["cpu"] for r in runs[phase])
        best = min(r["seconds"] for r in runs[phase])
        rounds = ", ".join(f"{r['seconds']:.2f}" for r in runs[phase])
        peak = max(r["peak_mb"] for r in runs[phase])
        print(
            f"| {phase} | {seconds:.2f} | {rate:,.0f} {unit} | {cpu:.2f} | {best:.2f} "
            f"({runs[phase][0]['events'] / best:,.0f}) | {peak:.0f} | {rounds} |"
        )


if __name__ == "__main__":
    main()

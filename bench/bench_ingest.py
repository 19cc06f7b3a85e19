"""Syslog ingest benchmark: Seawall end to end against reference points, side by side.

    python bench/bench_ingest.py            # 1M lines, 3 runs each, median reported
    python bench/bench_ingest.py --lines 200000 --repeat 5

Each measurement runs in a fresh process (so peak memory is that run's own; module
imports happen before the clock starts) and reads the same generated file into a new
DuckDB workspace file, closed (checkpointed to disk) before the clock stops:

* seawall      -- seawall.ingest.ingest(): sniff, parse (RFC 5424/3164), quarantine, store
* python-re    -- the straightforward way: Python's re per line, rows into Arrow batches
                  of 10k, same DuckDB insert; same fields as seawall
* load-floor   -- DuckDB's own CSV reader loading raw lines without parsing them: a floor
                  no parser that stores the lines can beat

The file mixes router and switch messages of five platforms with Linux sshd lines (see
``generate``), from a fixed seed. The python-re runner parses the syslog header only (no
device fields): a lower bound for a per-line regex parser.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
from pathlib import Path

from harness import measure

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

RUNNERS = {
    "seawall": """
        from pathlib import Path
        from seawall.ingest import ingest
        from seawall.store import Workspace
        # run
        with Workspace(Path(DB)) as ws:
            result = ingest([Path(SRC)], ws)
        events = result.events
    """,
    "python-re": """
        import re, datetime as dt, duckdb, pyarrow as pa
        from pathlib import Path
        from seawall.store import Workspace
        # run
        BSD = re.compile(r"^(?:<(\\d{1,3})>)?([A-Z][a-z]{2} [ 0-3]\\d \\d\\d:\\d\\d:\\d\\d) (\\S+) (?:([A-Za-z_/.][^\\s\\[\\]:]*)(?:\\[(\\d+)\\])?: ?)?(.*)$")
        V5 = re.compile(r"^<(\\d{1,3})>1 (\\S+) (\\S+) (\\S+) (\\S+) (\\S+) (-|(?:\\[(?:[^\\]\\\\]|\\\\.)*\\])+) ?(.*)$")
        cols = ["@timestamp", "host.name", "process.name", "process.pid", "message", "event.original",
                "log.syslog.priority", "log.syslog.msgid", "log.syslog.structured_data",
                "seawall.source.path", "seawall.source.offset", "seawall.source.line"]
        now = dt.datetime.now(dt.timezone.utc)
        events = 0
        with Workspace(Path(DB)) as ws, open(SRC, "rb") as fh, ws.transaction():
            rows = {c: [] for c in cols}
            offset = 0
            def flush():
                global events
                if rows["message"]:
                    table = pa.table({c: rows[c] for c in cols})
                    ws.append_events(table, now)
                    events += table.num_rows
                    for c in cols: rows[c].clear()
            for number, raw in enumerate(fh, start=1):
                line = raw.decode("utf-8", "replace").rstrip("\\r\\n")
                m = V5.match(line)
                if m:
                    pri, ts, host, app, pid, msgid, sd, msg = m.groups()
                    stamp = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
                else:
                    m = BSD.match(line)
                    if not m:
                        offset += len(raw); continue
                    pri, ts, host, app, pid, msg = m.groups(); msgid = sd = None
                    stamp = dt.datetime.strptime(f"{now.year} {ts}", "%Y %b %d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
                for c, v in zip(cols, (stamp, host, app, int(pid) if pid and pid.isdigit() else None, msg, line,
                                       int(pri) if pri else None, msgid, sd, SRC, offset, number)):
                    rows[c].append(v)
                offset += len(raw)
                if len(rows["message"]) >= 10000:
                    flush()
            flush()
    """,
    "load-floor": """
        import duckdb
        # run
        con = duckdb.connect(DB)
        con.execute(f"CREATE TABLE lines AS SELECT * FROM read_csv('{SRC}', columns={{'line': 'VARCHAR'}}, "
                    "delim=chr(1), quote='', escape='', header=false, auto_detect=false)")
        events = con.execute("SELECT count(*) FROM lines").fetchone()[0]
        con.close()
    """,
}


CISCO = [
    "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0/{a}, changed state to down",
    "%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: ops{a}] [Source: 10.20.{a}.{b}] [localport: 22] at 10:00:00 UTC Mon Oct 7 2024",
    "%PARSER-5-CFGLOG_LOGGEDCMD: User:ops{a}  logged command:interface GigabitEthernet0/0/{a}",
    "%BGP-5-ADJCHANGE: neighbor 10.255.{a}.{b} Up",
    "%SYS-5-CONFIG_I: Configured from console by ops{a} on vty0 (10.20.{a}.{b})",
    "%SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.{a}.{b}(4{b}) -> 10.0.0.1(22), 1 packet",
    "%SSH-5-SSH2_SESSION: SSH2 Session request from 10.20.{a}.{b} (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Succeeded",
    "%OSPF-5-ADJCHG: Process 1, Nbr 10.255.{a}.{b} on GigabitEthernet0/0/1 from LOADING to FULL, Loading Done",
]


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Mixed vendor syslog: Cisco IOS (40%), NX-OS (10%), IOS XR (5%), Junos BSD (15%) and
    RFC 5424 structured data (5%), Arista EOS (5%), Huawei VRP (5%), Linux sshd (15%)."""
    rng = random.Random(seed)
    hosts = [f"edge-r{i}" for i in range(1, 40)] + [f"jump-{i}" for i in range(1, 4)]
    with path.open("w") as fh:
        for i in range(lines):
            a, b = rng.randint(0, 255), rng.randint(1, 254)
            month, day = rng.choice(["Oct", "Nov"]), rng.randint(1, 28)
            clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
            host, user = rng.choice(hosts), f"ops{a % 8}"
            head = f"{month} {day:2d} {clock} {host}"
            kind = rng.random()
            if kind < 0.40:
                msg = rng.choice(CISCO).format(a=a % 8, b=b)
                line = f"<189>{head} {i}: *{month} {day} {clock}.{i % 1000:03d} UTC: {msg}"
            elif kind < 0.50:
                line = (
                    f"<189>{head} : 2024 {month} {day:2d} {clock} UTC: %AAA-6-AAA_ACCOUNTING_MESSAGE: "
                    f"update:10.20.{a}.{b}@ssh.{i}:{user}:show interface brief (SUCCESS)"
                )
            elif kind < 0.55:
                line = (
                    f"<189>{head} {i}: RP/0/RSP0/CPU0:{month} {day} {clock}.{i % 1000:03d} UTC: config[6{a}]: "
                    f"%MGBL-CONFIG-6-DB_COMMIT : Configuration committed by user '{user}'. "
                    f"Use 'show configuration commit changes 10000{b}' to view the changes."
                )
            elif kind < 0.70:
                text = rng.choice(
                    [
                        f"UI_COMMIT: User '{user}' requested 'commit' operation (comment: change {b})",
                        f"UI_CMDLINE_READ_LINE: User '{user}', command 'show route 10.{a}.{b}.0/24 '",
                        f"RT_FLOW_SESSION_CREATE: session created 10.1.{a}.{b}/5{b}->192.0.2.{b}/443 junos-https",
                    ]
                )
                line = f"{head} mgd[{rng.randint(100, 65000)}]: {text}"
            elif kind < 0.75:
                line = (
                    f"<165>1 2024-10-{day:02d}T{clock}.{i % 1000:03d}Z {host} mgd {rng.randint(100, 9999)} "
                    f'UI_DBASE_LOGIN_EVENT [junos@2636.1.1.1.2.18 username="{user}"] '
                    f"User '{user}' entering configuration mode"
                )
            elif kind < 0.80:
                line = (
                    f"{head} Aaa: %ACCOUNTING-6-CMD: {user} vty{a % 8} 10.20.{a}.{b} stop task_id={i} "
                    f"start_time=1729000000.{b} timezone=UTC service=shell priv-lvl=15 cmd=show version"
                )
            elif kind < 0.85:
                line = (
                    f"<189>{month} {day:2d} 2024 {clock} {host} %%01SHELL/5/CMDRECORD(s)[{b}]:Recorded command "
                    f'information. (Task=VT0, Ip=10.20.{a}.{b}, VpnName=, User={user}, AuthenticationMethod="Local-user", '
                    f'Command="display current-configuration", Result=Success)'
                )
            else:
                line = (
                    f"{head} sshd[{rng.randint(100, 65000)}]: "
                    f"Accepted publickey for {user} from 10.30.{a}.{b} port {rng.randint(1024, 65535)} ssh2"
                )
            fh.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    source = OUT / f"syslog-mixed-{args.lines}.log"
    if not source.exists():
        print(f"generating {args.lines} lines -> {source}", file=sys.stderr)
        generate(source, args.lines)
    size_mb = source.stat().st_size / 1e6
    results = {}
    for round_ in range(args.repeat):
        for name in RUNNERS:  # interleaved, so machine noise hits every runner alike
            run = measure(RUNNERS[name], source, name)
            results.setdefault(name, []).append(run)
            print(f"round {round_ + 1} {name:11s} {run['seconds']:.2f}s {run['peak_mb']:.0f} MB", file=sys.stderr)
    seawall = statistics.median(r["seconds"] for r in results["seawall"])
    print(
        f"\n{args.lines:,} lines, {size_mb:.0f} MB; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; median of {args.repeat}\n"
    )
    print("| runner | events | median s | lines/s | peak MB | time vs seawall |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        print(
            f"| {name} | {runs[0]['events']:,} | {seconds:.2f} | {args.lines / seconds:,.0f} | "
            f"{max(r['peak_mb'] for r in runs):.0f} | {seconds / seawall:.2f}x |"
        )


if __name__ == "__main__":
    main()

"""TACACS+ accounting ingest benchmark: generate tac_plus accounting lines, time Seawall's ingest.

    python bench/bench_tacacs.py                 # 1M lines, 3 runs, median reported
    python bench/bench_tacacs.py --lines 200000 --repeat 5

The input is written once per line count (fixed seed) to a temporary folder. Each
measurement runs in a fresh process (so peak memory is that run's own; imports happen
before the clock starts) and reads the file into a new DuckDB workspace file, closed
(checkpointed to disk) before the clock stops: sniff, parse, quarantine check, store.

The lines are what tac_plus (Shrubbery F4.0.4.28) writes to its accounting file: exec
session start and stop records and command accounting from IOS-style routers, with
the attribute-value pairs those devices send (task_id, timezone, service, start_time,
priv-lvl, cmd, stop_time, elapsed_time, disc-cause...). One line in a thousand is a
tac_plus-ng default-format line, so both shapes are exercised.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path

from harness import measure

RUNNER = """
    from pathlib import Path
    from seawall.ingest import ingest
    from seawall.store import Workspace
    # run
    with Workspace(Path(DB)) as ws:
        result = ingest([Path(SRC)], ws)
    (f,) = result.files
    assert f.error is None and f.format == "tacacs", (f.format, f.error)
    events, quarantined = f.parsed, f.quarantined
"""


COMMANDS = [
    "show running-config <cr>",
    "show ip bgp summary <cr>",
    "show interfaces GigabitEthernet0/0/{a} <cr>",
    "configure terminal <cr>",
    "interface GigabitEthernet0/0/{a} <cr>",
    "description uplink-{b} <cr>",
    "no shutdown <cr>",
    "ip route 10.{a}.{b}.0 255.255.255.0 10.255.0.{b} <cr>",
    "end <cr>",
    "write memory <cr>",
    "show logging | include BGP <cr>",
    "terminal length 0 <cr>",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def generate(path: Path, lines: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    nas = [f"10.20.{i // 8}.{i % 8 + 1}" for i in range(60)]
    users = [f"ops{i}" for i in range(12)] + ["noc-auto", "netadmin"]
    epoch = 1_773_000_000
    with path.open("w") as fh:
        for i in range(lines):
            a, b = rng.randint(0, 7), rng.randint(1, 254)
            month, day = rng.choice(MONTHS[9:11]), rng.randint(1, 28)
            clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
            head = f"{month} {day:2d} {clock}\t{rng.choice(nas)}\t{rng.choice(users)}\ttty{rng.randint(1, 6)}"
            rem = f"10.30.{a}.{b}"
            task = f"task_id={rng.randint(1, 99999)}\ttimezone=UTC\tservice=shell"
            start = epoch + i
            kind = rng.random()
            if i % 1000 == 999:  # tac_plus-ng's default accounting format
                fh.write(
                    f"2026-{rng.randint(10, 11)}-{day:02d} {clock} +0000 {rng.choice(nas)}\t{rng.choice(users)}\t"
                    f"tty{a}\t{rem}\tstop\tshell\t{rng.choice(COMMANDS).format(a=a, b=b)}\n"
                )
            elif kind < 0.80:
                cmd = rng.choice(COMMANDS).format(a=a, b=b)
                fh.write(f"{head}\t{rem}\tstop\t{task}\tstart_time={start}\tpriv-lvl=15\tcmd={cmd}\n")
            elif kind < 0.90:
                fh.write(f"{head}\t{rem}\tstart\t{task}\tstart_time={start}\n")
            else:
                elapsed = rng.randint(5, 7200)
                fh.write(
                    f"{head}\t{rem}\tstop\t{task}\tstart_time={start}\tdisc-cause=1\tdisc-cause-ext=1020\t"
                    f"pre-session-time=2\telapsed_time={elapsed}\tstop_time={start + elapsed}\n"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seawall-bench-tacacs-") as tmp:
        source = Path(tmp) / "tac_plus.acct"
        print(f"generating {args.lines:,} lines -> {source}", file=sys.stderr)
        generate(source, args.lines)
        size_mb = source.stat().st_size / 1e6
        runs = []
        for round_ in range(args.repeat):
            run = measure(RUNNER, source, "seawall")
            runs.append(run)
            print(f"round {round_ + 1}: {run['seconds']:.2f}s {run['peak_mb']:.0f} MB", file=sys.stderr)
    seconds = statistics.median(r["seconds"] for r in runs)
    print(
        f"\n{args.lines:,} lines, {size_mb:.0f} MB; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; median of {args.repeat}\n"
    )
    print("| runner | events | quarantined | median s | lines/s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| seawall tacacs | {runs[0]['events']:,} | {runs[0]['quarantined']:,} | {seconds:.2f} | "
        f"{args.lines / seconds:,.0f} | {max(r['peak_mb'] for r in runs):.0f} |"
    )
    print("\nrounds: " + ", ".join(f"{r['seconds']:.2f}" for r in runs) + " s")


if __name__ == "__main__":
    main()

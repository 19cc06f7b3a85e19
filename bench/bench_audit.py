"""Configuration audit benchmark: 1,000 devices of ~2,000 lines, two snapshots each.

    python bench/bench_audit.py                    # 1,000 devices, 3 runs, median reported
    python bench/bench_audit.py --devices 200 --repeat 5 --workers 1

The configurations are made once per invocation (fixed seed) in a temporary folder, from
the parser fixtures in tests/fixtures/configs: IOS XE, NX-OS, IOS XR, Junos (set form)
and EOS in turn, each with its own hostname and enough interfaces, ACL entries and static
routes to reach about 2,000 lines. A folder per device holds two ISO-dated snapshots; the
second changes a few lines (a description, a route added, an ACL entry removed, the
"last change" header), one device in eleven gains an implant account and one in
twenty-three loses a logging host (every platform gets both).

Each measurement is one ``run_audit`` in a fresh process (imports before the clock):
discover, parse both snapshots, run the catalog on the latest, diff, drift findings,
write findings.jsonl, audit.json and audit.html. ``events`` is the lines audited. The
process pool's workers are children of that process: their peak memory and CPU time are
reported beside the parent's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import measure

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "configs"
RUNNER = """
    import json, resource
    from pathlib import Path
    from seawall.audit import AuditRequest, run_audit
    out = Path(DB).parent / "audit"
    # run
    result = run_audit(AuditRequest(Path(SRC), out, workers={workers}))
    events = result.lines
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    Path({report!r}).write_text(json.dumps({{
        "timings": result.timings, "workers": result.workers, "devices": len(result.devices),
        "findings": len(result.findings), "statuses": sorted({{d.status for d in result.devices}}),
        "worker_peak_mb": children.ru_maxrss / 1024,
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "html_mb": (out / "audit.html").stat().st_size / 1e6, "json_mb": (out / "audit.json").stat().st_size / 1e6,
    }}))
"""
PLATFORMS = ("ios", "nxos", "iosxr", "junos", "eos")
BASES = {
    "ios": "iosxe_router.cfg",
    "nxos": "nxos_switch.cfg",
    "iosxr": "iosxr_router.cfg",
    "junos": "junos_router.set",
    "eos": "eos_switch.cfg",
}
IMPLANTS = {
    "ios": ["username cisco_tac_admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v"],
    "nxos": [
        "username cisco_tac_admin password 5 $5$JFHOLC$xq3jZ1a7uOjDqs3h0l2RgH0E1l7X/3q.Gr.0b9LGWn1  role network-admin"
    ],
    "iosxr": ["username cisco_tac_admin", " group root-system", " secret 5 $1$Vq8e$1oQ0n7p3v0r0c9ZbT4l2j/", "!"],
    "junos": [
        "set system login user cisco_tac_admin uid 2099",
        "set system login user cisco_tac_admin class super-user",
    ],
    "eos": ["username cisco_tac_admin privilege 15 role network-admin secret 5 $1$Hq2e$Ww8T0aX3vR1m9zF5cK7pL/"],
}
LOGGING = re.compile(r"^(logging (host|server|vrf \S+ host) |logging \d+\.\d+\.\d+\.\d+ |set system syslog host )")
HOSTNAME = re.compile(r"^(hostname |switchname |set system host-name )")
VOLATILE = re.compile(
    r"^(!! Last configuration change|! Last configuration change|!Running configuration|## Last commit)"
)


def _ip(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(0, 254), rng.randint(0, 254), rng.randrange(0, 252, 4)


def _ios(n: int, rng: random.Random) -> list[str]:
    a, b, c = _ip(rng)
    return [
        f"interface GigabitEthernet2/0/{n}",
        f" description cust-{rng.randint(1000, 9999)} circuit {n}",
        f" ip address 10.{a}.{b}.{c + 1} 255.255.255.252",
        " no shutdown",
        "!",
        f"ip route 10.{b}.{a}.0 255.255.255.0 10.{a}.{b}.{c + 2}",
        f"ip access-list extended CUST-{n}",
        f" 10 permit tcp 10.{b}.{a}.0 0.0.0.255 any eq 443",
        f" 20 permit udp 10.{b}.{a}.0 0.0.0.255 any eq 53",
        " 30 deny ip any any log",
        "!",
    ]


def _nxos(n: int, rng: random.Random) -> list[str]:
    a, b, c = _ip(rng)
    return [
        f"interface Ethernet2/{n}",
        f"  description cust-{rng.randint(1000, 9999)} circuit {n}",
        "  no switchport",
        f"  ip address 10.{a}.{b}.{c + 1}/30",
        "  no shutdown",
        f"ip route 10.{b}.{a}.0/24 10.{a}.{b}.{c + 2}",
        f"ip access-list CUST-{n}",
        f"  10 permit tcp 10.{b}.{a}.0/24 any eq 443",
        f"  20 permit udp 10.{b}.{a}.0/24 any eq 53",
        "  30 deny ip any any",
    ]


def _iosxr(n: int, rng: random.Random) -> list[str]:
    a, b, c = _ip(rng)
    return [
        f"interface GigabitEthernet0/0/1/{n}",
        f" description cust-{rng.randint(1000, 9999)} circuit {n}",
        f" ipv4 address 10.{a}.{b}.{c + 1} 255.255.255.252",
        "!",
        "router static",
        " address-family ipv4 unicast",
        f"  10.{b}.{a}.0/24 10.{a}.{b}.{c + 2}",
        " !",
        "!",
        f"ipv4 access-list CUST-{n}",
        f" 10 permit tcp 10.{b}.{a}.0 0.0.0.255 any eq 443",
        " 20 deny ipv4 any any",
        "!",
    ]


def _junos(n: int, rng: random.Random) -> list[str]:
    a, b, c = _ip(rng)
    return [
        f'set interfaces ge-1/{n // 48}/{n % 48} description "cust-{rng.randint(1000, 9999)} circuit {n}"',
        f"set interfaces ge-1/{n // 48}/{n % 48} unit 0 family inet address 10.{a}.{b}.{c + 1}/30",
        f"set routing-options static route 10.{b}.{a}.0/24 next-hop 10.{a}.{b}.{c + 2}",
        f"set firewall family inet filter CUST-{n} term web from source-address 10.{b}.{a}.0/24",
        f"set firewall family inet filter CUST-{n} term web from protocol tcp",
        f"set firewall family inet filter CUST-{n} term web from destination-port 443",
        f"set firewall family inet filter CUST-{n} term web then accept",
        f"set firewall family inet filter CUST-{n} term rest then discard",
    ]


def _eos(n: int, rng: random.Random) -> list[str]:
    a, b, c = _ip(rng)
    return [
        f"interface Ethernet{n + 60}",
        f"   description cust-{rng.randint(1000, 9999)} circuit {n}",
        "   no switchport",
        f"   ip address 10.{a}.{b}.{c + 1}/30",
        "!",
        f"ip route 10.{b}.{a}.0/24 10.{a}.{b}.{c + 2}",
        f"ip access-list CUST-{n}",
        f"   10 permit tcp 10.{b}.{a}.0/24 any eq https",
        "   20 deny ip any any",
        "!",
    ]


FILLERS: dict[str, Callable[[int, random.Random], list[str]]] = {
    "ios": _ios,
    "nxos": _nxos,
    "iosxr": _iosxr,
    "junos": _junos,
    "eos": _eos,
}


def first_snapshot(kind: str, name: str, rng: random.Random, target: int) -> list[str]:
    base = (FIXTURES / BASES[kind]).read_text().splitlines()
    base = [HOSTNAME.match(line).group(1) + name if HOSTNAME.match(line) else line for line in base]
    ends = base and base[-1].strip() == "end"
    body, tail = (base[:-1], ["end"]) if ends else (base, [])
    extra: list[str] = []
    n = 0
    while len(body) + len(extra) + len(tail) < target:
        extra.extend(FILLERS[kind](n, rng))
        n += 1
    return body + extra + tail


def second_snapshot(kind: str, lines: list[str], index: int, rng: random.Random) -> list[str]:
    """A few realistic edits: a description, a route, an ACL entry removed, the header."""
    out = [f"{line} (migrated)" if line.endswith(" circuit 3") else line for line in lines]
    out = [re.sub(r"\d{4}$", "2026", line) if VOLATILE.match(line) else line for line in out]
    entry = next((i for i, line in enumerate(out) if "permit udp" in line or "destination-port 443" in line), None)
    if entry is not None:
        del out[entry]
    filler = FILLERS[kind](10_000 + index, rng)
    routes = (
        filler[4:9] if kind == "iosxr" else [line for line in filler if "ip route" in line or "static route" in line]
    )
    at = len(out) - 1 if out[-1] == "end" else len(out)
    out[at:at] = routes
    logging = next((line for line in out if LOGGING.match(line)), None)
    if index % 23 == 0 and logging is not None:  # a Junos host is stated over several lines
        host = " ".join(logging.split()[:5]) + " " if kind == "junos" else logging
        out = [line for line in out if not (line == logging or line.startswith(host))]
    if index % 11 == 0:
        at = next(i for i, line in enumerate(out) if HOSTNAME.match(line)) + 1
        out[at:at] = IMPLANTS[kind]
    return out


def generate(root: Path, devices: int, seed: int = 7) -> int:
    """Write the devices' two snapshots; the number of lines written."""
    rng = random.Random(seed)
    total = 0
    for index in range(devices):
        kind = PLATFORMS[index % len(PLATFORMS)]
        name = f"{kind}-{index:04d}"
        folder = root / name
        folder.mkdir(parents=True)
        first = first_snapshot(kind, name, rng, rng.randint(1_900, 2_100))
        second = second_snapshot(kind, first, index, rng)
        (folder / "2026-11-01T0200.cfg").write_text("\n".join(first) + "\n")
        (folder / f"2026-11-{20 + index % 5:02d}T0300.cfg").write_text("\n".join(second) + "\n")
        total += len(first) + len(second)
    return total


def stage_split(root: Path, sample: int) -> dict[str, float]:
    """CPU ms per device for parse, catalog and diff (one process, the first ``sample``
    devices: every platform alike), and the parse per platform."""
    from seawall.detect import config_checks, drift
    from seawall.sources.configs import read_config

    catalog = config_checks.load_catalog()
    compromise = catalog.only("compromise")
    folders = sorted(root.iterdir(), key=lambda p: p.name.rsplit("-", 1)[1])[:sample]
    clock: dict[str, float] = {"parse": 0.0, "checks": 0.0, "diff": 0.0}
    kinds: dict[str, list[float]] = {}
    for folder in folders:
        t0 = time.process_time()
        before, after = (read_config(p) for p in sorted(folder.iterdir()))
        t1 = time.process_time()
        config_checks.evaluate(after, catalog)
        config_checks.evaluate(before, compromise)
        t2 = time.process_time()
        drift.diff(before, after)
        t3 = time.process_time()
        clock["parse"] += t1 - t0
        clock["checks"] += t2 - t1
        clock["diff"] += t3 - t2
        kinds.setdefault(after.platform or "?", []).append(t1 - t0)
    split = {k: v / len(folders) * 1e3 for k, v in clock.items()}
    split.update({f"parse {k}": sum(v) / len(v) * 1e3 for k, v in sorted(kinds.items())})
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU)")
    parser.add_argument("--sample", type=int, default=100, help="devices for the per-stage CPU split")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seawall-bench-audit-") as tmp:
        source = Path(tmp) / "configs"
        print(f"generating {args.devices:,} devices x 2 snapshots -> {source}", file=sys.stderr)
        lines = generate(source, args.devices)
        size_mb = sum(p.stat().st_size for p in source.rglob("*.cfg")) / 1e6
        runs, extras = [], []
        for round_ in range(args.repeat):
            report = Path(tmp) / f"run-{round_}.json"
            run = measure(RUNNER.format(workers=args.workers, report=str(report)), source, "seawall audit")
            extra = json.loads(report.read_text())
            runs.append(run)
            extras.append(extra)
            print(
                f"round {round_ + 1}: {run['seconds']:.2f}s, CPU {extra['cpu_s']:.1f}s, parent {run['peak_mb']:.0f} MB, "
                f"worker {extra['worker_peak_mb']:.0f} MB",
                file=sys.stderr,
            )
        split = stage_split(source, args.sample)
    assert runs[0]["events"] == lines, (runs[0]["events"], lines)
    seconds = statistics.median(r["seconds"] for r in runs)
    middle = sorted(zip(runs, extras, strict=True), key=lambda pair: pair[0]["seconds"])[len(runs) // 2][1]
    model = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in model.splitlines() if line.startswith("Model name")), "?")
    print(
        f"\n{args.devices:,} devices, 2 snapshots each, {lines:,} lines, {size_mb:.0f} MB; {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {middle['workers']} worker process(es); median of {args.repeat}\n"
    )
    print("| runner | lines | findings | median s | lines/s | CPU s | parent peak MB | worker peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| seawall audit | {lines:,} | {middle['findings']:,} | {seconds:.2f} | {lines / seconds:,.0f} | "
        f"{statistics.median(e['cpu_s'] for e in extras):.1f} | {max(r['peak_mb'] for r in runs):.0f} | "
        f"{max(e['worker_peak_mb'] for e in extras):.0f} |"
    )
    t = middle["timings"]
    print(
        f"\nmedian run's stages: content {t['content']:.2f} s, discover {t['discover']:.2f} s, audit {t['audit']:.2f} s "
        f"wall (CPU in workers: parse {t['parse_cpu']:.1f} s, checks + drift {t['checks_and_drift_cpu']:.1f} s), "
        f"write {t['write']:.2f} s (audit.html {middle['html_mb']:.0f} MB, audit.json {middle['json_mb']:.0f} MB)"
    )
    print(
        f"CPU per device, one process, {args.sample} devices: parse both snapshots {split['parse']:.1f} ms, "
        f"catalog {split['checks']:.1f} ms, diff {split['diff']:.1f} ms; parse by platform: "
        + ", ".join(f"{k[6:]} {v:.1f} ms" for k, v in split.items() if k.startswith("parse "))
    )
    print("rounds: " + ", ".join(f"{r['seconds']:.2f}" for r in runs) + " s; statuses " + ", ".join(middle["statuses"]))


if __name__ == "__main__":
    main()

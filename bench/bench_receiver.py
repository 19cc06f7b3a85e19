"""Live receiver benchmark: a paced sender against `seawall serve syslog` on loopback.

    python bench/bench_receiver.py                         # TCP, 20,000 msg/s for 60 s
    python bench/bench_receiver.py --proto udp --seconds 20
    python bench/bench_receiver.py --rate 50000 --framing octet

The receiver runs as a subprocess exactly as a user starts it. A sender in a separate
process sends realistic mixed lines (Cisco IOS 70%, Junos 10%, Linux sshd/sudo 20%, each
with the current time) at the given rate, paced in 10 ms steps, over TCP (newline or
octet-counting framing) or UDP (one datagram per message). Then the receiver gets
SIGTERM, and once it has exited the workspace is counted against what was sent.

Printed: messages sent and the rate achieved (TCP senders are held back when the store
falls behind, so the achieved rate shows that), events and quarantined rows stored, loss
(must be 0 over TCP), the receiver's CPU time and peak RSS (from wait4), how long it took
to stop, the largest backlog seen in its stats file, and for UDP the kernel's drop count.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CISCO = [
    "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0/{a}, changed state to down",
    "%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: ops{a}] [Source: 10.20.{a}.{b}] [localport: 22] at {clock}",
    "%PARSER-5-CFGLOG_LOGGEDCMD: User:ops{a}  logged command:interface GigabitEthernet0/0/{a}",
    "%BGP-5-ADJCHANGE: neighbor 10.255.{a}.{b} Up",
    "%SYS-5-CONFIG_I: Configured from console by ops{a} on vty0 (10.20.{a}.{b})",
    "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 198.51.100.{b}] [localport: 22] [Reason: Login Authentication Failed]",
]
JUNOS = [
    "UI_COMMIT: User 'ops{a}' requested 'commit' operation (comment: none)",
    "SSHD_LOGIN_FAILED: Login failed for user 'root' from host '203.0.113.{b}'",
    "UI_CMDLINE_READ_LINE: User 'ops{a}', command 'show route 10.{a}.{b}.0/24 '",
]
LINUX = [
    "sshd[{pid}]: Accepted publickey for ops{a} from 10.20.{a}.{b} port {port} ssh2",
    "sshd[{pid}]: Failed password for invalid user admin from 203.0.113.{b} port {port} ssh2",
    "sudo[{pid}]:   ops{a} : TTY=pts/0 ; PWD=/home/ops{a} ; USER=root ; COMMAND=/usr/bin/systemctl restart frr",
]


def make_lines(count: int, seed: int = 7) -> list[bytes]:
    """A pool of messages to cycle through, stamped with the current time (BSD, no year)."""
    rng = random.Random(seed)
    now = time.gmtime()
    clock = time.strftime("%b %d %H:%M:%S", now).replace(" 0", "  ", 1)
    lines = []
    for i in range(count):
        a, b, pid, port = (
            rng.randrange(1, 40),
            rng.randrange(1, 250),
            rng.randrange(1000, 60000),
            rng.randrange(1024, 65000),
        )
        kind = rng.random()
        if kind < 0.7:
            text = rng.choice(CISCO).format(a=a, b=b, clock=f"{clock} UTC")
            line = f"<189>{i}: edge-r{a}: {clock}.{rng.randrange(1000):03d} UTC: {text}"
        elif kind < 0.8:
            text = rng.choice(JUNOS).format(a=a, b=b)
            line = f"<29>{clock} mx-core{a % 4} mgd[{pid}]: {text}"
        else:
            text = rng.choice(LINUX).format(a=a, b=b, pid=pid, port=port)
            line = f"<86>{clock} jump-{a % 3} {text}"
        lines.append(line.encode())
    return lines


def send(proto: str, port: int, rate: int, seconds: float, framing: str) -> None:
    """The sender process: paced sends; prints {"sent", "seconds"} as JSON."""
    pool = make_lines(10_000)
    if proto == "tcp":
        sock = socket.create_connection(("127.0.0.1", port))
        if framing == "octet":
            frames = [b"%d %s" % (len(line), line) for line in pool]
        else:
            frames = [line + b"\n" for line in pool]
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", port))
        frames = pool
    sent, start, step, total = 0, time.perf_counter(), 0.01, int(seconds * rate)
    while sent < total:
        now = time.perf_counter()
        due = min(int((now - start) * rate), total) - sent
        if due > 0:
            chunk = [frames[(sent + k) % len(frames)] for k in range(due)]
            if proto == "tcp":
                sock.sendall(b"".join(chunk))
            else:
                for datagram in chunk:
                    with contextlib.suppress(BlockingIOError, ConnectionRefusedError):
                        sock.send(datagram)  # one that fails counts as lost in the comparison
            sent += due
        time.sleep(max(0.0, step - (time.perf_counter() - now)))
    elapsed = time.perf_counter() - start
    sock.close()
    print(json.dumps({"sent": sent, "seconds": elapsed}))


def wait_for_port(stats: Path, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"receiver exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            return json.loads(stats.read_text())["listeners"][0]["port"]
        except (OSError, ValueError, KeyError, IndexError):
            time.sleep(0.1)
    raise SystemExit("receiver did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=20_000, help="messages per second (default 20000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to send (default 60)")
    parser.add_argument("--proto", choices=["tcp", "udp"], default="tcp")
    parser.add_argument("--framing", choices=["lf", "octet"], default="lf", help="TCP framing (default: newline)")
    parser.add_argument("--batch-lines", type=int, default=20_000)
    parser.add_argument("--flush-seconds", type=float, default=1.0)
    parser.add_argument("--send", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the sender process
    args = parser.parse_args()
    if args.send is not None:
        send(args.proto, args.send, args.rate, args.seconds, args.framing)
        return

    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"receiver-{args.proto}-", dir=OUT))
    workspace, stats, log = folder / "live.duckdb", folder / "stats.json", folder / "receiver.log"
    receiver_cmd = [
        sys.executable, "-m", "seawall", "serve", "syslog", "--workspace", str(workspace),
        f"--{args.proto}", "127.0.0.1:0", "--stats", str(stats), "--report-seconds", "2",
        "--batch-lines", str(args.batch_lines), "--flush-seconds", str(args.flush_seconds),
    ]  # fmt: skip
    with open(log, "w") as log_file:
        receiver = subprocess.Popen(receiver_cmd, stderr=log_file, stdout=subprocess.DEVNULL)
        port = wait_for_port(stats, receiver)
        sender_cmd = [
            sys.executable, __file__, "--send", str(port), "--proto", args.proto, "--rate", str(args.rate),
            "--seconds", str(args.seconds), "--framing", args.framing,
        ]  # fmt: skip
        sender = subprocess.Popen(sender_cmd, stdout=subprocess.PIPE, text=True)
        backlog = 0
        while sender.poll() is None:
            time.sleep(0.5)
            with contextlib.suppress(OSError, ValueError, KeyError):
                backlog = max(backlog, json.loads(stats.read_text())["pending"])
        sent = json.loads(sender.stdout.read())  # type: ignore[union-attr]
        stopped = time.perf_counter()
        receiver.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(receiver.pid, 0)
        stop_seconds = time.perf_counter() - stopped
        receiver.returncode = os.waitstatus_to_exitcode(status)
    import duckdb

    final = json.loads(stats.read_text())
    con = duckdb.connect(str(workspace), read_only=True)
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    con.close()
    stored = events + quarantined
    cpu = usage.ru_utime + usage.ru_stime
    result = {
        "proto": args.proto,
        "framing": args.framing if args.proto == "tcp" else "datagram",
        "target_rate": args.rate,
        "sent": sent["sent"],
        "send_seconds": round(sent["seconds"], 2),
        "achieved_send_rate": round(sent["sent"] / sent["seconds"]),
        "events": events,
        "quarantined": quarantined,
        "lost": sent["sent"] - stored,
        "receiver_received": final["received"],
        "receiver_dropped": final["dropped"],
        "kernel_dropped": final["kernel_dropped"],
        "largest_backlog": backlog,
        "stop_seconds": round(stop_seconds, 2),
        "receiver_exit": receiver.returncode,
        "receiver_cpu_seconds": round(cpu, 1),
        "receiver_cpu_percent_of_one_core": round(100 * cpu / (sent["seconds"] + stop_seconds)),
        "receiver_peak_rss_mb": round(usage.ru_maxrss / 1024),
        "batches_written": final["batches_written"],
        "parse_seconds": final["parse_seconds"],
        "store_seconds": final["store_seconds"],
        "machine_load_average_1min": round(os.getloadavg()[0], 2),
        "workspace_mb": round(workspace.stat().st_size / 2**20, 1),
        "folder": str(folder),
    }
    print(json.dumps(result, indent=2))
    if args.proto == "tcp" and result["lost"]:
        print(f"LOSS OVER TCP: {result['lost']} messages", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The live syslog receiver, run the way a user runs it: `python -m seawall serve syslog`
as a subprocess, real sockets on 127.0.0.1 with ports the receiver picks, SIGTERM to stop;
then the workspace is opened and checked message by message."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.receive.framing import MAX_FRAME, FrameDecoder
from seawall.receive.receiver import (
    ListenAddress,
    Listener,
    Receiver,
    ReceiverConfig,
    format_peer,
    parse_listen_address,
)

CISCO_CONFIG = (
    b"<189>37: *Nov 25 21:40:01.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.1.2.3)"
)


# -- running the receiver --------------------------------------------------------------------
@dataclass
class Running:
    process: subprocess.Popen
    workspace: Path
    stats: Path
    ports: dict[str, int] = field(default_factory=dict)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[str, dict]:
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, stderr
        return stderr, json.loads(self.stats.read_text())


def start(tmp_path: Path, *listeners: str, workspace: Path | None = None) -> Running:
    workspace = workspace or tmp_path / "live.duckdb"
    stats = tmp_path / f"stats-{time.monotonic_ns()}.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "serve", "syslog", "--workspace", str(workspace), "--stats", str(stats),
         "--flush-seconds", "0.2", "--report-seconds", "0.5", *listeners],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"receiver exited with {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
        try:
            data = json.loads(stats.read_text())
            return Running(process, workspace, stats, {row["transport"]: row["port"] for row in data["listeners"]})
        except (OSError, ValueError):
            time.sleep(0.05)
    process.kill()
    pytest.fail("receiver did not start")


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", "serve", "syslog", *args], capture_output=True, text=True, timeout=120
    )


def rows(workspace: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(workspace), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def tcp(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def pause() -> None:
    time.sleep(0.05)  # let a segment leave before the next one


def octet(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def bsd(marker: str, app: str = "app") -> bytes:
    return f"<13>Nov 25 21:40:02 host1 {app}[42]: {marker}".encode()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_pem.write_to_path(str(folder / "server.key"))
    (folder / "server.pem").write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    return {"ca": ca, "cert": folder / "server.pem", "key": folder / "server.key", "ca_pem": folder / "ca.pem"}


def tls_client(ca: trustme.CA, port: int, client_cert: trustme.LeafCert | None = None) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if client_cert is not None:
        client_cert.configure_cert(context)
    return context.wrap_socket(tcp(port), server_hostname="127.0.0.1")


# -- one session over UDP, TCP (both framings) and TLS ---------------------------------------
@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, certs: dict) -> dict:
    """Everything a router could send, and some things it should not, then SIGTERM."""
    tmp = tmp_path_factory.mktemp("receiver")
    run = start(
        tmp, "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--tls", "127.0.0.1:0",
        "--cert", str(certs["cert"]), "--key", str(certs["key"]),
    )  # fmt: skip
    peers: dict[str, str] = {}

    # UDP: one message per datagram; a trailing newline or NUL is not part of it
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.connect(("127.0.0.1", run.ports["udp"]))
    peers["udp"] = format_peer(udp.getsockname())
    udp.send(CISCO_CONFIG + b"\n")
    udp.send(b'<165>1 2026-11-25T21:40:03.003Z core1 evntslog - ID47 [exampleSDID@32473 iut="3"] m-udp-5424\0')
    udp.send(b"m-udp-garbage without any syslog header")
    udp.close()

    # TCP, non-transparent framing: several messages per segment, one split over three,
    # CRLF and NUL trailers, Latin-1, an oversize line, and a last line without trailer
    lf = tcp(run.ports["tcp"])
    peers["lf"] = format_peer(lf.getsockname())
    lf.sendall(bsd("m-lf-1") + b"\n" + bsd("m-lf-2") + b"\r\n")
    pause()
    split = bsd("m-lf-3 split over segments")
    lf.sendall(split[:7])
    pause()
    lf.sendall(split[7:20])
    pause()
    lf.sendall(split[20:] + b"\n" + bsd("m-lf-4") + b"\0")
    lf.sendall(b"<13>Nov 25 21:40:02 host1 app[42]: m-lf-5 caf\xe9 latin-1\n")
    lf.sendall(bsd("m-lf-big ") + b"A" * 70_000 + b"\n")
    lf.sendall(bsd("m-lf-6 after the big one") + b"\n" + bsd("m-lf-7 no trailer, then close"))
    lf.close()

    # TCP, octet counting: the count split from its message, garbage, an oversize frame,
    # a newline after each frame (some senders add one), a frame cut off by the close
    oc = tcp(run.ports["tcp"])
    peers["octet"] = format_peer(oc.getsockname())
    oc.sendall(octet(bsd("m-oc-1")) + octet(bsd("m-oc-2")))
    pause()
    frame = octet(bsd("m-oc-3 split"))
    oc.sendall(frame[:1])
    pause()
    oc.sendall(frame[1:9])
    pause()
    oc.sendall(frame[9:] + b"\n")
    oc.sendall(b"GARBAGE\xff\xfe not a count " + octet(bsd("m-oc-4 after garbage")))
    oc.sendall(b"70000 " + bsd("m-oc-big ") + b"B" * (70_000 - len(bsd("m-oc-big "))))
    oc.sendall(octet(bsd("m-oc-5 after the big one")) + b"\n")
    oc.sendall(b"300 " + bsd("m-oc-cut"))
    oc.close()

    # TCP, octet counting that never resynchronises: the receiver closes the connection
    lost = tcp(run.ports["tcp"])
    lost.sendall(octet(bsd("m-lost-1")))
    with contextlib.suppress(OSError):  # the receiver may close before the last bytes are sent
        lost.sendall(b"x" * (MAX_FRAME + 10_000))
    lost.settimeout(10)
    try:
        closed = lost.recv(1) == b""
    except ConnectionResetError:
        closed = True
    lost.close()

    # TLS (RFC 5425): octet counting; a plain-text sender fails the handshake
    with tls_client(certs["ca"], run.ports["tls"]) as secure:
        peers["tls"] = format_peer(secure.getsockname())
        secure.sendall(octet(bsd("m-tls-1")) + octet(CISCO_CONFIG.replace(b"admin", b"tlsuser")))
    plain = tcp(run.ports["tls"])
    plain.sendall(bsd("m-tls-plain") + b"\n")
    plain.settimeout(10)
    with contextlib.suppress(OSError):
        plain.recv(100)  # the receiver gives up on the handshake and closes
    plain.close()

    # Still connected at SIGTERM: what was sent is read and stored; a half line is quarantined
    late = tcp(run.ports["tcp"])
    peers["late"] = format_peer(late.getsockname())
    late.sendall(bsd("m-late-1 sent just before the stop") + b"\n" + bsd("m-late-half"))
    pause()
    stderr, stats = run.stop()
    late.close()

    events = rows(run.workspace, "SELECT * FROM events")
    return {
        "run": run,
        "stderr": stderr,
        "stats": stats,
        "peers": peers,
        "closed": closed,
        "events": {_marker(e["message"]): e for e in events if "m-" in (e["message"] or "")},
        "event_rows": events,
        "quarantine": rows(run.workspace, "SELECT * FROM quarantine"),
        "files": rows(run.workspace, "SELECT * FROM files"),
    }


def _marker(text: str) -> str:
    for word in text.split():
        if word.startswith("m-"):
            return word
    return text


EXPECTED_EVENTS = {
    "m-udp-5424", "m-lf-1", "m-lf-2", "m-lf-3", "m-lf-4", "m-lf-5", "m-lf-6", "m-lf-7",
    "m-oc-1", "m-oc-2", "m-oc-3", "m-oc-4", "m-oc-5", "m-lost-1", "m-tls-1", "m-late-1",
}  # fmt: skip


def test_every_message_becomes_exactly_one_event(session: dict) -> None:
    assert set(session["events"]) == EXPECTED_EVENTS
    # the two Cisco lines (UDP and TLS) have no marker word: they are found by user
    users = sorted(e["user.name"] for e in session["event_rows"] if e["event.code"] == "SYS-5-CONFIG_I")
    assert users == ["admin", "tlsuser"]
    assert len(session["event_rows"]) == len(EXPECTED_EVENTS) + 2
    ids = [e["seawall.event.id"] for e in session["event_rows"]]
    assert len(set(ids)) == len(ids)


def test_cisco_config_line_over_udp_is_structured(session: dict) -> None:
    event = next(e for e in session["event_rows"] if e["user.name"] == "admin")
    assert event["source.ip"] == "10.1.2.3"
    assert event["event.action"] == "configuration-change"
    assert event["observer.vendor"] == "Cisco"
    assert event["event.original"] == CISCO_CONFIG.decode()  # the newline trailer is not part of it
    assert event["seawall.source.transport"] == "udp"
    assert event["log.source.address"] == session["peers"]["udp"]
    udp = session["stats"]["listeners"][0]
    assert event["seawall.source.path"] == udp["path"]
    assert udp["path"].startswith(f"syslog+udp://127.0.0.1:{udp['port']}/")
    assert event["seawall.source.offset"] == event["seawall.source.line"] == 1
    stamp = event["@timestamp"]  # the device clock; no year given, so this year (or the last)
    assert (stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second) == (11, 25, 21, 40, 1)


def test_rfc5424_over_udp_loses_its_nul_trailer(session: dict) -> None:
    event = session["events"]["m-udp-5424"]
    assert event["host.name"] == "core1"
    assert event["log.syslog.msgid"] == "ID47"
    assert event["message"] == "m-udp-5424"


def test_tcp_events_carry_peer_transport_and_sequence(session: dict) -> None:
    events, peers = session["events"], session["peers"]
    for marker in ("m-lf-1", "m-lf-3", "m-lf-7"):
        assert events[marker]["log.source.address"] == peers["lf"]
        assert events[marker]["seawall.source.transport"] == "tcp"
        assert events[marker]["process.name"] == "app"
    assert events["m-lf-3"]["message"] == "m-lf-3 split over segments"
    assert events["m-oc-3"]["message"] == "m-oc-3 split"
    assert events["m-oc-1"]["log.source.address"] == peers["octet"]
    assert events["m-late-1"]["log.source.address"] == peers["late"]
    order = [events[m]["seawall.source.offset"] for m in ("m-lf-1", "m-lf-2", "m-lf-3", "m-lf-4", "m-lf-5")]
    assert order == sorted(order) and len(set(order)) == 5
    for event in session["event_rows"]:
        assert "\n" not in event["event.original"] and not event["event.original"].endswith(("\r", "\0"))


def test_non_utf8_is_read_as_latin1_and_noted(session: dict) -> None:
    assert session["events"]["m-lf-5"]["message"] == "m-lf-5 café latin-1"
    assert "not UTF-8" in " ".join(session["stats"]["notes"])


def test_tls_messages_are_stored_with_their_transport(session: dict) -> None:
    event = session["events"]["m-tls-1"]
    assert event["seawall.source.transport"] == "tls"
    assert event["log.source.address"] == session["peers"]["tls"]
    assert event["seawall.source.path"].startswith("syslog+tls://127.0.0.1:")
    assert session["stats"]["connections"]["tls_handshake_failed"] == 1


def test_quarantine_rows_name_their_reason_and_place(session: dict) -> None:
    by_reason: dict[str, list[dict]] = {}
    for row in session["quarantine"]:
        reason = row["reason"]  # the parser's own reason, or the receiver's "kind: details"
        key = "no syslog header" if reason.startswith("no syslog header") else reason.split(":")[0]
        by_reason.setdefault(key, []).append(row)
    assert sorted((k, len(v)) for k, v in by_reason.items()) == [
        ("framing error", 2),
        ("no syslog header", 1),
        ("oversize frame", 1),
        ("oversize message", 1),
        ("truncated", 1),
        ("truncated frame", 1),
    ]
    garbage = next(r for r in by_reason["framing error"] if "resumed" in r["reason"])
    assert garbage["record"].startswith("GARBAGE") and "not a count" in garbage["record"]
    closed = next(r for r in by_reason["framing error"] if "connection closed" in r["reason"])
    assert len(closed["record"]) == MAX_FRAME
    for kind in ("oversize frame", "oversize message"):
        (row,) = by_reason[kind]
        assert len(row["record"]) == MAX_FRAME and "m-" in row["record"][:60]
        assert "65536" in row["reason"]
    (cut,) = by_reason["truncated frame"]
    assert "after" in cut["reason"] and "of 300 bytes" in cut["reason"] and "m-oc-cut" in cut["record"]
    (half,) = by_reason["truncated"]
    assert "m-late-half" in half["record"] and "receiver stopped" in half["reason"]
    (no_header,) = by_reason["no syslog header"]
    assert no_header["record"].startswith("m-udp-garbage")
    for row in session["quarantine"]:
        assert row["seawall.source.path"].startswith(("syslog+udp://", "syslog+tcp://"))
        assert row["seawall.source.offset"] == row["seawall.source.line"] >= 1


def test_connection_whose_framing_is_lost_is_closed_and_counted(session: dict) -> None:
    assert session["closed"]
    assert session["stats"]["connections"]["closed_on_framing_error"] == 1


def test_books_reconcile_and_nothing_accepted_was_lost(session: dict) -> None:
    stats = session["stats"]
    assert stats["state"] == "stopped"
    assert stats["received"] == stats["parsed"] + stats["quarantined"] + stats["dropped"]
    assert stats["dropped"] == 0 and stats["pending"] == 0 and stats["reconciles"]
    assert stats["parsed"] == len(session["event_rows"])
    assert stats["quarantined"] == len(session["quarantine"])
    assert stats["quarantined_by_receiver"] == {"oversize": 2, "framing": 2, "truncated": 2}
    assert stats["kernel_dropped"] == 0
    received = {row["path"]: row["received"] for row in stats["listeners"]}
    assert received == {
        next(p for p in received if "+udp" in p): 3,
        next(p for p in received if "+tcp" in p): 8 + 8 + 2 + 2,  # lf, octet, lost, late
        next(p for p in received if "+tls" in p): 2,
    }
    # every sequence number was given to exactly one stored row: no gaps, nothing twice
    for row in stats["listeners"]:
        stored = [e["seawall.source.offset"] for e in session["event_rows"] if e["seawall.source.path"] == row["path"]]
        stored += [q["seawall.source.offset"] for q in session["quarantine"] if q["seawall.source.path"] == row["path"]]
        assert sorted(stored) == list(range(1, row["received"] + 1))
    assert "books: received 25 = events 18 + quarantined 7 + dropped 0" in session["stderr"]


def test_session_is_recorded_in_the_files_table(session: dict) -> None:
    files = {row["path"]: row for row in session["files"]}
    for listener in session["stats"]["listeners"]:
        row = files[listener["path"]]
        assert row["format"] == "syslog"
        assert row["records_read"] == row["parsed"] + row["quarantined"] == listener["received"]
        assert (row["parsed"], row["quarantined"]) == (listener["parsed"], listener["quarantined"])
        assert row["bytes"] == listener["bytes"] > 0
        assert row["error"] is None


def test_second_session_adds_to_the_same_workspace(session: dict, tmp_path: Path) -> None:
    run = start(tmp_path, "--udp", "127.0.0.1:0", workspace=session["run"].workspace)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(bsd("m-second-session"), ("127.0.0.1", run.ports["udp"]))
    udp.close()
    _, stats = run.stop(signal.SIGINT)
    assert stats["parsed"] == 1
    events = rows(run.workspace, 'SELECT "seawall.event.id" AS id, "seawall.source.path" AS path FROM events')
    assert len(events) == len(session["event_rows"]) + 1
    assert len({e["id"] for e in events}) == len(events)
    assert len(rows(run.workspace, "SELECT * FROM files")) == 4


def test_client_certificates_are_required_with_client_ca(certs: dict, tmp_path: Path) -> None:
    run = start(
        tmp_path, "--tls", "127.0.0.1:0", "--cert", str(certs["cert"]), "--key", str(certs["key"]),
        "--client-ca", str(certs["ca_pem"]),
    )  # fmt: skip
    with tls_client(certs["ca"], run.ports["tls"], certs["ca"].issue_cert("router-1.example")) as good:
        good.sendall(octet(bsd("m-with-cert")))
    try:
        with tls_client(certs["ca"], run.ports["tls"]) as bad:
            bad.sendall(octet(bsd("m-without-cert")))
            bad.settimeout(5)
            bad.recv(1)
    except (ssl.SSLError, OSError):
        pass
    _, stats = run.stop()
    messages = [e["message"] for e in rows(run.workspace, "SELECT message FROM events")]
    assert messages == ["m-with-cert"]
    assert stats["connections"]["tls_handshake_failed"] == 1


# -- command line errors ------------------------------------------------------------------
def test_help_teaches_with_router_examples() -> None:
    result = serve("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for needle in (
        "--udp",
        "--tcp",
        "--tls",
        "--client-ca",
        "logging host 192.0.2.10 transport tcp port 6514",
        "SIGTERM",
    ):
        assert needle in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "at least one listener"),
        (["--tls", "127.0.0.1:0"], "--tls needs --cert"),
        (["--tls", "127.0.0.1:0", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"], "no such file"),
        (["--udp", "127.0.0.1:0", "--timezone", "Mars/Olympus"], "not a time zone"),
        (["--tcp", "127.0.0.1:99999"], "from 0 to 65535"),
        (["--udp", "127.0.0.1:0", "--cert", "x.pem"], "are for a --tls listener"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = serve("--workspace", str(tmp_path / "ws.duckdb"), *args)
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = serve("--workspace", str(tmp_path / "ws.duckdb"), "--tcp", f"127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"--tcp 127.0.0.1:{port}: cannot listen: the port is in use" in " ".join(result.stderr.split())


# -- in-process: hand-off and framing ------------------------------------------------------
def test_backlog_limit_drops_udp_and_holds_tcp_back(tmp_path: Path) -> None:
    receiver = Receiver(
        ReceiverConfig(tmp_path / "ws.duckdb", [], batch_lines=2, queue_batches=1), log=lambda message: None
    )
    assert receiver.max_backlog == 10
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    listener = Listener(0, ListenAddress("udp", "127.0.0.1", sock.getsockname()[1]), sock, path="p")
    receiver.listeners.append(listener)
    receiver.queue.put_nowait([])  # the parser is busy: its queue is full
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for n in range(14):
        sender.sendto(bsd(f"m-{n}"), sock.getsockname())
    time.sleep(0.1)
    assert receiver._read_udp(listener, 100) == 14
    assert (listener.received, listener.dropped, receiver.dropped_queue_full) == (14, 4, 4)
    assert len(receiver.pending) == receiver.backlog == 10
    assert receiver.paused  # TCP and TLS are no longer read
    receiver.queue.get_nowait()  # the parser takes its batch: the waiting messages follow
    receiver._batch_written()
    assert receiver.pending == []
    assert [item[1] for item in receiver.queue.get_nowait()] == list(range(1, 11))  # 11-14 were dropped
    assert receiver.paused  # until the store has caught up
    receiver.stored_total += 10
    receiver._batch_stored()
    assert not receiver.paused and receiver.backlog == 0
    sock.close()
    sender.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("514", ("0.0.0.0", 514)),
        ("127.0.0.1:6514", ("127.0.0.1", 6514)),
        ("[::1]:5514", ("::1", 5514)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    address = parse_listen_address("tcp", text)
    assert (address.host, address.port) == expected


def test_peer_addresses() -> None:
    assert format_peer(("10.0.0.1", 514)) == "10.0.0.1:514"
    assert format_peer(("::ffff:10.0.0.1", 514, 0, 0)) == "10.0.0.1:514"
    assert format_peer(("2001:db8::1", 514, 0, 0)) == "[2001:db8::1]:514"


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _decode_all(data: bytes, cuts: list[int], max_frame: int = MAX_FRAME) -> tuple[list, FrameDecoder]:
    decoder = FrameDecoder(max_frame)
    frames = []
    for chunk in _chunks(data, cuts):
        frames += decoder.feed(chunk)
    return frames + decoder.finish(), decoder


# A message: any bytes, not empty, not ending in a trailer (those are removed).
_octet_messages = st.lists(
    st.binary(min_size=1, max_size=300).filter(lambda m: m.rstrip(b"\r\n\0") == m), min_size=1, max_size=30
)
# Newline framing: no LF or NUL inside, no CR at the end, and a first message that does
# not itself look like an octet count ("12 ...").
_lf_messages = st.lists(
    st.binary(min_size=1, max_size=300)
    .map(lambda m: m.replace(b"\n", b"").replace(b"\0", b"").rstrip(b"\r"))
    .filter(bool),
    min_size=1,
    max_size=30,
).filter(lambda ms: not re.match(rb"[\r\n\0]*[1-9][0-9]{0,8} ", ms[0]))
_cuts = st.lists(st.integers(min_value=0, max_value=20_000), max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(messages=_octet_messages, cuts=_cuts)
def test_octet_counting_gives_back_the_messages_in_order(messages: list[bytes], cuts: list[int]) -> None:
    data = b"".join(octet(m) for m in messages)
    frames, decoder = _decode_all(data, cuts)
    assert [f.payload for f in frames] == messages
    assert all(f.problem is None for f in frames) and not decoder.failed


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=_lf_messages,
    trailers=st.lists(st.sampled_from([b"\n", b"\r\n", b"\0"]), min_size=30, max_size=30),
    cuts=_cuts,
)
def test_newline_framing_gives_back_the_messages_in_order(
    messages: list[bytes], trailers: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(m + t for m, t in zip(messages, trailers))
    frames, _ = _decode_all(data, cuts)
    assert [f.payload for f in frames] == messages
    assert all(f.problem is None for f in frames)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), cuts=_cuts, max_frame=st.sampled_from([16, 100, MAX_FRAME]))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes, cuts: list[int], max_frame: int) -> None:
    frames, decoder = _decode_all(data, cuts, max_frame)
    for frame in frames:
        assert len(frame.payload) <= max_frame
        assert (frame.problem is None) == (frame.reason is None)
    kept = sum(len(f.payload) for f in frames)
    assert kept + decoder.discarded_bytes <= len(data)


# Garbage that cannot be read as a count or a frame start itself
_garbage = st.binary(min_size=1, max_size=50).filter(
    lambda g: b"<" not in g and not g.lstrip(b"\r\n\0")[:1].isdigit() and not g[-1:].isdigit()
)


@settings(max_examples=200)
@given(messages=_octet_messages, garbage=_garbage, cuts=_cuts)
def test_octet_counting_resumes_after_garbage(messages: list[bytes], garbage: bytes, cuts: list[int]) -> None:
    good = [b"<13>" + m for m in messages]
    data = octet(good[0]) + garbage + b"".join(octet(m) for m in good[1:])
    frames, decoder = _decode_all(data, cuts)
    assert [f.payload for f in frames if f.problem is None] == good
    assert [f.problem for f in frames if f.problem] in ([], ["framing"])
    assert not decoder.failed


def test_sighup_writes_a_snapshot_to_hunt_while_receiving(tmp_path: Path) -> None:
    run = start(tmp_path, "--udp", "127.0.0.1:0")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(CISCO_CONFIG, ("127.0.0.1", run.ports["udp"]))
    deadline = time.monotonic() + 30
    while json.loads(run.stats.read_text())["parsed"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    run.process.send_signal(signal.SIGHUP)
    snapshot = tmp_path / "live.snapshot.duckdb"
    while not snapshot.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    # the receiver still holds the workspace; its snapshot opens all the same
    assert [e["user.name"] for e in rows(snapshot, 'SELECT "user.name" FROM events')] == ["admin"]
    udp.sendto(bsd("m-after-snapshot"), ("127.0.0.1", run.ports["udp"]))
    udp.close()
    _, stats = run.stop()
    assert stats["parsed"] == 2
    assert len(rows(snapshot, "SELECT * FROM events")) == 1


def test_a_rolled_back_batch_does_not_poison_the_next(tmp_path: Path) -> None:
    """A batch whose transaction fails may have added a column; the store must not think
    the column is still there (every later batch with it would fail)."""
    import datetime as dt

    import pyarrow as pa

    from seawall.store import Workspace

    now = dt.datetime.now(dt.UTC)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        with contextlib.suppress(RuntimeError), ws.transaction():
            ws.append_events(pa.table({"message": ["a"], "cisco.brand_new": ["x"]}), now)
            raise RuntimeError("the batch failed")
        ws.append_events(pa.table({"message": ["b"], "cisco.brand_new": ["y"]}), now)
        assert ws.count() == 1

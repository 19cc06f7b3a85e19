"""Live syslog receiver: routers and servers send, the workspace fills as they do.

Listeners (asyncio, one event loop) take messages off the network:

* UDP (RFC 5426): one message per datagram, trailing newline and NUL removed;
* TCP (RFC 6587): the framing of each connection is recognised from its first bytes:
  octet counting (``LEN SP MSG``) or non-transparent framing (a message ends at LF,
  CRLF or NUL);
* TLS (RFC 5425): octet counting inside TLS (non-transparent framing tolerated).

The event loop only frames messages and numbers them. Every ``flush_seconds`` (or
``batch_lines`` messages) it hands what it gathered to a bounded queue; a parse thread
runs the same vectorised ``SyslogParser`` the file reader uses (one per receiver) while a
store thread writes the batch before in one transaction, so receiving never waits for
the store. When the backlog (received, not yet stored) reaches its limit, TCP and TLS
connections stop being read (the senders' kernels buffer and slow them down, nothing is
lost) and UDP messages are dropped and counted, loudly. SIGHUP writes a consistent copy
of the workspace, to hunt while the receiver holds the workspace itself.

Books, for the whole session and for each listener: received = parsed + quarantined +
dropped (+ pending while running). Each listener's session is one row in the
workspace's ``files`` table under a label such as
``syslog+tcp://0.0.0.0:6514/2026-11-25T21:40:00.000Z``, and each event's
``seawall.source.offset`` is the message's sequence number in that session, so event ids
(md5 of the label, then the offset) stay unique and gaps in the sequence show drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Full, Queue

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from seawall.errors import SeawallError
from seawall.receive.framing import FRAMING, MAX_FRAME, OVERSIZE, TRAILERS, TRUNCATED, Frame, FrameDecoder
from seawall.sources.syslog import SyslogParser
from seawall.store import Workspace
from seawall.store.schema import QUARANTINE_SCHEMA, SOURCE_LINE, SOURCE_OFFSET, SOURCE_PATH

QUEUE_BATCHES = 8  # batches waiting for the writer before the receiver holds back
# The parse thread merges queued batches up to this many messages: when the store is behind,
# batches of more than a DuckDB row group (122,880 rows) are written straight into the
# database file instead of its write-ahead log, which halves the cost of a commit.
MAX_WRITE_LINES = 150_000
DRAIN_IDLE_SECONDS = 0.3  # at shutdown, a connection silent this long has nothing more in flight
DRAIN_MAX_SECONDS = 5.0  # at shutdown, stop reading connections after this long in any case
TLS_HANDSHAKE_SECONDS = 10.0
UDP_RECEIVE_BUFFER = 32 << 20  # about a second of 20,000 short messages a second
UDP_READS_PER_WAKE = 256
UDP_DRAIN_READS = 200_000
WARNINGS_PER_REPORT = 3  # warnings of one kind printed per report period; the rest are counted

SOURCE_ADDRESS = "log.source.address"
SOURCE_TRANSPORT = "seawall.source.transport"
FORMAT = "syslog"


# -- configuration --------------------------------------------------------------------------
@dataclass(frozen=True)
class ListenAddress:
    transport: str  # udp | tcp | tls
    host: str
    port: int


def parse_listen_address(transport: str, text: str) -> ListenAddress:
    """``PORT``, ``HOST:PORT`` or ``[IPV6]:PORT`` (all interfaces when no host is given)."""
    text = text.strip()
    host = "0.0.0.0"
    port_text = text
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or not text[close + 1 :].startswith(":"):
            raise SeawallError(f"--{transport} {text}: write an IPv6 address as [ADDRESS]:PORT")
        host, port_text = text[1:close], text[close + 2 :]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        if ":" in host:
            raise SeawallError(f"--{transport} {text}: write an IPv6 address as [ADDRESS]:PORT")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise SeawallError(f"--{transport} {text}: the port must be a number from 0 to 65535 (0 picks a free port)")
    return ListenAddress(transport, host or "0.0.0.0", int(port_text))


@dataclass
class ReceiverConfig:
    workspace: Path
    listeners: list[ListenAddress]
    timezone: str = "UTC"
    flush_seconds: float = 1.0
    batch_lines: int = 20_000
    report_seconds: float = 10.0
    stats_path: Path | None = None  # default: <workspace>.receiver.json
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None
    max_frame: int = MAX_FRAME
    queue_batches: int = QUEUE_BATCHES


def default_stats_path(workspace: Path) -> Path:
    return workspace.with_name(workspace.name + ".receiver.json")


def snapshot_path(workspace: Path) -> Path:
    """Where SIGHUP copies the workspace: live.duckdb -> live.snapshot.duckdb."""
    return workspace.with_name(f"{workspace.stem}.snapshot{workspace.suffix or '.duckdb'}")


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_peer(peer: object) -> str:
    """``ip:port`` of a socket address (``[ip]:port`` for IPv6; IPv4-mapped IPv6 as IPv4)."""
    if not isinstance(peer, tuple) or len(peer) < 2:
        return str(peer or "")
    host, port = str(peer[0]), peer[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return format_address(host, port)


def udp_kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for this socket (its receive buffer was full): the
    ``drops`` column of /proc/net/udp or /proc/net/udp6, found by the socket's inode."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return None
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    if len(fields) >= 13 and fields[9] == inode:
                        return int(fields[12])
        except (OSError, ValueError):
            continue
    return None


# -- the receiver ----------------------------------------------------------------------------
@dataclass
class Listener:
    """One bound socket and its session's books."""

    index: int
    address: ListenAddress
    sock: socket.socket
    path: str = ""
    seq: int = 0  # sequence number of the last message received
    received: int = 0
    bytes: int = 0
    dropped: int = 0
    parsed: int = 0  # written by the writer thread
    quarantined: int = 0  # written by the writer thread
    kernel_dropped: int = 0
    server: asyncio.AbstractServer | None = None

    @property
    def transport(self) -> str:
        return self.address.transport

    @property
    def bound(self) -> str:
        return format_address(self.address.host, self.address.port)


# (listener index, sequence number, bytes, peer, reason if the receiver quarantines it)
Item = tuple[int, int, bytes, str, str | None]


class Receiver:
    """Listeners, the batch hand-off, and the parse and store threads of one receiver session."""

    def __init__(self, config: ReceiverConfig, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.log = log or _log
        self.listeners: list[Listener] = []
        self.stats_path = config.stats_path or default_stats_path(config.workspace)
        self.started = dt.datetime.now(dt.UTC)
        self.session = self.started.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.started.microsecond // 1000:03d}Z"
        self.workspace: Workspace | None = None
        self.parser: SyslogParser | None = None
        self.ssl_context: ssl.SSLContext | None = None
        # hand-off
        self.pending: list[Item] = []
        self.queue: Queue[list[Item] | None] = Queue(maxsize=config.queue_batches)
        # Messages received and not yet stored or dropped (gathered, queued, being parsed or
        # stored) are held in memory up to this many: then TCP and TLS are not read and UDP
        # messages are dropped, until the store has caught up to three quarters of it.
        self.max_backlog = (config.queue_batches + 4) * config.batch_lines
        self.received_total = 0  # by the event loop
        self.stored_total = 0  # by the store thread
        self.hand_off_due = False  # a hand-off found the queue full: retry when the parser takes a batch
        self.paused = False
        self.draining = False
        self.connections: set[_Connection] = set()
        # books kept by the event loop
        self.dropped_queue_full = 0
        self.dropped_store_error = 0  # by the writer
        self.quarantined_by_receiver = {OVERSIZE: 0, FRAMING: 0, TRUNCATED: 0}
        self.blank = 0
        self.discarded_bytes = 0
        self.accepted = 0
        self.closed_on_framing_error = 0
        self.tls_failed = 0
        self.notes: list[str] = []
        self.batches_written = 0
        self.parse_seconds = 0.0
        self.store_seconds = 0.0
        self.fatal: BaseException | None = None
        self._warned: dict[str, int] = {}
        self._last_report = (time.monotonic(), 0)
        self._peers: dict[object, str] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._threads: list[threading.Thread] = []
        self.snapshot_requested = threading.Event()
        self.snapshot_path = snapshot_path(config.workspace)
        self.prepared: Queue[_Prepared | None] = Queue(maxsize=1)  # parsed, waiting for the store

    # -- start ----------------------------------------------------------------------------
    def open(self) -> None:
        """Check the configuration, open the workspace and bind every listener. Raises
        SeawallError with what to do when something is wrong; nothing is left open then."""
        config = self.config
        if not config.listeners:
            raise SeawallError("give at least one listener: --udp, --tcp or --tls")
        _check_timezone(config.timezone)
        tls = [a for a in config.listeners if a.transport == "tls"]
        if tls:
            self.ssl_context = _tls_context(config.cert, config.key, config.client_ca)
        elif config.cert or config.key or config.client_ca:
            raise SeawallError("--cert, --key and --client-ca are for a --tls listener; add --tls [HOST:]PORT")
        try:
            for index, address in enumerate(config.listeners):
                sock = _bind(address)
                _host, port = sock.getsockname()[:2]
                bound = ListenAddress(address.transport, address.host, port)
                listener = Listener(index, bound, sock)
                listener.path = f"syslog+{address.transport}://{format_address(address.host, port)}/{self.session}"
                self.listeners.append(listener)
            try:
                self.workspace = Workspace(config.workspace)
            except duckdb.Error as exc:
                raise SeawallError(_workspace_error(config.workspace, exc)) from exc
            self.parser = SyslogParser(self.listeners[0].path, config.timezone, FORMAT)
            with self.workspace.transaction():
                for listener in self.listeners:
                    self.workspace.record_file(
                        listener.path, FORMAT, (0, time.time_ns()), (0, 0, 0), None, self.started
                    )
        except BaseException:
            self._close_everything()
            raise

    def run(self) -> int:
        """Open, serve until SIGTERM or SIGINT, then drain and store everything. Exit code:
        0 after a clean stop, 1 when the workspace could not be written."""
        self.open()
        return asyncio.run(self.serve())

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.request_snapshot)
        self._threads = [
            threading.Thread(target=self._parse_loop, name="seawall-parse", daemon=True),
            threading.Thread(target=self._store_loop, name="seawall-store", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        for listener in self.listeners:
            if listener.transport == "udp":
                loop.add_reader(listener.sock.fileno(), self._read_udp, listener, UDP_READS_PER_WAKE)
            else:
                listener.server = await loop.create_server(
                    lambda listener=listener: _Connection(self, listener), sock=listener.sock
                )
            self.log(f"listening on {listener.transport} {listener.bound} -> {listener.path}")
            if listener.transport == "udp":
                size = listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # Linux reports double
                hint = (
                    ""
                    if size >= UDP_RECEIVE_BUFFER // 2
                    else " (capped by net.core.rmem_max: raise it with sysctl, or give the receiver CAP_NET_ADMIN, "
                    "to ride out longer bursts)"
                )
                self.log(f"udp {listener.bound}: kernel receive buffer {size >> 10} KiB{hint}")
        self.log(
            f"writing to {self.config.workspace}; counts every {self.config.report_seconds:g} s in {self.stats_path}"
        )
        self._write_stats("running")
        tasks = [loop.create_task(self._every(self.config.flush_seconds, self.hand_off))]
        tasks.append(loop.create_task(self._every(self.config.report_seconds, self.report)))
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await self._shutdown()
        return 1 if self.fatal else 0

    def request_stop(self, why: str = "stop") -> None:
        if self._stop is None:
            return
        if self._stop.is_set():
            self.log(f"{why}: already stopping, storing what was received")
            return
        self.log(f"{why}: stopping")
        self._stop.set()

    def request_snapshot(self) -> None:
        self.log(f"SIGHUP: writing a snapshot of the workspace to {self.snapshot_path} after the current batch")
        self.snapshot_requested.set()

    async def _every(self, seconds: float, action: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(seconds)
            action()

    # -- receiving ----------------------------------------------------------------------
    def _peer(self, address: object) -> str:
        peer = self._peers.get(address)
        if peer is None:
            if len(self._peers) > 4096:
                self._peers.clear()
            peer = self._peers[address] = format_peer(address)
        return peer

    def _read_udp(self, listener: Listener, reads: int) -> int:
        """Read up to ``reads`` datagrams without waiting; the number read."""
        sock, count = listener.sock, 0
        while count < reads:
            try:
                data, address = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self.warn("udp", f"udp {listener.bound}: {exc}")
                break
            count += 1
            listener.bytes += len(data)
            payload = data.rstrip(TRAILERS)
            if not payload:
                self.blank += 1
                continue
            listener.seq += 1
            listener.received += 1
            self.received_total += 1
            if self.backlog > self.max_backlog and not self.draining:
                listener.dropped += 1
                self.dropped_queue_full += 1
                self._hold_back()
                self.warn(
                    "drop",
                    f"DROPPING UDP MESSAGES: the workspace is not keeping up ({self.max_backlog} messages waiting); "
                    "TCP and TLS senders are held back, UDP senders cannot be",
                )
                continue
            self.pending.append((listener.index, listener.seq, payload, self._peer(address), None))
            if len(self.pending) >= self.config.batch_lines and not self.hand_off_due:
                self.hand_off()
        return count

    def accept(self, listener: Listener, peer: str, frames: list[Frame]) -> None:
        """Number the frames of a connection and gather them for the next batch."""
        pending = self.pending
        self.received_total += len(frames)
        for frame in frames:
            listener.seq += 1
            listener.received += 1
            if frame.problem is not None:
                self.quarantined_by_receiver[frame.problem] += 1
                self.warn(frame.problem, f"{listener.transport} {peer}: {frame.reason}")
            pending.append((listener.index, listener.seq, frame.payload, peer, frame.reason))
        if len(pending) >= self.config.batch_lines and not self.hand_off_due:
            self.hand_off()
        if self.backlog >= self.max_backlog:
            self._hold_back()

    @property
    def backlog(self) -> int:
        """Messages received and neither stored nor dropped yet."""
        return self.received_total - self.stored_total - self.dropped_queue_full - self.dropped_store_error

    def hand_off(self) -> None:
        """Give what was gathered to the parse thread; when its queue is full, keep
        gathering (the backlog limit bounds how much)."""
        if self.pending:
            try:
                self.queue.put_nowait(self.pending)
            except Full:
                self.hand_off_due = True
                return
            self.pending = []
        self.hand_off_due = False

    def _hold_back(self) -> None:
        if self.paused or self.draining:
            return
        self.paused = True
        self.warn(
            "hold",
            f"the workspace is not keeping up ({self.backlog} messages waiting): "
            "holding TCP/TLS senders back (their kernels buffer, then they slow down)",
        )
        for connection in self.connections:
            connection.pause()

    def _resume(self) -> None:
        self.paused = False
        for connection in self.connections:
            connection.resume()

    def _batch_written(self) -> None:
        """Called in the event loop after the parse thread took batches off the queue."""
        if self.hand_off_due:
            self.hand_off()

    def _batch_stored(self) -> None:
        """Called in the event loop after the store thread committed a batch."""
        if self.paused and self.backlog < self.max_backlog * 3 // 4:
            self._resume()
        if self.hand_off_due:
            self.hand_off()

    def warn(self, kind: str, message: str) -> None:
        """Print a warning, at most a few of each kind per report period."""
        seen = self._warned.get(kind, 0)
        self._warned[kind] = seen + 1
        if seen < WARNINGS_PER_REPORT:
            self.log(f"warning: {message}")

    # -- writing (parse thread, then store thread) -----------------------------------------
    def _parse_loop(self) -> None:
        """Take batches off the queue (all that waits, up to MAX_WRITE_LINES, as one) and
        parse them; the store thread writes one batch while the next is parsed."""
        loop = self._loop
        ending = False
        while not ending:
            first = self.queue.get()
            if first is None:
                break
            batch = first
            while len(batch) < MAX_WRITE_LINES:
                try:
                    more = self.queue.get_nowait()
                except Empty:
                    break
                if more is None:
                    ending = True
                    break
                batch.extend(more)
            if loop is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._batch_written)
            started = time.monotonic()
            try:
                prepared = self._prepare(batch)
            except (duckdb.Error, pa.ArrowException, ValueError) as exc:
                self.log(f"warning: {len(batch)} messages could not be parsed ({exc}); quarantining them")
                prepared = self._prepare(batch, everything=_failed(exc))
            self.parse_seconds += time.monotonic() - started
            self.prepared.put(prepared)
        self.prepared.put(None)

    def _store_loop(self) -> None:
        while True:
            try:
                prepared = self.prepared.get(timeout=0.25)
            except Empty:
                self._snapshot_if_asked()
                continue
            if prepared is None:
                break
            started = time.monotonic()
            try:
                self._commit(prepared)
            except (duckdb.Error, pa.ArrowException, ValueError) as exc:
                self.log(f"warning: {prepared.count} messages could not be stored as events ({exc}); quarantining them")
                try:
                    self._commit(self._prepare(prepared.batch, everything=_failed(exc)))
                except (duckdb.Error, pa.ArrowException, ValueError) as exc2:
                    with self._lock:
                        self.dropped_store_error += prepared.count
                        for listener in self.listeners:
                            listener.dropped += int(prepared.received[listener.index])
                    self._fail(exc2)
            self.store_seconds += time.monotonic() - started
            self.batches_written += 1
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._batch_stored)
            self._snapshot_if_asked()
        try:
            self._update_files()
        except duckdb.Error as exc:
            self._fail(exc)

    def _snapshot_if_asked(self) -> None:
        """Copy the workspace for hunting while the receiver runs (asked for with SIGHUP)."""
        if not self.snapshot_requested.is_set() or self.workspace is None:
            return
        self.snapshot_requested.clear()
        started = time.monotonic()
        try:
            self.workspace.snapshot(self.snapshot_path)
        except (duckdb.Error, OSError) as exc:
            self.log(f"warning: no snapshot written to {self.snapshot_path}: {exc}")
            return
        with self._lock:
            stored = sum(listener.parsed for listener in self.listeners)
        self.log(
            f"snapshot written to {self.snapshot_path} in {time.monotonic() - started:.1f} s "
            f"({stored} events of this session in it)"
        )

    def _fail(self, exc: BaseException) -> None:
        if self.fatal is None:
            self.fatal = exc
            self.log(f"error: cannot write to the workspace {self.config.workspace}: {exc}")
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self.request_stop, "store failure")

    def _prepare(self, batch: list[Item], everything: str | None = None) -> _Prepared:
        """Parse a batch into the rows to store; ``everything`` quarantines the whole batch
        with that reason (when parsing or storing it failed)."""
        assert self.parser is not None
        now = dt.datetime.now(dt.UTC)
        indexes, seqs, payloads, peers, reasons = zip(*batch, strict=True)
        count = len(batch)
        listeners = len(self.listeners)
        listener_of = np.fromiter(indexes, dtype=np.int32, count=count)
        texts, lossy = _decode(payloads)
        if lossy:
            self._note("some messages are not UTF-8 and were read as Latin-1")
        paths = pa.DictionaryArray.from_arrays(
            pa.array(listener_of), pa.array([listener.path for listener in self.listeners])
        ).dictionary_decode()
        transports = pa.DictionaryArray.from_arrays(
            pa.array(listener_of), pa.array([listener.transport for listener in self.listeners])
        ).dictionary_decode()
        sequence = pa.array(seqs, pa.int64())
        addresses = pa.array(peers, pa.string())
        if everything is not None:
            reasons = (everything,) * count
        bad = [i for i, reason in enumerate(reasons) if reason is not None]
        good = np.arange(count) if not bad else np.setdiff1d(np.arange(count), np.array(bad), assume_unique=True)

        event_counts = np.zeros(listeners, dtype=np.int64)
        quarantine_counts = np.zeros(listeners, dtype=np.int64)
        quarantines = []
        events = None
        if len(good):
            rows = pa.array(good, pa.int64())
            lines = texts.take(rows) if bad else texts
            local = pa.array(np.arange(len(good), dtype=np.int64))
            parsed, quarantined, notes = self.parser.parse(lines, local, local, now)
            for note in notes:
                if not note.startswith("timestamps without a year"):  # the reference is now: nothing to say
                    self._note(note)
            where = pc.take(rows, parsed[SOURCE_OFFSET])
            event_counts += np.bincount(listener_of[_numpy(where)], minlength=listeners)
            events = _relabel(parsed, where, paths, sequence)
            events = events.append_column(SOURCE_ADDRESS, pc.take(addresses, where))
            events = events.append_column(SOURCE_TRANSPORT, pc.take(transports, where))
            if quarantined.num_rows:
                where = pc.take(rows, quarantined[SOURCE_OFFSET])
                quarantine_counts += np.bincount(listener_of[_numpy(where)], minlength=listeners)
                quarantines.append(_relabel(quarantined, where, paths, sequence))
        if bad:
            rows = pa.array(bad, pa.int64())
            quarantine_counts += np.bincount(listener_of[np.array(bad)], minlength=listeners)
            quarantines.append(
                pa.Table.from_arrays(
                    [
                        pa.array([reasons[i] for i in bad], pa.string()),
                        paths.take(rows),
                        pa.array([FORMAT] * len(bad), pa.string()),
                        sequence.take(rows),
                        sequence.take(rows),
                        texts.take(rows).cast(pa.string()),
                    ],
                    schema=QUARANTINE_SCHEMA,
                )
            )
        return _Prepared(
            batch=batch,
            count=count,
            events=events,
            quarantine=pa.concat_tables(quarantines) if quarantines else None,
            event_counts=event_counts,
            quarantine_counts=quarantine_counts,
            received=np.bincount(listener_of, minlength=listeners),
            ingested=now,
        )

    def _commit(self, prepared: _Prepared) -> None:
        """Store a parsed batch and the sessions' log rows in one transaction."""
        assert self.workspace is not None
        with self.workspace.transaction():
            if prepared.events is not None:
                self.workspace.append_events(prepared.events, prepared.ingested)
            if prepared.quarantine is not None:
                self.workspace.append_quarantine(prepared.quarantine, prepared.ingested)
            self._update_files(prepared.event_counts, prepared.quarantine_counts)
        with self._lock:
            for listener in self.listeners:
                listener.parsed += int(prepared.event_counts[listener.index])
                listener.quarantined += int(prepared.quarantine_counts[listener.index])
            self.stored_total += prepared.count

    def _update_files(self, more_events: np.ndarray | None = None, more_quarantined: np.ndarray | None = None) -> None:
        """Bring each session's row in the files table up to date (inside the batch's transaction)."""
        assert self.workspace is not None
        now_ns = time.time_ns()
        for listener in self.listeners:
            parsed = listener.parsed + (int(more_events[listener.index]) if more_events is not None else 0)
            quarantined = listener.quarantined + (
                int(more_quarantined[listener.index]) if more_quarantined is not None else 0
            )
            problems = []
            if listener.dropped:
                problems.append(f"{listener.dropped} messages received but dropped (the store was behind)")
            if listener.kernel_dropped:
                problems.append(f"the kernel dropped {listener.kernel_dropped} datagrams before they were read")
            self.workspace.update_file(
                listener.path,
                (listener.bytes, now_ns),
                (parsed + quarantined, parsed, quarantined),
                "; ".join(problems) or None,
            )

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)
            self.log(f"note: {note}")

    # -- stopping ----------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        loop = asyncio.get_running_loop()
        self.draining = True
        for listener in self.listeners:
            if listener.server is not None:
                listener.server.close()  # no new connections
        for listener in self.listeners:
            if listener.transport == "udp":
                loop.remove_reader(listener.sock.fileno())
                # What the kernel holds was sent before the stop. Reading is faster than any
                # sender, so this ends; the limit (far above what a receive buffer holds)
                # keeps it bounded all the same.
                self._read_udp(listener, UDP_DRAIN_READS)
                self._read_kernel_drops(listener)
                listener.sock.close()
        if self.paused:
            self._resume()
        # What senders wrote before the stop may still be on its way through the kernel:
        # read every connection until it has been quiet for a moment.
        deadline = loop.time() + DRAIN_MAX_SECONDS
        await asyncio.sleep(min(DRAIN_IDLE_SECONDS, 0.05) if not self.connections else DRAIN_IDLE_SECONDS)
        while self.connections and loop.time() < deadline:
            now = loop.time()
            if all(now - connection.last_data >= DRAIN_IDLE_SECONDS for connection in self.connections):
                break
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.close_by_receiver()
        for listener in self.listeners:
            if listener.server is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(listener.server.wait_closed(), 1.0)
        batch, self.pending = self.pending, []
        if batch:
            await loop.run_in_executor(None, self.queue.put, batch)
        await loop.run_in_executor(None, self.queue.put, None)
        for thread in self._threads:
            await loop.run_in_executor(None, thread.join)
        self._close_everything()
        self.report(final=True)

    def _close_everything(self) -> None:
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.sock.close()
        if self.parser is not None:
            self.parser.close()
            self.parser = None
        if self.workspace is not None:
            try:
                self.workspace.close()
            except duckdb.Error as exc:
                self._fail(exc)
            self.workspace = None

    # -- counts ------------------------------------------------------------------------------
    def _read_kernel_drops(self, listener: Listener) -> None:
        if listener.transport == "udp" and listener.sock.fileno() >= 0:
            drops = udp_kernel_drops(listener.sock)
            if drops is not None:
                listener.kernel_dropped = drops

    def counts(self) -> dict:
        """The session's books as written to the stats file."""
        with self._lock:
            listeners = [
                {
                    "transport": listener.transport,
                    "address": listener.bound,
                    "port": listener.address.port,
                    "path": listener.path,
                    "received": listener.received,
                    "parsed": listener.parsed,
                    "quarantined": listener.quarantined,
                    "dropped": listener.dropped,
                    "pending": listener.received - listener.parsed - listener.quarantined - listener.dropped,
                    "bytes": listener.bytes,
                    **({"kernel_dropped": listener.kernel_dropped} if listener.transport == "udp" else {}),
                }
                for listener in self.listeners
            ]
        totals = {key: sum(row[key] for row in listeners) for key in ("received", "parsed", "quarantined", "dropped")}
        pending = totals["received"] - totals["parsed"] - totals["quarantined"] - totals["dropped"]
        return {
            "session": self.session,
            "workspace": str(self.config.workspace.absolute()),
            "pid": os.getpid(),
            "started": self.started.isoformat().replace("+00:00", "Z"),
            "updated": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            **totals,
            "pending": pending,
            "reconciles": pending == 0,
            "dropped_by_reason": {"queue_full": self.dropped_queue_full, "store_error": self.dropped_store_error},
            "quarantined_by_receiver": dict(self.quarantined_by_receiver),
            "kernel_dropped": sum(row.get("kernel_dropped", 0) for row in listeners),
            "blank_messages_ignored": self.blank + sum(c.decoder.blank for c in self.connections),
            "discarded_bytes": self.discarded_bytes + sum(c.decoder.discarded_bytes for c in self.connections),
            "connections": {
                "accepted": self.accepted,
                "open": len(self.connections),
                "closed_on_framing_error": self.closed_on_framing_error,
                "tls_handshake_failed": self.tls_failed,
            },
            "batches_written": self.batches_written,
            "parse_seconds": round(self.parse_seconds, 3),
            "store_seconds": round(self.store_seconds, 3),
            "notes": list(self.notes),
            "listeners": listeners,
        }

    def report(self, final: bool = False) -> None:
        """Print the counts on stderr and write them to the stats file."""
        for listener in self.listeners:
            if not final:
                self._read_kernel_drops(listener)
        counts = self.counts()
        now = time.monotonic()
        since, before = self._last_report
        rate = (counts["received"] - before) / max(now - since, 1e-9)
        self._last_report = (now, counts["received"])
        suppressed = sum(max(0, n - WARNINGS_PER_REPORT) for n in self._warned.values())
        self._warned.clear()
        dropped = counts["dropped"]
        line = (
            f"{'stopped' if final else 'running'}: received {counts['received']}"
            + ("" if final else f" ({rate:.0f}/s)")
            + f", events {counts['parsed']}, quarantined {counts['quarantined']}, dropped {dropped}"
            + (f" (queue full {self.dropped_queue_full}, store error {self.dropped_store_error})" if dropped else "")
            + ("" if final else f", pending {counts['pending']}")
            + f", kernel dropped {counts['kernel_dropped']}"
            + f", connections open {counts['connections']['open']}"
            + (f" ({suppressed} more warnings)" if suppressed else "")
        )
        self.log(line)
        if final:
            verdict = (
                "every message received was stored"
                if counts["reconciles"] and not dropped
                else "NOT everything received was stored"
            )
            self.log(
                f"books: received {counts['received']} = events {counts['parsed']} + quarantined "
                f"{counts['quarantined']} + dropped {dropped}: {verdict}"
            )
        self._write_stats("stopped" if final else "running", counts)

    def _write_stats(self, state: str, counts: dict | None = None) -> None:
        data = {"state": state, **(counts or self.counts())}
        tmp = self.stats_path.with_name(self.stats_path.name + ".tmp")
        try:
            self.stats_path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=2) + "\n")
            os.replace(tmp, self.stats_path)
        except OSError as exc:
            self.warn("stats", f"cannot write the counts to {self.stats_path}: {exc}")


@dataclass
class _Prepared:
    """A parsed batch on its way to the store."""

    batch: list[Item]
    count: int
    events: pa.Table | None
    quarantine: pa.Table | None
    event_counts: np.ndarray  # per listener
    quarantine_counts: np.ndarray
    received: np.ndarray
    ingested: dt.datetime


def _failed(exc: BaseException) -> str:
    return f"not stored as an event: processing its batch failed ({type(exc).__name__}: {exc})"


class _Connection(asyncio.Protocol):
    """One TCP or TLS connection: frames what arrives and hands it to the receiver."""

    def __init__(self, receiver: Receiver, listener: Listener) -> None:
        self.receiver = receiver
        self.listener = listener
        self.decoder = FrameDecoder(receiver.config.max_frame)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.last_data = time.monotonic()
        self.finished = False
        self.upgrade: asyncio.Task | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        receiver = self.receiver
        self.transport = transport  # type: ignore[assignment]
        self.peer = format_peer(transport.get_extra_info("peername"))
        self.last_data = asyncio.get_running_loop().time()
        receiver.accepted += 1
        receiver.connections.add(self)
        if self.listener.transport == "tls":
            transport.pause_reading()  # type: ignore[attr-defined]  # the TLS layer takes over first
            self.upgrade = asyncio.get_running_loop().create_task(self._start_tls())
        elif receiver.paused:
            self.pause()

    async def _start_tls(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.transport is not None and self.receiver.ssl_context is not None
        try:
            self.transport = await loop.start_tls(  # type: ignore[assignment]
                self.transport,
                self,
                self.receiver.ssl_context,
                server_side=True,
                ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            self.receiver.tls_failed += 1
            self.receiver.warn("tls", f"tls {self.peer}: handshake failed: {exc}")
            self.receiver.connections.discard(self)
            self.finished = True
            return
        if self.receiver.paused and not self.receiver.draining:
            self.pause()

    def pause(self) -> None:
        if self.transport is not None and not self.transport.is_closing() and self.upgrade_done:
            with contextlib.suppress(RuntimeError):
                self.transport.pause_reading()

    def resume(self) -> None:
        self.last_data = asyncio.get_running_loop().time()
        if self.transport is not None and not self.transport.is_closing() and self.upgrade_done:
            with contextlib.suppress(RuntimeError):
                self.transport.resume_reading()

    @property
    def upgrade_done(self) -> bool:
        return self.upgrade is None or self.upgrade.done()

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        self.listener.bytes += len(data)
        frames = self.decoder.feed(data)
        if frames:
            self.receiver.accept(self.listener, self.peer, frames)
        if self.decoder.failed and self.transport is not None:
            self.receiver.closed_on_framing_error += 1
            self.receiver.warn(FRAMING, f"{self.listener.transport} {self.peer}: framing lost, connection closed")
            self._finish(peer_closed=True)
            self.transport.abort()

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(peer_closed=True)

    def close_by_receiver(self) -> None:
        if self.upgrade is not None and not self.upgrade.done():
            self.upgrade.cancel()
        self._finish(peer_closed=False)
        if self.transport is not None:
            self.transport.abort()

    def _finish(self, peer_closed: bool) -> None:
        if self.finished:
            return
        self.finished = True
        receiver = self.receiver
        frames = self.decoder.finish(peer_closed)
        if frames:
            receiver.accept(self.listener, self.peer, frames)
        receiver.blank += self.decoder.blank
        receiver.discarded_bytes += self.decoder.discarded_bytes
        receiver.connections.discard(self)


# -- helpers ------------------------------------------------------------------------------
def _log(message: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} seawall serve syslog: {message}", file=sys.stderr, flush=True)


def _decode(payloads: tuple[bytes, ...]) -> tuple[pa.Array, bool]:
    """Messages as text: UTF-8, or Latin-1 for a message that is not (every byte survives)."""
    raw = pa.array(payloads, pa.large_binary())
    try:
        return raw.cast(pa.large_string()), False
    except pa.ArrowInvalid:
        texts = []
        for payload in payloads:
            try:
                texts.append(payload.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(payload.decode("latin-1"))
        return pa.array(texts, pa.large_string()), True


def _relabel(table: pa.Table, rows: pa.Array, paths: pa.Array, sequence: pa.Array) -> pa.Table:
    """Give parsed rows (whose offset is their place in the batch) their session label and
    sequence number."""
    numbers = pc.take(sequence, rows)
    for name, values in ((SOURCE_PATH, pc.take(paths, rows)), (SOURCE_OFFSET, numbers), (SOURCE_LINE, numbers)):
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.to_numpy(zero_copy_only=False)


def _check_timezone(zone: str) -> None:
    con = duckdb.connect()
    try:
        con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01')", [zone])
    except duckdb.Error as exc:
        hint = str(exc).split("Candidate time zones:", 1)
        also = f" (close: {hint[1].strip()})" if len(hint) > 1 else ""
        raise SeawallError(f"--timezone {zone!r} is not a time zone name such as UTC or Europe/Paris{also}") from exc
    finally:
        con.close()


def _tls_context(cert: Path | None, key: Path | None, client_ca: Path | None) -> ssl.SSLContext:
    if cert is None or key is None:
        raise SeawallError("--tls needs --cert FILE and --key FILE (PEM: the server certificate chain and its key)")
    for option, path in (("--cert", cert), ("--key", key), ("--client-ca", client_ca)):
        if path is not None and not path.is_file():
            raise SeawallError(f"{option} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise SeawallError(f"cannot use --cert {cert} with --key {key}: {exc}") from exc
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise SeawallError(f"cannot use --client-ca {client_ca}: {exc}") from exc
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _bind(address: ListenAddress) -> socket.socket:
    kind = socket.SOCK_DGRAM if address.transport == "udp" else socket.SOCK_STREAM
    label = f"--{address.transport} {format_address(address.host, address.port)}"
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=kind, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SeawallError(f"{label}: cannot resolve {address.host!r}: {exc.strerror}") from exc
    family, socktype, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        else:
            _grow_receive_buffer(sock)
        sock.bind(sockaddr)
        if kind == socket.SOCK_STREAM:
            sock.listen(512)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            why = "the port is in use (another syslog daemon? `ss -lunpt` shows who holds it)"
        elif exc.errno == errno.EACCES:
            why = "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port such as 5514"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = "this machine has no such address"
        else:
            why = exc.strerror or str(exc)
        raise SeawallError(f"{label}: cannot listen: {why}") from exc
    return sock


def _grow_receive_buffer(sock: socket.socket) -> None:
    """A large UDP receive buffer rides out bursts while a batch is parsed (SO_RCVBUFFORCE
    passes net.core.rmem_max when running as root)."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, force, UDP_RECEIVE_BUFFER)
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)


def _workspace_error(path: Path, exc: duckdb.Error) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (
            f"the workspace {path} is open in another process (DuckDB allows one writer): "
            f"stop it or give another --workspace ({text})"
        )
    return f"cannot open the workspace {path}: {text}"

"""``seawall serve``: receivers that store evidence as it arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

EXIT_OK, EXIT_STORE_FAILED, EXIT_USAGE = 0, 1, 2

serve_app = typer.Typer(
    name="serve",
    help="Receive evidence live and store it in a workspace as it arrives.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(stderr=True)


@serve_app.callback()
def _serve() -> None:
    """Receive evidence live and store it in a workspace as it arrives."""


@serve_app.command("syslog")
def syslog(
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace",
            "-w",
            metavar="FILE",
            help="DuckDB workspace to store events in (created if missing; hunt it with --workspace after stopping).",
        ),
    ],
    udp: Annotated[
        list[str] | None,
        typer.Option(
            "--udp", metavar="[HOST:]PORT", help="Listen for syslog over UDP (RFC 5426), e.g. 514 or 0.0.0.0:5514."
        ),
    ] = None,
    tcp: Annotated[
        list[str] | None,
        typer.Option(
            "--tcp",
            metavar="[HOST:]PORT",
            help="Listen for syslog over TCP (RFC 6587: octet counting or newline framing, recognised per connection).",
        ),
    ] = None,
    tls: Annotated[
        list[str] | None,
        typer.Option(
            "--tls",
            metavar="[HOST:]PORT",
            help="Listen for syslog over TLS (RFC 5425, usually port 6514); needs --cert and --key.",
        ),
    ] = None,
    cert: Annotated[
        Path | None, typer.Option("--cert", metavar="FILE", help="PEM certificate (chain) the --tls listener presents.")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", metavar="FILE", help="PEM private key of --cert.")] = None,
    client_ca: Annotated[
        Path | None,
        typer.Option(
            "--client-ca",
            metavar="FILE",
            help="PEM CA certificates: --tls then accepts only senders with a client certificate they signed.",
        ),
    ] = None,
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone", metavar="ZONE", help="Zone of device clocks that print none (IANA name, e.g. Europe/Paris)."
        ),
    ] = "UTC",
    flush_seconds: Annotated[
        float,
        typer.Option(
            "--flush-seconds", min=0.05, metavar="S", help="Store what arrived at least this often (seconds)."
        ),
    ] = 1.0,
    batch_lines: Annotated[
        int,
        typer.Option("--batch-lines", min=1, metavar="N", help="Store as soon as this many messages are waiting."),
    ] = 20_000,
    report_seconds: Annotated[
        float,
        typer.Option(
            "--report-seconds", min=0.1, metavar="S", help="Print the counts and write the stats file this often."
        ),
    ] = 10.0,
    stats: Annotated[
        Path | None,
        typer.Option(
            "--stats", metavar="FILE", help="JSON file for the counts (default: the workspace path + .receiver.json)."
        ),
    ] = None,
) -> None:
    """Receive syslog from routers, switches and servers and store it in a workspace as it arrives.

    Messages are parsed like syslog files (RFC 5424 and 3164 headers; Cisco, Junos, EOS and Huawei messages structured) and stored every --flush-seconds. Each event also gets [bold]log.source.address[/bold] (the sender's ip:port), [bold]seawall.source.transport[/bold] (udp, tcp or tls) and [bold]seawall.source.path[/bold] naming the listener and this session, e.g. syslog+tcp://0.0.0.0:6514/2026-11-25T21:40:00.000Z, whose offset is the message's sequence number. TCP framing (octet counting or newline) is recognised per connection; a message over 64 KiB or broken framing is quarantined with the reason.

    Counts go to stderr every --report-seconds and to the stats file: received = events + quarantined + dropped, and for UDP the datagrams the kernel dropped. When the workspace falls behind, TCP and TLS senders are held back and UDP messages dropped, and the receiver says so.

    Stop with Ctrl-C or SIGTERM: it stops listening, reads what senders already sent, stores everything and prints the final counts. The workspace is held while the receiver runs (DuckDB allows one writer): to hunt meanwhile, send it SIGHUP and hunt the consistent copy it writes beside the workspace (live.duckdb -> live.snapshot.duckdb). Exit codes: 0 stopped cleanly, 1 the workspace could not be written, 2 bad usage (port in use, missing certificate, unknown time zone).

    [bold]Examples[/bold] (192.0.2.10 being this machine; ports below 1024 need root or CAP_NET_BIND_SERVICE, port 0 picks a free one, shown at start):

    seawall serve syslog --workspace live.duckdb --udp 5514 --tcp 6514
    seawall serve syslog -w live.duckdb --tls 6514 --cert server.pem --key server.key

    Cisco IOS / IOS XE:  logging host 192.0.2.10 transport tcp port 6514   (or: transport udp port 5514)
    Junos:               set system syslog host 192.0.2.10 any info port 5514   (UDP)
    Arista EOS:          logging host 192.0.2.10 6514 protocol tcp
    rsyslog:             *.* @@192.0.2.10:6514   (TCP; *.* @192.0.2.10:5514 for UDP)
    Try it:              logger --tcp -n 127.0.0.1 -P 6514 "hello"
    """
    from seawall.errors import SeawallError
    from seawall.receive.receiver import Receiver, ReceiverConfig, parse_listen_address

    try:
        listeners = [
            parse_listen_address(transport, text)
            for transport, given in (("udp", udp), ("tcp", tcp), ("tls", tls))
            for text in given or []
        ]
        receiver = Receiver(
            ReceiverConfig(
                workspace=workspace,
                listeners=listeners,
                timezone=timezone,
                flush_seconds=flush_seconds,
                batch_lines=batch_lines,
                report_seconds=report_seconds,
                stats_path=stats,
                cert=cert,
                key=key,
                client_ca=client_ca,
            )
        )
        receiver.open()
    except SeawallError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from exc
    import asyncio

    code = asyncio.run(receiver.serve())
    if code:
        raise typer.Exit(EXIT_STORE_FAILED)

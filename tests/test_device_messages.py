"""Network-device messages inside syslog: vendor tags, the device's own prefix, catalog fields.

Every line of the files in tests/fixtures/sources/devices/ has a case below that names
the fields a hunter relies on. Fields in ALWAYS are checked on every line (absent means
the field must be empty); other fields only where a case names them.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

from seawall.errors import ContentError
from seawall.sources import ReadOptions, formats
from seawall.sources.device_catalog import catalog, parse_catalog

UTC = dt.UTC
SYSLOG = formats()["syslog"]
DEVICES = Path(__file__).resolve().parent / "fixtures" / "sources" / "devices"
# Year-less clocks are dated in 2024, or 2023 when more than a day after this instant.
REFERENCE = dt.datetime(2024, 6, 30, 12, tzinfo=UTC)
NEW_YORK = "America/New_York"


def t(text: str) -> dt.datetime:
    """An instant written in UTC: '2024-06-12 09:14:03.512'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Not:
    """Any value but this one."""

    value: object


EMPTY = object()  # '' or NULL: a message with no text after the header

# Checked on every line; a case that does not name one expects it empty.
ALWAYS = (
    "@timestamp",
    "event.created",
    "event.code",
    "event.dataset",
    "observer.vendor",
    "observer.product",
    "event.provider",
    "event.severity",
    "log.level",
    "event.action",
    "event.outcome",
    "user.name",
    "source.ip",
    "host.name",
    "process.name",
    "event.sequence",
    "observer.clock.state",
    "observer.node",
    "message",
)


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    id: str
    expected: dict


def cases(file: str, defaults: dict, table: dict[str, tuple[int, dict]]) -> list[Case]:
    return [Case(file, line, name, defaults | expected) for name, (line, expected) in table.items()]


CISCO = {"event.dataset": "cisco.ios", "observer.vendor": "Cisco", "observer.product": "IOS"}
JUNIPER = {"event.dataset": "juniper.junos", "observer.vendor": "Juniper", "observer.product": "Junos"}
ARISTA = {"event.dataset": "arista.eos", "observer.vendor": "Arista", "observer.product": "EOS"}
HUAWEI = {"event.dataset": "huawei.vrp", "observer.vendor": "Huawei", "observer.product": "VRP"}
LINUX = {"event.dataset": "syslog"}

NOTICE = {"event.severity": 5, "log.level": "notice"}
INFO = {"event.severity": 6, "log.level": "informational"}
WARNING = {"event.severity": 4, "log.level": "warning"}
CRITICAL = {"event.severity": 2, "log.level": "critical"}
ERROR = {"event.severity": 3, "log.level": "error"}
CONFIG_CHANGE = {"event.action": "configuration-change", "event.category": "configuration", "event.type": "change"}
CONFIG_I = {"event.code": "SYS-5-CONFIG_I", "event.provider": "SYS", **NOTICE, **CONFIG_CHANGE}
NOT_SYNCED = {"observer.clock.state": "not synchronised"}

CISCO_IOS = cases(
    "cisco_ios.log",
    CISCO,
    {
        "config-i-user-vty-ip": (1, {
            **CONFIG_I,
            "@timestamp": t("2024-06-12 09:14:03.512"),
            "host.name": "edge-rtr1",
            "event.sequence": 2229,  # the device's sequence number, after the host, not the counter before it
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "cisco.line": "vty0",
            "cisco.config.source": "console",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "config-i-older-by-vty-relayed": (2, {
            **CONFIG_I,
            "@timestamp": t("2024-06-12 09:20:10"),  # the device clock, zone-less: ReadOptions.timezone
            "event.created": t("2024-06-12 09:20:11"),  # the relay's header time
            "host.name": "10.0.0.1",
            "event.sequence": 88,
            "source.ip": "192.0.2.15",
            "cisco.line": "vty0",  # older images name the line, not the user
            "message": "Configured from console by vty0 (192.0.2.15)",
        }),
        "config-p-webui-cve-2023-20198": (3, {
            "event.code": "SYS-5-CONFIG_P",
            "event.provider": "SYS",
            **NOTICE,
            **CONFIG_CHANGE,
            **NOT_SYNCED,
            "@timestamp": t("2024-06-12 16:31:44.908"),  # 09:31:44.908 PDT
            "event.created": t("2024-06-12 16:31:45"),
            "host.name": "edge-rtr1",
            "event.sequence": 312,
            "user.name": "cisco_tac_admin",
            "cisco.config.process": "SEP_webui_wsma_http",
            "cisco.config.source": "console",
            "cisco.line": "vty1",
            "message": "Configured programmatically by process SEP_webui_wsma_http from console as cisco_tac_admin on vty1",
        }),
        "login-success-cet": (4, {
            "event.code": "SEC_LOGIN-5-LOGIN_SUCCESS",
            "event.provider": "SEC_LOGIN",
            **NOTICE,
            "event.action": "logged-in",
            "event.category": "authentication",
            "event.type": "start",
            "event.outcome": "success",
            "@timestamp": t("2024-06-13 06:02:19.077"),  # 07:02:19.077 CET
            "event.sequence": 4411,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "destination.port": 22,
            "message": "Login Success [user: netops] [Source: 10.20.30.40] [localport: 22] at 07:02:19 CET Thu Jun 13 2024",
        }),
        "login-failed-with-reason": (5, {
            "event.code": "SEC_LOGIN-4-LOGIN_FAILED",
            "event.provider": "SEC_LOGIN",
            **WARNING,
            "event.action": "login-failed",
            "event.category": "authentication",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-13 06:05:00.001"),
            "event.sequence": 4412,
            "user.name": "admin",
            "source.ip": "203.0.113.77",
            "destination.port": 22,
            "event.reason": "Login Authentication Failed",
            "message": "Login failed [user: admin] [Source: 203.0.113.77] [localport: 22] "
            "[Reason: Login Authentication Failed] at 07:05:00 CET Thu Jun 13 2024",
        }),
        "weblogin-success": (6, {
            "event.code": "SEC_LOGIN-5-WEBLOGIN_SUCCESS",
            "event.provider": "SEC_LOGIN",
            **NOTICE,
            "event.action": "logged-in",
            "event.category": "authentication",
            "event.outcome": "success",
            "@timestamp": t("2024-06-13 07:09:12.440"),
            "event.sequence": 4413,
            "user.name": "cisco_tac_admin",
            "source.ip": "198.51.100.23",
            "message": "Login Success [user: cisco_tac_admin] [Source: 198.51.100.23] at 07:09:12 UTC Thu Jun 13 2024",
        }),
        "cfglog-logged-command": (7, {
            "event.code": "PARSER-5-CFGLOG_LOGGEDCMD",
            "event.provider": "PARSER",
            **NOTICE,
            "event.action": "command-logged",
            "event.category": "configuration",
            "@timestamp": t("2024-06-13 07:11:30.215"),
            "event.sequence": 4415,
            "user.name": "netops",
            "process.command_line": "username backup privilege 15 secret *",
            "message": "User:netops  logged command:username backup privilege 15 secret *",
        }),
        "logout": (8, {
            "event.code": "SYS-6-LOGOUT",
            "event.provider": "SYS",
            **INFO,
            "event.action": "logged-out",
            "event.category": "authentication",
            "event.type": "end",
            "@timestamp": t("2024-06-13 07:15:02.883"),
            "event.sequence": 4416,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "cisco.tty": "2",
            "message": "User netops has exited tty session 2(10.20.30.40)",
        }),
        "restart-star-clock-without-zone": (9, {
            "event.code": "SYS-5-RESTART",
            "event.provider": "SYS",
            **NOTICE,
            **NOT_SYNCED,
            "event.action": "restarted",
            "event.category": "host",
            "event.type": "start",
            "@timestamp": t("2024-06-13 07:30:45.001"),
            "event.sequence": 17,
            "message": "System restarted --",
        }),
        "logging-host-stopped": (10, {
            "event.code": "SYS-6-LOGGINGHOST_STARTSTOP",
            "event.provider": "SYS",
            **INFO,
            "event.action": "logging-host-stopped",
            "event.category": "configuration",
            "@timestamp": t("2024-06-13 07:40:12.600"),
            "event.sequence": 4420,
            "destination.ip": "192.0.2.200",
            "destination.port": 514,
            "event.reason": "CLI initiated",
            "message": "Logging to host 192.0.2.200 port 514 stopped - CLI initiated",
        }),
        "clock-update-by-user": (11, {
            "event.code": "SYS-6-CLOCKUPDATE",
            "event.provider": "SYS",
            **INFO,
            "event.action": "clock-updated",
            "event.category": "configuration",
            "@timestamp": t("2024-06-13 07:45:00"),
            "event.sequence": 4421,
            "cisco.clock.from": "07:44:58 UTC Thu Jun 13 2024",
            "cisco.clock.to": "01:00:00 UTC Mon Jan 1 2024",
            "user.name": "admin",
            "source.ip": "203.0.113.77",
            "message": "System clock has been updated from 07:44:58 UTC Thu Jun 13 2024 to 01:00:00 UTC Mon Jan 1 "
            "2024, configured from console by admin on vty0 (203.0.113.77).",
        }),
        "aaa-username-configuration": (12, {
            "event.code": "AAA-6-USERNAME_CONFIGURATION",
            "event.provider": "AAA",
            **INFO,
            "event.action": "user-configured",
            "event.category": "iam",
            "event.type": "change",
            "@timestamp": t("2024-06-13 08:01:10.101"),
            "event.sequence": 4425,
            "cisco.account.name": "backup",
            "cisco.account.change": "configured",
            "message": "user with username: backup configured",
        }),
        "webui-install-operation": (13, {
            "event.code": "WEBUI-6-INSTALL_OPERATION_INFO",
            "event.provider": "WEBUI",
            **INFO,
            "event.action": "software-install",
            "event.category": "package",
            "event.type": "installation",
            "@timestamp": t("2024-06-13 08:05:33.700"),
            "event.sequence": 4430,
            "user.name": "cisco_tac_admin",
            "cisco.install.operation": "ADD",
            "file.path": "bootflash:iosxe-update.bin",
            "message": "User: cisco_tac_admin, Install Operation: ADD bootflash:iosxe-update.bin",
        }),
        "ssh2-session-succeeded": (14, {
            "event.code": "SSH-5-SSH2_SESSION",
            "event.provider": "SSH",
            **NOTICE,
            "event.action": "ssh-session",
            "event.category": "authentication",
            "event.outcome": "success",
            "@timestamp": t("2024-06-13 08:10:01.250"),
            "event.sequence": 4431,
            "source.ip": "203.0.113.77",
            "tls.cipher": "aes256-ctr",
            "cisco.ssh.hmac": "hmac-sha2-256",
            "cisco.tty": "0",
            "message": "SSH2 Session request from 203.0.113.77 (tty = 0) using crypto cipher 'aes256-ctr', "
            "hmac 'hmac-sha2-256' Succeeded",
        }),
        "ssh2-userauth-failed": (15, {
            "event.code": "SSH-5-SSH2_USERAUTH",
            "event.provider": "SSH",
            **NOTICE,
            "event.action": "ssh-session",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-13 08:10:03.990"),
            "event.sequence": 4432,
            "user.name": "netops",
            "source.ip": "203.0.113.77",
            "message": "User 'netops' authentication for SSH2 Session from 203.0.113.77 (tty = 0) using crypto "
            "cipher 'aes256-ctr', hmac 'hmac-sha2-256' Failed",
        }),
        "vman-activation-state": (16, {
            "event.code": "VMAN-2-ACTIVATION_STATE",
            "event.provider": "VMAN",
            **CRITICAL,
            "event.action": "virtual-service-state",
            "event.category": "package",
            "@timestamp": t("2024-06-13 08:20:44.310"),
            "event.sequence": 4440,
            "cisco.virtual_service.name": "guestshell",
            "cisco.virtual_service.state": "Successfully activated",
            "cisco.node": "R0/0",
            "message": "R0/0: vman: Successfully activated virtual service guestshell",
        }),
        "vman-guestshell-enabled": (17, {
            "event.code": "VMAN-2-GUESTSHELL_ENABLED",
            "event.provider": "VMAN",
            **CRITICAL,
            "event.action": "guestshell-enabled",
            "event.category": "package",
            "event.type": "installation",
            "@timestamp": t("2024-06-13 08:20:47.002"),
            "event.sequence": 4441,
            "cisco.virtual_service.name": "guestshell",
            "cisco.node": "R0/0",
            "message": "R0/0: vman: The guest shell has been enabled. The command 'guestshell' may be used to access "
            "it, 'guestshell destroy' to remove it.",
        }),
        "lineproto-down": (18, {
            "event.code": "LINEPROTO-5-UPDOWN",
            "event.provider": "LINEPROTO",
            **NOTICE,
            "event.action": "interface-down",
            "event.category": "network",
            "@timestamp": t("2024-06-13 08:30:00"),
            "event.sequence": 4450,
            "cisco.interface.name": "GigabitEthernet0/0/1",
            "cisco.interface.state": "down",
            "message": "Line protocol on Interface GigabitEthernet0/0/1, changed state to down",
        }),
        "bgp-neighbor-up": (19, {
            "event.code": "BGP-5-ADJCHANGE",
            "event.provider": "BGP",
            **NOTICE,
            "event.action": "bgp-neighbor-up",
            "event.category": "network",
            "@timestamp": t("2024-06-13 08:31:12.345"),
            "event.sequence": 4451,
            "destination.ip": "192.0.2.1",
            "cisco.bgp.state": "Up",
            "cisco.bgp.vrf": None,
            "event.reason": None,
            "message": "neighbor 192.0.2.1 Up",
        }),
        "bgp-neighbor-down-vpn-vrf": (20, {
            "event.code": "BGP-5-ADJCHANGE",
            "event.provider": "BGP",
            **NOTICE,
            "event.action": "bgp-neighbor-down",
            "@timestamp": t("2024-06-13 08:35:40.002"),
            "event.sequence": 4452,
            "destination.ip": "198.51.100.9",
            "cisco.bgp.vrf": "CUST-A",
            "cisco.bgp.state": "Down",
            "event.reason": "BGP Notification sent",
            "message": "neighbor 198.51.100.9 vpn vrf CUST-A Down BGP Notification sent",
        }),
        "acl-denied": (21, {
            "event.code": "SEC-6-IPACCESSLOGP",
            "event.provider": "SEC",
            **INFO,
            "event.action": "acl-denied",
            "event.category": "network",
            "event.type": "connection",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-13 08:40:00.500"),
            "event.sequence": 4460,
            "source.ip": "203.0.113.77",
            "source.port": 51514,
            "destination.ip": "10.20.0.5",
            "destination.port": 23,
            "network.transport": "tcp",
            "cisco.acl.name": "OUTSIDE-IN",
            "cisco.acl.packets": "1",
            "message": "list OUTSIDE-IN denied tcp 203.0.113.77(51514) -> 10.20.0.5(23), 1 packet",
        }),
        "stack-member-login": (22, {
            "event.code": "SEC_LOGIN-SW2-5-LOGIN_SUCCESS",  # the tag as written
            "event.provider": "SEC_LOGIN",  # the member number is not part of the facility
            **NOTICE,
            "event.action": "logged-in",
            "event.outcome": "success",
            "@timestamp": t("2024-06-13 09:00:00.100"),
            "host.name": "sw-stack1",
            "event.sequence": 4470,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "destination.port": 22,
            "message": "Login Success [user: netops] [Source: 10.20.30.40] [localport: 22] at 09:00:00 UTC Thu Jun 13 2024",
        }),
        "unknown-mnemonic": (23, {
            "event.code": "CDP-4-NATIVE_VLAN_MISMATCH",
            "event.provider": "CDP",
            **WARNING,
            "event.category": None,
            "@timestamp": t("2024-06-13 09:05:00"),
            "event.sequence": 4480,
            "message": "Native VLAN mismatch discovered on GigabitEthernet1/0/24 (10), with sw-core2 "
            "GigabitEthernet1/0/1 (1).",
        }),
        "dot-marker-year-in-clock": (24, {
            "event.code": "LINK-3-UPDOWN",
            "event.provider": "LINK",
            **ERROR,
            "event.action": "interface-up",
            "observer.clock.state": "synchronisation lost",
            "@timestamp": t("2023-12-30 23:59:59.999"),  # the clock's year, not the reference's
            "event.sequence": 101,
            "cisco.interface.name": "GigabitEthernet0/1",
            "message": "Interface GigabitEthernet0/1, changed state to up",
        }),
        "uptime-only-buffer-line": (25, {
            "event.code": "LINK-3-UPDOWN",
            "event.provider": "LINK",
            **ERROR,
            "event.action": "interface-up",
            "@timestamp": None,  # time since boot dates nothing
            "message": "Interface GigabitEthernet0/0, changed state to up",
        }),
        "uptime-weeks-with-host": (26, {
            "event.code": "SYS-6-LOGOUT",
            "event.provider": "SYS",
            **INFO,
            "event.action": "logged-out",
            "@timestamp": None,
            "host.name": "pe-asr920",
            "event.sequence": 77,
            "user.name": "oper",
            "source.ip": "192.0.2.44",
            "message": "User oper has exited tty session 1(192.0.2.44)",
        }),
        "show-logging-star-clock": (27, {
            **CONFIG_I,
            **NOT_SYNCED,
            "@timestamp": t("2024-06-13 09:20:05.123"),
            "user.name": "cisco",
            "cisco.line": "console",
            "message": "Configured from console by cisco on console",
        }),
        "unknown-zone-read-in-options-timezone": (28, {
            **CONFIG_I,
            "@timestamp": t("2024-06-13 10:00:00"),  # VIENNA is not in timezones.yaml: read in UTC
            "event.sequence": 4500,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "yearless-clock-ahead-of-reference": (29, {
            **CONFIG_I,
            "@timestamp": t("2023-12-31 23:59:58"),  # Dec 31 2024 is after the reference: the year before
            "event.sequence": 4300,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "yearless-clock-within-a-day-of-reference": (30, {
            **CONFIG_I,
            "@timestamp": t("2024-07-01 11:00:00"),  # 23 hours after the reference: same year
            "event.sequence": 4600,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "show-logging-clock-with-zone": (31, {
            **CONFIG_I,
            "@timestamp": t("2024-06-13 16:25:00.456"),
            "process.name": None,
            "user.name": "admin",
            "source.ip": "10.1.1.1",
            "message": "Configured from console by admin on vty0 (10.1.1.1)",
        }),
        "origin-id-ip-address": (32, {
            **CONFIG_I,
            "@timestamp": t("2024-06-13 09:30:00.100"),
            "host.name": "10.0.0.5",
            "event.sequence": 4700,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "relayed-header-and-origin-id-host": (33, {
            "event.code": "SYS-6-LOGOUT",
            "event.provider": "SYS",
            **INFO,
            "event.action": "logged-out",
            "@timestamp": t("2024-06-12 09:22:40"),
            "event.created": t("2024-06-12 09:22:41"),
            "host.name": "10.0.0.1",
            "process.name": None,
            "event.sequence": 90,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "message": "User netops has exited tty session 2(10.20.30.40)",
        }),
    },
)  # fmt: skip

NXOS_CONFIG = {"event.code": "VSHD-5-VSHD_SYSLOG_CONFIG_I", "event.provider": "VSHD", **NOTICE, **CONFIG_CHANGE}

CISCO_NXOS = cases(
    "cisco_nxos.log",
    CISCO,
    {
        "nxos-year-first-clock-utc": (1, {
            "observer.product": 'NX-OS',
            **NXOS_CONFIG,
            "@timestamp": t("2024-08-27 21:40:50"),  # explicit year: no roll-back though after the reference
            "host.name": "nx-core1",
            "user.name": "admin",
            "source.ip": "172.20.240.105",
            "cisco.line": "pts/0",
            "cisco.config.source": "vty",
            "message": "Configured from vty by admin on 172.20.240.105@pts/0",
        }),
        "nxos-empty-host-year-first-pdt": (2, {
            "observer.product": 'NX-OS',
            **NXOS_CONFIG,
            "@timestamp": t("2024-08-28 04:45:03"),
            "user.name": "netops",
            "source.ip": "10.1.2.3",
            "cisco.line": "pts/1",
            "message": "Configured from vty by netops on 10.1.2.3@pts/1",
        }),
        "nxos-logfile-authpriv-failure": (3, {
            "event.code": "AUTHPRIV-3-SYSTEM_MSG",
            "event.provider": "AUTHPRIV",
            **ERROR,
            "event.action": "login-failed",
            "event.category": "authentication",
            "event.outcome": "failure",
            "@timestamp": t("2023-05-01 22:58:09"),  # logfile header, year first, zone-less
            "host.name": "nx-leaf2",
            "user.name": "admin",
            "source.ip": "203.0.113.50",
            "message": "pam_aaa:Authentication failed for user admin from 203.0.113.50 - sshd[10021]",
        }),
        "nxos-logfile-accounting-update": (4, {
            "event.code": "AAA-6-AAA_ACCOUNTING_MESSAGE",
            "event.provider": "AAA",
            **INFO,
            "event.action": "command-update",
            "event.category": "configuration",
            "event.outcome": "success",
            "@timestamp": t("2023-05-01 22:58:12"),
            "host.name": "nx-leaf2",
            "user.name": "operator",
            "source.ip": "10.63.12.105",
            "process.command_line": "show running-config",
            "cisco.session": "ssh.26046",
            "message": "update:10.63.12.105@ssh.26046:operator:show running-config (SUCCESS)",
        }),
        "nxos-accounting-stop-without-command": (5, {
            "observer.product": 'NX-OS',
            "event.code": "AAA-6-AAA_ACCOUNTING_MESSAGE",
            "event.provider": "AAA",
            **INFO,
            "event.action": "command-stop",
            "@timestamp": t("2024-08-27 21:41:02"),
            "host.name": "nx-core1",
            "user.name": "operator",
            "source.ip": "10.63.12.105",
            "process.command_line": None,
            "message": "stop:10.63.12.105@ssh.26046:operator:",
        }),
        "nxos-authpriv-login-failed": (6, {
            "observer.product": 'NX-OS',
            "event.code": "AUTHPRIV-5-SYSTEM_MSG",
            "event.provider": "AUTHPRIV",
            **NOTICE,
            "event.action": "login-failed",
            "event.outcome": "failure",
            "@timestamp": t("2024-08-27 21:41:10"),
            "host.name": "nx-core1",
            "user.name": "admin",
            "message": "Login failed for user admin - sshd[10021]",
        }),
        "nxos-authpriv-sudo-record": (7, {
            "event.code": "AUTHPRIV-5-SYSTEM_MSG",
            "event.provider": "AUTHPRIV",
            **NOTICE,
            "@timestamp": t("2023-05-01 23:02:40"),
            "host.name": "nx-leaf2",
            "event.action": Not("login-failed"),
            "event.outcome": Not("failure"),
            "message": "operator : TTY=pts/0 ; PWD=/var/sysmgr/vsh ; USER=root ; "
            "COMMAND=/isanboot/bin/imghdr /bootflash/nxos.bin - sudo",
        }),
        "nxos-show-logging-year-first-pdt": (8, {
            "observer.product": 'NX-OS',
            **NXOS_CONFIG,
            "@timestamp": t("2024-08-28 04:47:12"),
            "process.name": None,
            "user.name": "admin",
            "source.ip": "172.20.240.105",
            "message": "Configured from vty by admin on 172.20.240.105@pts/0",
        }),
    },
)  # fmt: skip

XR_NODE = "RP/0/RSP0/CPU0"

CISCO_IOSXR = cases(
    "cisco_iosxr.log",
    CISCO,
    {
        "iosxr-buffer-db-commit": (1, {
            "observer.product": 'IOS XR',
            "event.code": "MGBL-CONFIG-6-DB_COMMIT",
            "event.provider": "MGBL-CONFIG",
            **INFO,
            "event.action": "configuration-commit",
            "event.category": "configuration",
            "@timestamp": t("2024-06-14 10:11:12.345"),
            "observer.node": XR_NODE,
            "process.name": "config",
            "process.pid": 65734,
            "user.name": "netops",
            "cisco.config.commit_id": "1000000123",
            "message": "Configuration committed by user 'netops'. Use 'show configuration commit changes "
            "1000000123' to view the changes.",
        }),
        "iosxr-config-i": (2, {
            "observer.product": 'IOS XR',
            "event.code": "MGBL-SYS-5-CONFIG_I",
            "event.provider": "MGBL-SYS",
            **NOTICE,
            **CONFIG_CHANGE,
            "@timestamp": t("2024-06-14 10:11:12.997"),
            "event.created": t("2024-06-14 10:11:13"),
            "host.name": "pe1-xr",
            "observer.node": XR_NODE,  # not the process: the node stands where BSD syslog expects a tag
            "process.name": "config",
            "process.pid": 65734,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "cisco.line": "vty0",
            "message": "Configured from console by netops on vty0 (10.20.30.40)",
        }),
        "iosxr-authen-success": (3, {
            "observer.product": 'IOS XR',
            "event.code": "SECURITY-LOGIN-6-AUTHEN_SUCCESS",
            "event.provider": "SECURITY-LOGIN",
            **INFO,
            "event.action": "login",
            "event.category": "authentication",
            "event.outcome": "success",
            "@timestamp": t("2024-06-14 10:11:04.623"),
            "event.created": t("2024-06-14 10:11:05"),
            "host.name": "pe1-xr",
            "observer.node": XR_NODE,
            "process.name": "exec",
            "process.pid": 65701,
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "cisco.line": "vty0",
            "message": "Successfully authenticated user 'netops' from '10.20.30.40' on 'vty0'",
        }),
        "iosxr-bgp-adjchange": (4, {
            "observer.product": 'IOS XR',
            "event.code": "ROUTING-BGP-5-ADJCHANGE",
            "event.provider": "ROUTING-BGP",
            **NOTICE,
            "event.action": "bgp-neighbor-up",
            "@timestamp": t("2024-06-14 10:19:59.870"),
            "event.created": t("2024-06-14 10:20:00"),
            "host.name": "pe1-xr",
            "observer.node": XR_NODE,
            "process.name": "bgpd",
            "process.pid": 1052,
            "destination.ip": "192.0.2.2",
            "cisco.bgp.state": "Up",
            "event.reason": None,
            "cisco.bgp.vrf": "default",
            "message": "neighbor 192.0.2.2 Up (VRF: default) (AS: 65001)",
        }),
        "iosxr-linecard-acl-deny": (5, {
            "observer.product": 'IOS XR',
            "event.code": "ACL-IPV4_ACL-6-IPACCESSLOGP",
            "event.provider": "ACL-IPV4_ACL",
            **INFO,
            "event.action": "acl-deny",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-14 10:24:59.100"),
            "event.created": t("2024-06-14 10:25:00"),
            "host.name": "pe1-xr",
            "observer.node": "LC/0/0/CPU0",
            "process.name": "ipv4_acl_mgr",
            "process.pid": 310,
            "source.ip": "203.0.113.77",
            "source.port": 40001,
            "destination.ip": "192.0.2.10",
            "destination.port": 22,
            "cisco.acl.name": "EDGE-IN",
            "message": "access-list EDGE-IN deny tcp 203.0.113.77(40001) -> 192.0.2.10(22), 1 packet",
        }),
    },
)  # fmt: skip

MGD = {"host.name": "mx-border1", "process.name": "mgd", "process.pid": 91301, "event.provider": "mgd"}
SRX_FLOW = {"host.name": "srx-edge1", "process.name": "RT_FLOW", "event.provider": "RT_FLOW"}

JUNOS = cases(
    "junos.log",
    JUNIPER,
    {
        "junos-ui-login-event-ssh": (1, {
            **MGD,
            "event.code": "UI_LOGIN_EVENT",
            "event.action": "user-login",
            "event.category": "authentication",
            "@timestamp": t("2024-06-14 11:00:12"),
            "user.name": "netops",
            "source.ip": "10.20.30.40",
            "source.port": 53422,
            "destination.ip": "192.0.2.1",
            "destination.port": 22,
            "junos.login.class": "j-super-user",
            "junos.client_mode": "cli",
            "message": "User 'netops' login, class 'j-super-user' [91301], ssh-connection '10.20.30.40 53422 "
            "192.0.2.1 22', client-mode 'cli'",
        }),
        "junos-dbase-login": (2, {
            **MGD,
            "event.code": "UI_DBASE_LOGIN_EVENT",
            "event.action": "configuration-mode-entering",
            "event.category": "configuration",
            "@timestamp": t("2024-06-14 11:02:03"),
            "user.name": "netops",
            "message": "User 'netops' entering configuration mode",
        }),
        "junos-cfg-audit-set": (3, {
            **MGD,
            "event.code": "UI_CFG_AUDIT_SET",
            "event.action": "configuration-set",
            "event.category": "configuration",
            "event.type": "change",
            "@timestamp": t("2024-06-14 11:03:10"),
            "user.name": "netops",
            "process.command_line": "set system services ssh root-login",
            "junos.config.path": "system services ssh root-login",
            "junos.config.change": '"deny" -> "allow"',
            "message": "User 'netops' set: [system services ssh root-login] \"deny\" -> \"allow\"",
        }),
        "junos-cfg-audit-delete-syslog-host": (4, {
            **MGD,
            "event.code": "UI_CFG_AUDIT_OTHER",
            "event.action": "configuration-delete",
            "event.category": "configuration",
            "@timestamp": t("2024-06-14 11:03:41"),
            "user.name": "netops",
            "process.command_line": "delete system syslog host 192.0.2.200",
            "junos.config.path": "system syslog host 192.0.2.200",
            "message": "User 'netops' delete: [system syslog host 192.0.2.200]",
        }),
        "junos-commit": (5, {
            **MGD,
            "event.code": "UI_COMMIT",
            "event.action": "configuration-commit",
            "event.category": "configuration",
            "@timestamp": t("2024-06-14 11:04:02"),
            "user.name": "netops",
            "junos.operation": "commit",
            "message": "User 'netops' requested 'commit' operation (comment: none)",
        }),
        "junos-cmdline-read-line": (6, {
            **MGD,
            "event.code": "UI_CMDLINE_READ_LINE",
            "event.action": "command",
            "event.category": "process",
            "@timestamp": t("2024-06-14 11:05:20"),
            "user.name": "netops",
            "process.command_line": "show configuration system syslog",
            "message": "User 'netops', command 'show configuration system syslog '",
        }),
        "junos-sshd-login-failed": (7, {
            "event.code": "SSHD_LOGIN_FAILED",
            "event.provider": "sshd",
            "event.action": "login-failed",
            "event.category": "authentication",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-14 10:58:01"),
            "host.name": "mx-border1",
            "process.name": "sshd",
            "process.pid": 91290,
            "user.name": "root",
            "source.ip": "203.0.113.77",
            "message": "Login failed for user 'root' from host '203.0.113.77'",
        }),
        "junos-flow-session-create": (8, {
            **SRX_FLOW,
            "event.code": "RT_FLOW_SESSION_CREATE",
            "event.action": "flow-session-created",
            "event.category": "network",
            "event.type": "start",
            "@timestamp": t("2024-06-14 11:10:00"),
            "source.ip": "10.20.30.40",
            "source.port": 53836,
            "destination.ip": "192.0.2.80",
            "destination.port": 443,
            "message": "session created 10.20.30.40/53836->192.0.2.80/443 junos-https "
            "203.0.113.5/20011->192.0.2.80/443 source-nat-rule None 6 allow-web trust untrust 4711 N/A(N/A) "
            "ge-0/0/1.0",
        }),
        "junos-flow-session-close": (9, {
            **SRX_FLOW,
            "event.code": "RT_FLOW_SESSION_CLOSE",
            "event.action": "flow-session-closed",
            "@timestamp": t("2024-06-14 11:12:31"),
            "source.ip": "10.20.30.40",
            "source.port": 53836,
            "destination.ip": "192.0.2.80",
            "destination.port": 443,
            "event.reason": "TCP FIN",
            "message": "session closed TCP FIN: 10.20.30.40/53836->192.0.2.80/443 junos-https "
            "203.0.113.5/20011->192.0.2.80/443 source-nat-rule None 6 allow-web trust untrust 4711 14(2210) "
            "12(9810) 151 UNKNOWN UNKNOWN N/A(N/A) ge-0/0/1.0 UNKNOWN",
        }),
        "junos-flow-session-deny": (10, {
            **SRX_FLOW,
            "event.code": "RT_FLOW_SESSION_DENY",
            "event.action": "flow-session-denied",
            "@timestamp": t("2024-06-14 11:13:02"),
            "source.ip": "203.0.113.77",
            "source.port": 40001,
            "destination.ip": "192.0.2.10",
            "destination.port": 23,
            "message": "session denied 203.0.113.77/40001->192.0.2.10/23 junos-telnet 6(0) default-deny(global) "
            "untrust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 UNKNOWN policy deny",
        }),
        "junos-5424-dbase-logout": (11, {
            "event.severity": 5,
            "log.level": 'notice',
            **MGD,
            "event.code": "UI_DBASE_LOGOUT_EVENT",
            "event.action": "configuration-mode-exiting",
            "@timestamp": t("2024-06-14 11:20:15.719"),
            "user.name": "netops",
            "message": "User 'netops' exiting configuration mode",
        }),
        "junos-5424-sshd-login-failed-sd-only": (12, {
            "event.severity": 5,
            "log.level": 'notice',
            "event.code": "SSHD_LOGIN_FAILED",
            "event.provider": "sshd",
            "event.action": "login-failed",
            "event.outcome": "failure",
            "@timestamp": t("2024-06-14 11:00:06.756"),  # 21:00:06.756+10:00
            "host.name": "srx-edge1",
            "process.name": "sshd",
            "user.name": "admin",  # from the structured data
            "source.ip": "203.0.113.99",
            "message": EMPTY,
        }),
        "junos-5424-commit-with-sd-command": (13, {
            "event.severity": 5,
            "log.level": 'notice',
            **MGD,
            "event.code": "UI_COMMIT",
            "event.action": "configuration-commit",
            "@timestamp": t("2024-06-14 11:04:02.120"),
            "user.name": "netops",
            "process.command_line": "commit",  # SD command= wins over the text
            "junos.operation": "commit",
            "message": "User 'netops' requested 'commit' operation (comment: none)",
        }),
        "junos-5424-flow-deny-sd-only": (14, {
            "event.severity": 6,
            "log.level": 'informational',
            **SRX_FLOW,
            "event.code": "RT_FLOW_SESSION_DENY",
            "@timestamp": t("2024-06-14 11:30:54.803"),
            "source.ip": "203.0.113.77",
            "source.port": 40002,
            "destination.ip": "192.0.2.10",
            "destination.port": 3389,
            "network.iana_number": "6",
            "rule.name": "default-deny",
            "user.name": None,
            "event.action": "flow-session-denied",
            "message": EMPTY,
        }),
    },
)  # fmt: skip

EOS = {"host.name": "leaf1"}

ARISTA_EOS = cases(
    "arista_eos.log",
    ARISTA,
    {
        "eos-aaa-login": (1, {
            **EOS,
            "event.code": "AAA-5-LOGIN",
            "event.provider": "AAA",
            **NOTICE,
            "event.action": "aaa",
            "event.category": "authentication",
            "@timestamp": t("2024-06-14 11:59:58"),
            "process.name": "Aaa",
            "user.name": "admin",
            "source.ip": "192.0.2.51",
            "message": "user admin logged in [from: 192.0.2.51] [service: sshd]",
        }),
        "eos-accounting-command": (2, {
            **EOS,
            "event.code": "ACCOUNTING-6-CMD",
            "event.provider": "ACCOUNTING",
            **INFO,
            "event.action": "command-stop",
            "event.category": "configuration",
            "@timestamp": t("2024-06-14 12:00:05"),
            "process.name": "Aaa",
            "user.name": "admin",
            "source.ip": "192.0.2.51",
            "process.command_line": "show running-config",
            "arista.tty": "vty6",
            "arista.task_id": "17",
            "arista.priv_lvl": "15",
            "message": "admin vty6 192.0.2.51 stop task_id=17 start_time=1718366405.5 timezone=UTC service=shell "
            "priv-lvl=15 cmd=show running-config",
        }),
        "eos-config-agent-config-i": (3, {
            **EOS,
            **CONFIG_I,
            "@timestamp": t("2024-06-14 12:00:09"),
            "process.name": "ConfigAgent",
            "user.name": "admin",
            "source.ip": "192.0.2.51",
            "cisco.line": "vty6",
            "message": "Configured from console by admin on vty6 (192.0.2.51)",
        }),
    },
)  # fmt: skip

CMDRECORD = {"event.code": "SHELL/5/CMDRECORD", "event.provider": "SHELL", **NOTICE, "event.action": "command"}

HUAWEI_VRP = cases(
    "huawei_vrp.log",
    HUAWEI,
    {
        "vrp-cmdrecord-security-log": (1, {
            **CMDRECORD,
            "event.category": "process",
            "event.outcome": "success",
            "@timestamp": t("2024-06-14 13:00:01"),
            "host.name": "CE-AGG1",
            "user.name": "netops",
            "source.ip": "192.0.2.77",
            "process.command_line": "undo info-center loghost 192.0.2.200",
            "huawei.task": "VT0",
            "message": 'Recorded command information. (Task=VT0, Ip=192.0.2.77, VpnName=, User=netops, '
            'AuthenticationMethod="Local-user", Command="undo info-center loghost 192.0.2.200", Result=Success)',
        }),
        "vrp-cmdrecord-bracket-l-variant": (2, {
            **CMDRECORD,
            "event.outcome": "success",
            "@timestamp": t("2024-06-14 13:02:44"),
            "host.name": "CE-AGG1",
            "user.name": "netops",
            "source.ip": "192.0.2.77",
            "process.command_line": "save",
            "huawei.task": "vt0",
            "message": 'Record command information. (Task=vt0, Ip=192.0.2.77, User=netops, Command="save", '
            "Result=Success)",
        }),
        "vrp-cmdrecord-old-usg": (3, {
            **CMDRECORD,
            "@timestamp": t("2020-09-16 22:01:53"),
            "host.name": "USG2110",
            "user.name": "gwadmin",
            "source.ip": "192.168.0.3",
            "process.command_line": "undo info-center loghost source",
            "message": "task:HTPR ip:192.168.0.3 user:gwadmin vrf:public command:undo info-center loghost source.",
        }),
    },
)  # fmt: skip

BASTION = {"host.name": "bastion1"}

LINUX_MIXED = cases(
    "linux_mixed.log",
    LINUX,
    {
        "linux-sshd-accepted": (1, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:00:01"),
            "process.name": "sshd",
            "message": "Accepted publickey for deploy from 192.0.2.60 port 50522 ssh2: ED25519 "
            "SHA256:Xb1u9QmJd2k7o0yF3uPz8wH5cVtR4eA6nL2sK9dJ1q0",
        }),
        "linux-sudo": (2, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:00:02"),
            "process.name": "sudo",
            "message": "  deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
        }),
        "linux-cron-with-percent": (3, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:05:01"),
            "process.name": "CRON",
            "message": "(root) CMD (/usr/local/bin/backup.sh > /var/backups/etc-$(date +\\%Y\\%m\\%d).tar.gz 2>&1)",
        }),
        "linux-tag-quoted-after-equals": (4, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:06:00"),
            "process.name": "nagios",
            "message": "SERVICE ALERT: edge-rtr1;syslog-config;WARNING;SOFT;1;matched pattern=%SYS-5-CONFIG_I: on "
            "edge-rtr1",
        }),
        "linux-tag-glued-to-a-word": (5, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:06:30"),
            "process.name": "logwatch",
            "message": "router digest: pattern config%SYS-5-CONFIG_I: matched 3 times",
        }),
        "linux-kernel-upper-case-prefix": (6, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:07:00"),
            "process.name": "kernel",  # IPTABLES_DROP: looks like a Junos tag but comes from no Junos daemon
            "message": "IPTABLES_DROP: IN=eth0 OUT= SRC=203.0.113.77 DST=192.0.2.60 LEN=60 PROTO=TCP SPT=40112 "
            "DPT=23 SYN",
        }),
        "linux-sshd-failed": (7, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:08:13"),
            "process.name": "sshd",
            "message": "Failed password for invalid user admin from 203.0.113.77 port 40110 ssh2",
        }),
        "linux-systemd": (8, {
            **BASTION,
            "@timestamp": t("2024-06-14 14:09:30"),
            "process.name": "systemd",
            "message": "Started Session 5 of User deploy.",
        }),
    },
)  # fmt: skip

CASES = CISCO_IOS + CISCO_NXOS + CISCO_IOSXR + JUNOS + ARISTA_EOS + HUAWEI_VRP + LINUX_MIXED
FILES = sorted({case.file for case in CASES})


# -- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    events: list[dict]
    columns: frozenset[str]
    quarantine: list[dict]
    records: int
    notes: tuple[str, ...]

    def line(self, number: int) -> dict:
        (event,) = [e for e in self.events if e["seawall.source.line"] == number]
        return event


@functools.cache
def read(file: str, timezone: str = "UTC", reference: dt.datetime = REFERENCE) -> Read:
    events: list[dict] = []
    columns: set[str] = set()
    quarantine: list[dict] = []
    notes: list[str] = []
    records = 0
    for batch in SYSLOG.parse(DEVICES / file, ReadOptions(reference_time=reference, timezone=timezone)):
        assert batch.records == batch.events.num_rows + batch.quarantine.num_rows
        events += batch.events.to_pylist()
        columns.update(batch.events.column_names)
        quarantine += batch.quarantine.to_pylist()
        notes += batch.notes
        records += batch.records
    return Read(events, frozenset(columns), quarantine, records, tuple(notes))


def read_text(tmp_path: Path, text: str, reference: dt.datetime = REFERENCE, timezone: str = "UTC") -> Read:
    path = tmp_path / "device.log"
    path.write_text(text + "\n", encoding="utf-8")
    events, quarantine, notes = [], [], []
    for batch in SYSLOG.parse(path, ReadOptions(reference_time=reference, timezone=timezone)):
        events += batch.events.to_pylist()
        quarantine += batch.quarantine.to_pylist()
        notes += batch.notes
    assert quarantine == []
    return Read(events, frozenset(), quarantine, len(events), tuple(notes))


def check(event: dict, field: str, expected: object) -> None:
    actual = event.get(field)
    where = f"{field} of {event['event.original']!r}"
    if expected is EMPTY:
        assert actual in ("", None), where
    elif isinstance(expected, Not):
        assert actual != expected.value, where
    elif isinstance(expected, dt.datetime):
        assert actual is not None, where
        assert actual.astimezone(UTC) == expected, where
    else:
        assert actual == expected, where


# -- every line -----------------------------------------------------------------------


@pytest.mark.parametrize("file", FILES)
def test_every_fixture_line_parses_and_has_a_case(file):
    result = read(file)
    assert result.quarantine == []
    lines = (DEVICES / file).read_text(encoding="utf-8").splitlines()
    assert result.records == len(result.events) == len(lines)
    assert sorted(case.line for case in CASES if case.file == file) == list(range(1, len(lines) + 1))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_line(case):
    event = read(case.file).line(case.line)
    for field in dict.fromkeys([*ALWAYS, *case.expected]):
        check(event, field, case.expected.get(field))


# -- time zones and years -------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "line", "timestamp", "created"),
    [
        # a device clock that names a zone is read in it, whatever --timezone says
        ("cisco_ios.log", 1, t("2024-06-12 09:14:03.512"), None),
        ("cisco_ios.log", 3, t("2024-06-12 16:31:44.908"), t("2024-06-12 20:31:45")),  # PDT clock, NY header
        ("cisco_ios.log", 4, t("2024-06-13 06:02:19.077"), None),
        # zone-less clocks and BSD headers are read in --timezone (EDT, UTC-4, in June)
        ("cisco_ios.log", 2, t("2024-06-12 13:20:10"), t("2024-06-12 13:20:11")),
        ("cisco_ios.log", 9, t("2024-06-13 11:30:45.001"), None),
        ("cisco_ios.log", 27, t("2024-06-13 13:20:05.123"), None),
        # a zone Seawall does not know is read in --timezone too
        ("cisco_ios.log", 28, t("2024-06-13 14:00:00"), None),
        ("cisco_ios.log", 29, t("2023-12-31 23:59:58"), None),
        ("cisco_nxos.log", 3, t("2023-05-02 02:58:09"), None),
        ("junos.log", 2, t("2024-06-14 15:02:03"), None),
        ("junos.log", 11, t("2024-06-14 11:20:15.719"), None),  # RFC 5424 carries its offset
        ("arista_eos.log", 2, t("2024-06-14 16:00:05"), None),
        ("huawei_vrp.log", 1, t("2024-06-14 17:00:01"), None),
    ],
)
def test_options_timezone_shifts_only_zone_less_times(file, line, timestamp, created):
    event = read(file, NEW_YORK).line(line)
    check(event, "@timestamp", timestamp)
    check(event, "event.created", created)


@pytest.mark.parametrize("timezone", ["UTC", NEW_YORK])
def test_unknown_zone_is_noted_with_the_zone_used(timezone):
    notes = [n for n in read("cisco_ios.log", timezone).notes if "time zone" in n]
    assert len(notes) == 1, read("cisco_ios.log", timezone).notes
    assert f"read in {timezone}" in notes[0]
    assert "timezones.yaml" in notes[0]


@pytest.mark.parametrize(
    "file", ["cisco_iosxr.log", "junos.log", "arista_eos.log", "huawei_vrp.log", "linux_mixed.log"]
)
def test_no_zone_note_when_every_zone_is_known(file):
    assert not [n for n in read(file).notes if "time zone" in n]


def test_yearless_clock_note_only_without_a_reference(tmp_path):
    path = tmp_path / "buffer.log"
    path.write_text("*Jun 13 09:20:05.123: %SYS-5-CONFIG_I: Configured from console by console\n")
    assert any("--year" in n for b in SYSLOG.parse(path, ReadOptions()) for n in b.notes)
    assert not any("year" in n for b in SYSLOG.parse(path, ReadOptions(reference_time=REFERENCE)) for n in b.notes)


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("Jul  1 11:59:59.000 UTC", t("2024-07-01 11:59:59")),  # just under a day after the reference
        ("Jul  1 12:00:01.000 UTC", t("2023-07-01 12:00:01")),  # just over
        ("Jul  1 13:30:00.000 CEST", t("2024-07-01 11:30:00")),  # the zone counts: 11:30 UTC is within the day
        ("Jan  1 00:00:00.000 UTC", t("2024-01-01 00:00:00")),
    ],
)
def test_yearless_device_clock_is_dated_around_the_reference(tmp_path, clock, expected):
    (event,) = read_text(tmp_path, f"<189>12: {clock}: %SYS-5-RESTART: System restarted --").events
    check(event, "@timestamp", expected)


@pytest.mark.parametrize(
    ("line", "created"),
    [
        ("<189>14: Feb 29 10:00:00.000 UTC: %SYS-5-RESTART: System restarted --", None),
        ("<189>Feb 29 10:00:01 rtr1 14: Feb 29 10:00:00.000 UTC: %SYS-5-RESTART: System restarted --",
         t("2024-02-29 10:00:01")),
    ],
    ids=["buffer-line", "under-bsd-header"],
)  # fmt: skip
def test_yearless_february_29_device_clock_goes_to_the_leap_year(tmp_path, line, created):
    (event,) = read_text(tmp_path, line, reference=t("2025-01-10 00:00")).events
    check(event, "@timestamp", t("2024-02-29 10:00:00"))
    check(event, "event.created", created)


@pytest.mark.parametrize(
    "line",
    [
        "<189>1 2023-12-31T23:59:59Z relay1 - - - - 12: Dec 31 23:59:58 UTC: %SYS-5-RESTART: System restarted --",
        "2023-12-31T23:59:59+00:00 relay1 12: Dec 31 23:59:58 UTC: %SYS-5-RESTART: System restarted --",
    ],
    ids=["rfc5424-header", "rfc3339-bsd-header"],
)
def test_yearless_device_clock_takes_the_year_of_a_dated_header(tmp_path, line):
    (event,) = read_text(tmp_path, line, reference=t("2025-01-10 00:00")).events
    check(event, "@timestamp", t("2023-12-31 23:59:58"))
    check(event, "event.created", t("2023-12-31 23:59:59"))


def test_pri_then_zoned_clock_without_sequence(tmp_path):
    (event,) = read_text(tmp_path, "<189>Jun 13 10:00:00.000 PDT: %SYS-5-RESTART: System restarted --").events
    check(event, "@timestamp", t("2024-06-13 17:00:00"))
    check(event, "process.name", None)
    check(event, "event.code", "SYS-5-RESTART")


@pytest.mark.parametrize(
    ("zone", "expected"),
    [("UTC+07:30", t("2024-06-13 02:30:00")), ("UTC+1", t("2024-06-13 09:00:00"))],
)
def test_offset_zone_names(tmp_path, zone, expected):
    (event,) = read_text(tmp_path, f"<189>4501: Jun 13 10:00:00.000 {zone}: %SYS-5-RESTART: System restarted --").events
    check(event, "host.name", None)
    check(event, "@timestamp", expected)


# -- columns --------------------------------------------------------------------------

VENDOR_NAMESPACES = ("cisco.", "junos.", "arista.", "huawei.")


def test_linux_only_file_gets_no_empty_device_columns():
    columns = read("linux_mixed.log").columns
    assert not [c for c in columns if c.startswith(VENDOR_NAMESPACES)], sorted(columns)
    assert not set(catalog().columns) & columns, sorted(set(catalog().columns) & columns)
    assert {"@timestamp", "host.name", "process.name", "message", "event.original"} <= columns


def test_device_file_gets_the_columns_its_messages_fill():
    columns = read("cisco_ios.log").columns
    assert {"cisco.line", "cisco.acl.name", "user.name", "source.ip", "destination.port"} <= columns
    assert not [c for c in columns if c.startswith(("junos.", "arista.", "huawei."))], sorted(columns)


# -- the catalog ----------------------------------------------------------------------

VENDORS = {"cisco": {"vendor": "Cisco", "product": "IOS", "dataset": "cisco.ios"}}


def catalog_with(entry: dict) -> dict:
    return {"vendors": VENDORS, "messages": [entry]}


def test_shipped_catalog_loads():
    loaded = catalog()
    assert set(loaded.vendors) == {"cisco", "arista", "juniper", "huawei"}
    assert {"user.name", "source.ip", "process.command_line", "cisco.line", "junos.config.path"} <= set(loaded.columns)


def test_a_valid_entry_loads():
    entry = {
        "codes": ["SYS-5-X"],
        "action": "x-{what}",
        "patterns": ["^(?P<what>\\w+)"],
        "fields": {"user.name": "{what}"},
    }
    loaded = parse_catalog(catalog_with(entry), "mine.yaml")
    assert "user.name" in loaded.columns


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"codes": ["SYS-5-X"], "patterns": ["^a(?=b)"]},  # Python re accepts lookahead; RE2 does not
            r"mine\.yaml: message entry 1 \(SYS-5-X\): pattern '\^a\(\?=b\)' does not compile",
        ),
        (
            {"codes": ["SYS-5-X"], "patterns": ["^(?P<a>x)(?P=a)"]},  # a back-reference
            r"mine\.yaml: message entry 1 \(SYS-5-X\): pattern .* does not compile",
        ),
        (
            {"codes": ["SYS-5-X"], "patterns": ["^(?P<a>x"]},  # compiles nowhere
            r"mine\.yaml: message entry 1 \(SYS-5-X\): pattern .* does not compile",
        ),
        (
            {"codes": ["SYS-5-X"], "patterns": ["^(?P<user>\\S+)"], "fields": {"user.name": "{usr}"}},
            r"mine\.yaml: message entry 1 \(SYS-5-X\): user\.name uses usr, which no pattern captures",
        ),
        (
            {"codes": ["SYS-5-X"], "patterns": ["^(?P<user>\\S+)"], "action": "x-{verb}"},
            r"mine\.yaml: message entry 1 \(SYS-5-X\): event\.action uses verb, which no pattern captures",
        ),
        (
            {"codes": ["SYS-5-X"], "patterns": ["^x"], "outcome": {"result": {"ok": "success"}}},
            r"mine\.yaml: message entry 1 \(SYS-5-X\): event\.outcome uses result, which no pattern captures",
        ),
        (
            {"codes": ["SYS-5-X"], "vendors": ["cisco", "nokia"], "patterns": ["^x"]},
            r"mine\.yaml: message entry 1 \(SYS-5-X\): unknown vendor\(s\) nokia",
        ),
        ({"codes": ["SYS-5-X"]}, r"mine\.yaml: message entry 1 \(SYS-5-X\): needs codes and patterns"),
        ({"patterns": ["^x"]}, r"mine\.yaml: message entry 1 \(\?\): needs codes and patterns"),
    ],
    ids=["re2-lookahead", "backreference", "unbalanced", "template-group", "action-group", "outcome-group",
         "unknown-vendor", "no-patterns", "no-codes"],
)  # fmt: skip
def test_broken_catalog_is_a_content_error(entry, message):
    with pytest.raises(ContentError, match=message):
        parse_catalog(catalog_with(entry), "mine.yaml")


def test_broken_entry_is_named_by_its_position():
    good = {"codes": ["SYS-5-A"], "patterns": ["^a"]}
    bad = {"codes": ["SYS-5-B"], "patterns": ["^(?P<x>b)"], "fields": {"user.name": "{y}"}}
    with pytest.raises(ContentError, match=r"message entry 2 \(SYS-5-B\)"):
        parse_catalog({"vendors": VENDORS, "messages": [good, bad]}, "mine.yaml")

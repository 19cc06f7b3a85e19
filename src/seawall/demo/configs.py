"""The demo's configuration backups and site profile: the edge router before and after the breach.

``configs/mrd-edge-r1/2024-10-01.cfg`` is the router as its operator left it; the
snapshot of 2024-10-09 carries what the intruder changed on 8 October (the same changes
the router's own logs record): an implant-style account, Guest Shell, SSH on 57722, a
packet capture of TACACS+ traffic, a GRE tunnel to an outside peer, and remote logging
removed. The site profile declares what is normal, so the audit can tell.
"""

from __future__ import annotations

SITE_PROFILE = """# What is normal on the demo operator's network (see docs/CONFIG_AUDIT.md).
name: demo-operator
management_ranges: [10.20.1.0/24]
infrastructure_ranges: [10.255.0.0/16]
approved_servers:
  tacacs: [10.20.5.10]
  syslog: [10.20.5.50]
  ntp: [10.20.5.60]
  snmp: [10.20.5.70]
tunnel_peers: [10.255.9.1]
approved_admins: [netops]
"""

BEFORE = """\
Building configuration...

Current configuration : 2310 bytes
!
version 17.9
service timestamps log datetime msec
service password-encryption
!
hostname {host}
!
no logging console
enable secret 9 $9$2kLq7bNwXv0sYe$Jr4Vd9ZpTq1uHn6Wm3Xc8Fg5Bt2Ak0Lo7Se4Rd1Qy9E
!
aaa new-model
aaa group server tacacs+ NOC
 server name TAC1
aaa authentication login default group NOC local
aaa accounting commands 15 default start-stop group NOC
!
no ip source-route
no ip http server
no ip http secure-server
no vstack
no cdp run
!
username netops privilege 15 secret 9 $9$Vq2kXz1Lr0p8aE$5hM1eGkR0wQ7sT3uY6iO9pA2dF5gH8jK1lZ4xC7vB0n
!
interface Loopback0
 ip address 10.255.0.1 255.255.255.255
!
interface GigabitEthernet0/0/0
 description uplink to mrd-core-r2
 ip address 10.255.1.1 255.255.255.252
 ip ospf message-digest-key 1 md5 7 0822455D0A16
!
interface GigabitEthernet0/0/1
 description customer edge
 ip address 198.51.100.1 255.255.255.0
!
router ospf 1
 area 0 authentication message-digest
 network 10.255.0.0 0.0.255.255 area 0
!
ip ssh version 2
ip ssh source-interface Loopback0
!
ip access-list standard VTY-ACCESS
 10 permit 10.20.1.0 0.0.0.255
 20 deny   any log
!
logging host 10.20.5.50
!
snmp-server group NOC v3 priv access VTY-ACCESS
snmp-server host 10.20.5.70 version 3 priv noc-snmp
!
tacacs server TAC1
 address ipv4 10.20.5.10
 key 6 AAA]WTCHdOfGZbZ^eZcTMQbOdFReUAAB
!
ntp authentication-key 1 md5 0822455D0A16 7
ntp authenticate
ntp trusted-key 1
ntp server 10.20.5.60 key 1
!
line con 0
 transport output none
line vty 0 4
 access-class VTY-ACCESS in
 transport input ssh
 transport output none
!
end
"""

# The intruder's changes: lines added after an anchor line, and the line removed.
_ADDED = {
    "username netops privilege 15": [
        "username cisco_tac privilege 15 secret 9 $9$Xs1pQ8rZ4mN7bV$Lk2Jh5Gf8Ds1Aq4Wz7Ex0Cv3Bn6Mm9Po2Iu5Yt8Re1Tw"
    ],
    "no cdp run": ["iox", "guestshell"],
    "ip ssh source-interface Loopback0": ["ip ssh port 57722 rotary 1"],
}
_TUNNEL = [
    "interface Tunnel100",
    " ip address 172.31.255.1 255.255.255.252",
    " tunnel source GigabitEthernet0/0/1",
    " tunnel destination {peer}",
    "!",
]
_CAPTURE = [
    "monitor capture TAC interface GigabitEthernet0/0/1 both",
    "monitor capture TAC match ipv4 protocol tcp any any eq 49",
]
_REMOVED = "logging host 10.20.5.50"


def before(host: str) -> str:
    """The router's configuration as its operator left it."""
    return BEFORE.format(host=host)


def after(host: str, tunnel_peer: str) -> str:
    """The same router after the intrusion: the operator's lines plus the intruder's."""
    out: list[str] = []
    for line in before(host).splitlines():
        if line == _REMOVED:
            continue
        if line == "end":
            out += [*_CAPTURE, "!"]
        if line == "router ospf 1":
            out += [x.format(peer=tunnel_peer) for x in _TUNNEL]
        out.append(line)
        for anchor, added in _ADDED.items():
            if line.startswith(anchor):
                out += added
    return "\n".join(out) + "\n"

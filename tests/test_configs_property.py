"""Property tests: no input breaks the configuration parsers or their promises.

Whatever the bytes (garbage, configuration lines of every platform shuffled together, a
real configuration cut anywhere), ``parse_config`` returns; the status is one of the
model's; every unparsed range and every item's line numbers lie inside the file; a parser
bug never hides behind a rejection.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS, TEXT_LINES, arbitrary_bytes

from seawall.sources.configs import parse_config
from seawall.sources.configs.model import COLLECTIONS, PLATFORMS, STATUSES, DeviceConfig, Item

CONFIGS = Path(__file__).resolve().parent / "fixtures" / "configs"
FIXTURES = {p.name: p.read_bytes() for p in sorted(CONFIGS.iterdir()) if p.name != "binary.cfg"}
# Every line of every fixture is a piece a garbage file may be built of, with the
# characters structure hangs on: braces, delimiters, indentation, line ends.
LINES = sorted({line + b"\n" for data in FIXTURES.values() for line in data.split(b"\n")})
PIECES = [
    *LINES,
    b"{", b"}", b";", b" {\n", b"}\n", b"^C", b"\x03", b"banner motd ^C\n", b"banner login\n", b"EOF\n",
    b" ", b"  ", b"\t", b"\r\n", b"\x00", b"\xff", b"\xe9", b"\xef\xbb\xbf", b"\"", b"[ ", b" ]", b"#", b"/*",
    b"inactive: ", b"set ", b"deactivate ", b"interface Tunnel1\n", b"monitor session 1 type erspan-source\n",
    b" destination\n", b"  ip address ", b"203.0.113.9", b"0.0.0.255", b"255.255.255.0", b"host ", b"eq ",
    b"range ", b"neighbor ", b"password ", b"key 7 ", b"secret 9 ", b"vty-pool default 0 4\n", b"line default\n",
]  # fmt: skip
ANY_FILE = st.one_of(arbitrary_bytes(PIECES, [b"x", b"\xe9", b" permit ip any any", b"{"], 100_000), TEXT_LINES)
SHUFFLED_LINES = st.lists(st.sampled_from(LINES), max_size=200).map(b"".join)
PLATFORM = st.one_of(st.none(), st.sampled_from(PLATFORMS))


def check(config: DeviceConfig) -> None:
    """The promises every parse keeps."""
    assert config.status in STATUSES
    assert not (config.reason or "").startswith("parser error"), config.reason
    assert config.platform in PLATFORMS or config.status == "rejected"
    n = len(config.text_lines)
    for first, last in config.unparsed:
        assert 1 <= first <= last <= n
    assert config.unparsed == sorted(config.unparsed)
    if config.status == "parsed":
        assert config.unparsed == [] and config.reason is None
    else:
        assert config.reason
    if config.status == "rejected":
        assert config.unparsed == [] and not any(getattr(config, name) for name in COLLECTIONS)
    for name in COLLECTIONS:
        for item in getattr(config, name):
            assert item.lines and all(1 <= line <= n for line in item.lines), (name, item)
            for value in item.facts().values():
                for nested in value if isinstance(value, tuple) else ():
                    if isinstance(nested, Item):
                        assert nested.lines and all(1 <= line <= n for line in nested.lines)


@SETTINGS
@given(data=ANY_FILE, platform=PLATFORM)
def test_arbitrary_bytes_never_break_the_parser(data: bytes, platform: str | None) -> None:
    check(parse_config(data, "x.cfg", platform))


@SETTINGS
@given(data=SHUFFLED_LINES, platform=PLATFORM)
def test_configuration_lines_in_any_order(data: bytes, platform: str | None) -> None:
    check(parse_config(data, "x.cfg", platform))


@SETTINGS
@given(text=st.text(max_size=2000), platform=PLATFORM)
def test_arbitrary_text(text: str, platform: str | None) -> None:
    check(parse_config(text, "x.cfg", platform))


@SETTINGS
@given(name=st.sampled_from(sorted(FIXTURES)), cut=st.floats(0, 1))
def test_a_configuration_cut_anywhere(name: str, cut: float) -> None:
    data = FIXTURES[name]
    check(parse_config(data[: int(len(data) * cut)], name))


@SETTINGS
@given(cut=st.integers(1, 500))
def test_a_junos_file_cut_inside_a_block_is_partial(cut: int) -> None:
    lines = FIXTURES["junos_router.conf"].decode().split("\n")
    head = "\n".join(lines[: min(cut, len(lines))]) + "\n"
    config = parse_config(head, "j.conf")
    check(config)
    depth = head.count("{") - head.count("}")
    assert (config.status == "partial") == (depth > 0)
    if depth:
        assert config.unparsed[-1][1] == len(config.text_lines)


@SETTINGS
@given(cut=st.integers(1, 500))
def test_a_show_running_config_without_its_end_is_partial(cut: int) -> None:
    lines = FIXTURES["iosxe_router.cfg"].decode().split("\n")
    head = "\n".join(lines[: min(cut, len(lines))]) + "\n"
    config = parse_config(head, "r.cfg")
    check(config)
    complete = "end" in head.split("\n")
    assert (config.status == "parsed") == complete
    if not complete:
        assert config.reason and config.reason.startswith("truncated")

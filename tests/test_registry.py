"""The protected-entity registry: CSV and YAML forms, validation, normalisation, look-ups."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from conftest import REGISTRIES as REGISTRY

from seawall.errors import RegistryError
from seawall.scope.registry import CSV_HEADER, Match, Registry, identifier_keys, normalise_msisdn

HEADER = "organisation,person,role,msisdn,imsi,email,notify_email"
MINISTRY = "Ministry of Examples"


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def person(registry: Registry, org: str, name: str):
    return next(p for p in registry.organisations[org].people if p.name == name)


# ----------------------------------------------------------------------------- CSV
def test_csv_header_constant_is_the_documented_header() -> None:
    assert ",".join(CSV_HEADER) == HEADER


def test_csv_loads_organisations_and_people(csv_registry: Registry) -> None:
    assert set(csv_registry.organisations) == {MINISTRY, "Example Party"}
    assert [p.name for p in csv_registry.organisations[MINISTRY].people] == ["Alice Adams", "Bob Brown"]
    assert len(csv_registry) == 3  # the row with neither name nor identifiers adds nobody


def test_csv_normalises_identifiers(csv_registry: Registry) -> None:
    alice = person(csv_registry, MINISTRY, "Alice Adams")
    assert alice.role == "Minister"
    assert alice.msisdn == ["+12025550143"]
    assert alice.imsi == ["310150123456789"]
    assert alice.email == ["alice.adams@ministry.example"]
    assert alice.notify_email == "security@ministry.example"
    assert alice.organisation == MINISTRY


def test_csv_cells_hold_several_values_separated_by_semicolons(csv_registry: Registry) -> None:
    bob = person(csv_registry, MINISTRY, "Bob Brown")
    assert bob.msisdn == ["+12025550144", "+442079460958"]
    assert bob.email == ["bob@ministry.example", "b.brown@private.example"]
    assert bob.imsi == [] and bob.notify_email == ""


def test_csv_empty_columns_are_allowed(csv_registry: Registry) -> None:
    carol = person(csv_registry, "Example Party", "Carol Chen")
    assert (carol.role, carol.msisdn, carol.imsi, carol.email, carol.notify_email) == ("", [], [], [], "")


def test_csv_with_the_wrong_header_names_the_expected_header() -> None:
    path = REGISTRY / "wrong_header.csv"
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    assert HEADER in str(info.value)
    assert str(path) in str(info.value)


def test_csv_with_a_missing_column_is_rejected(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Ministry,Alice,,,,", header="organisation,person,role,msisdn,imsi,email")
    with pytest.raises(RegistryError, match="organisation,person,role,msisdn,imsi,email,notify_email"):
        Registry.load(path)


def test_csv_header_tolerates_case_and_spaces(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "Ministry,Alice,,+12025550143,,,", header="Organisation, Person ,Role,MSISDN,IMSI,Email,Notify_Email"
    )
    registry = Registry.load(path)
    assert person(registry, "Ministry", "Alice").msisdn == ["+12025550143"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (202) 555-0143", "+12025550143"),
        ("001 202 555 0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33.1.23.45.67.89", "+33123456789"),
        ("0049/30/1234567", "+49301234567"),
        ("+12025550143", "+12025550143"),
    ],
)
def test_normalise_msisdn_to_e164(raw: str, expected: str) -> None:
    assert normalise_msisdn(raw) == expected


@pytest.mark.parametrize(
    "bad", ["202-555-0143", "+0 202 555 0143", "+1 202", "+1 202 555 0143 ext 7", "12345678901234567"]
)
def test_csv_non_e164_msisdn_is_an_error_naming_file_and_line(tmp_path: Path, bad: str) -> None:
    path = write_csv(tmp_path, "Ministry,Alice,,+12025550143,,,", f"Ministry,Bob,,{bad},,,")
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    message = str(info.value)
    assert f"{path}:3" in message
    assert "msisdn" in message


@pytest.mark.parametrize("column", ["email", "notify_email"])
def test_csv_bad_email_is_an_error_naming_file_and_line(tmp_path: Path, column: str) -> None:
    row = "Ministry,Bob,,,,not-an-address," if column == "email" else "Ministry,Bob,,,,,bob at ministry"
    path = write_csv(tmp_path, row)
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    assert f"{path}:2" in str(info.value)


def test_csv_bad_imsi_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Ministry,Bob,,,31015012,,")
    with pytest.raises(RegistryError, match=r":2: imsi"):
        Registry.load(path)


def test_csv_row_without_organisation_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ",Bob,,+12025550143,,,")
    with pytest.raises(RegistryError, match=f"{path}:2"):
        Registry.load(path)


def test_csv_error_line_number_counts_blank_lines(tmp_path: Path) -> None:
    # line 1 header, 2 Alice, 3 blank, 4 Bob with a bad number: the error must point at line 4
    path = tmp_path / "gaps.csv"
    path.write_text(f"{HEADER}\nMinistry,Alice,,+12025550143,,,\n\nMinistry,Bob,,202-555-0144,,,\n", encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    assert f"{path}:4:" in str(info.value)


def test_unreadable_registry_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        Registry.load(tmp_path / "absent.csv")


# ---------------------------------------------------------------------------- YAML
def test_yaml_loads_domains_networks_contacts_and_people(yaml_registry: Registry) -> None:
    ministry = yaml_registry.organisations[MINISTRY]
    assert ministry.domains == ["ministry.example", "gov-example.org"]
    assert ministry.networks == [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8:100::/48")]
    assert ministry.contacts == ["soc@ministry.example"]
    assert [p.name for p in ministry.people] == ["Alice Adams", "Dan Diaz"]
    alice = person(yaml_registry, MINISTRY, "Alice Adams")
    assert alice.msisdn == ["+12025550143"] and alice.imsi == ["310150123456789"]
    assert alice.email == ["alice.adams@ministry.example"]
    assert person(yaml_registry, MINISTRY, "Dan Diaz").msisdn == ["+33123456789"]
    party = yaml_registry.organisations["Example Party"]
    assert party.people == [] and party.domains == ["party.example"]


def test_yaml_invalid_person_names_where(tmp_path: Path) -> None:
    path = tmp_path / "reg.yml"
    path.write_text(
        "organisations:\n  - name: Ministry\n    people:\n      - name: A\n        msisdn: '+12025550143'\n"
        "      - name: B\n        email: nobody\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    assert str(path) in str(info.value) and "people[1]" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "organisations: [unclosed\n",
        "people: []\n",
        "organisations:\n  - domains: [x.example]\n",
        "organisations:\n  - name: M\n    networks: [300.1.2.0/24]\n",
    ],
)
def test_yaml_structural_errors_are_registry_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=str(path)):
        Registry.load(path)


# -------------------------------------------------------------------------- lookup
ALICE = Match(MINISTRY, "Alice Adams", "+12025550143")


@pytest.mark.parametrize(
    "observed",
    [
        "+12025550143",
        "12025550143",
        "+1 202-555-0143",
        "0012025550143",
        "tel:+1-202-555-0143",
        "tel:+12025550143;phone-context=example.net",
        "sip:+12025550143@ims.mnc001.mcc310.3gppnetwork.org;user=phone",
        "SIP:+12025550143@ims.example.net",
    ],
)
def test_lookup_finds_a_person_by_msisdn_in_any_common_form(csv_registry: Registry, observed: str) -> None:
    assert csv_registry.lookup(observed) == [ALICE]


def test_lookup_finds_a_person_by_imsi(csv_registry: Registry) -> None:
    assert csv_registry.lookup("310150123456789") == [Match(MINISTRY, "Alice Adams", "310150123456789")]


@pytest.mark.parametrize(
    "observed", ["alice.adams@ministry.example", "ALICE.Adams@Ministry.Example", "mailto:Alice.Adams@ministry.example"]
)
def test_lookup_finds_a_person_by_email_case_insensitively(csv_registry: Registry, observed: str) -> None:
    assert csv_registry.lookup(observed) == [Match(MINISTRY, "Alice Adams", "alice.adams@ministry.example")]


def test_lookup_finds_the_second_value_of_a_multi_value_cell(csv_registry: Registry) -> None:
    assert csv_registry.lookup("+44 20 7946 0958") == [Match(MINISTRY, "Bob Brown", "+442079460958")]
    assert csv_registry.lookup("b.brown@private.example") == [Match(MINISTRY, "Bob Brown", "b.brown@private.example")]


@pytest.mark.parametrize(
    "observed",
    [
        "+12025550199",
        "2025550143",
        "310150123456780",
        "carol@party.example",
        "alice.adams@ministry.example.evil.net",
        "edge-r1",
        "",
    ],
)
def test_lookup_of_unknown_values_finds_nothing(csv_registry: Registry, observed: str) -> None:
    assert csv_registry.lookup(observed) == []


@pytest.mark.parametrize(
    "observed",
    [
        "ministry.example",
        "mail.ministry.example",
        "a.b.MINISTRY.EXAMPLE",
        "vpn.gov-example.org",
        "someone@ministry.example",
    ],
)
def test_lookup_finds_an_organisation_by_its_domain_or_a_sub_domain(yaml_registry: Registry, observed: str) -> None:
    matches = yaml_registry.lookup(observed)
    assert Match(MINISTRY, None, observed.lower()) in matches
    assert all(m.organisation == MINISTRY for m in matches)


@pytest.mark.parametrize("observed", ["notministry.example", "ministry.example.evil.net", "example"])
def test_lookup_does_not_match_look_alike_domains(yaml_registry: Registry, observed: str) -> None:
    assert yaml_registry.lookup(observed) == []


@pytest.mark.parametrize("observed", ["192.0.2.1", "192.0.2.254", "2001:db8:100::5"])
def test_lookup_finds_an_organisation_by_an_ip_inside_its_network(yaml_registry: Registry, observed: str) -> None:
    assert yaml_registry.lookup(observed) == [Match(MINISTRY, None, observed)]


@pytest.mark.parametrize("observed", ["192.0.3.1", "198.51.100.1", "2001:db8:101::5"])
def test_lookup_does_not_match_ips_outside_the_networks(yaml_registry: Registry, observed: str) -> None:
    assert yaml_registry.lookup(observed) == []


def test_lookup_of_a_person_email_at_an_org_domain_names_person_and_org(yaml_registry: Registry) -> None:
    matches = yaml_registry.lookup("alice.adams@ministry.example")
    assert set(matches) == {
        Match(MINISTRY, "Alice Adams", "alice.adams@ministry.example"),
        Match(MINISTRY, None, "alice.adams@ministry.example"),
    }


def test_identifier_keys_cover_plus_and_uri_forms() -> None:
    assert "12025550143" in identifier_keys("tel:+1 (202) 555-0143")
    assert "bob@x.example" in identifier_keys("mailto:Bob@X.example")


def test_empty_registry_matches_nothing() -> None:
    registry = Registry.empty()
    assert len(registry) == 0
    assert registry.lookup("+12025550143") == []


def test_trunk_prefix_in_brackets_is_dropped_from_a_number() -> None:
    assert normalise_msisdn("+44 (0)20 7946 0958") == "+442079460958"


def test_yaml_unquoted_plus_number_is_read_as_that_number(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(
        "organisations:\n  - name: Ministry\n    people:\n      - name: Erin\n        msisdn: [+12025550122]\n",
        encoding="utf-8",
    )
    registry = Registry.load(path)
    assert person(registry, "Ministry", "Erin").msisdn == ["+12025550122"]
    assert registry.lookup("+12025550122") == [Match("Ministry", "Erin", "+12025550122")]

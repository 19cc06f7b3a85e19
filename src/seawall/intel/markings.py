"""Data markings: which TLP level and which human labels a marking stands for.

Sharing decisions need the level, not a UUID, so every marking an object carries is
turned into labels ('TLP:AMBER', 'AIS:PUBREL') and the strictest TLP level of them.
The TLP 1.0 ids are predefined in STIX 2.1 (and in the stix2 library); the TLP 2.0 ids
are fixed by the OASIS TLP 2.0 extension (extension-definition--60a3c5c5-...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import stix2

LEVELS = ("clear", "green", "amber", "amber+strict", "red")  # loosest first
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

# marking-definition id -> (TLP level, label)
KNOWN: dict[str, tuple[str, str]] = {
    stix2.TLP_WHITE.id: ("clear", "TLP:WHITE"),
    stix2.TLP_GREEN.id: ("green", "TLP:GREEN"),
    stix2.TLP_AMBER.id: ("amber", "TLP:AMBER"),
    stix2.TLP_RED.id: ("red", "TLP:RED"),
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": ("clear", "TLP:CLEAR"),
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": ("green", "TLP:GREEN"),
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": ("amber", "TLP:AMBER"),
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": ("amber+strict", "TLP:AMBER+STRICT"),
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": ("red", "TLP:RED"),
}
# AIS determinations that say the content is publicly releasable, i.e. TLP:CLEAR.
_PUBLIC = {"PUBREL"}


def tlp_level(text: object) -> str | None:
    """The TLP level a name such as 'tlp:white', 'TLP:AMBER+STRICT' or 'amber' stands for."""
    if not isinstance(text, str):
        return None
    level = text.strip().lower().removeprefix("tlp:").strip().replace(" ", "")
    if level == "white":
        return "clear"
    return level if level in LEVELS else None


def strictest(levels: Iterable[str | None]) -> str | None:
    """The most restrictive of several TLP levels (None when there is none)."""
    ranked = [LEVELS.index(level) for level in levels if level in LEVELS]
    return LEVELS[max(ranked)] if ranked else None


def describe(marking: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(TLP level, labels) of one marking-definition object; unknown kinds give (None, [name])."""
    known = KNOWN.get(str(marking.get("id")))
    if known:
        return known[0], [known[1]]
    labels: list[str] = []
    levels: list[str | None] = []
    definition = marking.get("definition")
    kind = marking.get("definition_type")
    if kind == "tlp" and isinstance(definition, dict):
        level = tlp_level(definition.get("tlp"))
        if level:
            levels.append(level)
            labels.append(f"TLP:{str(definition['tlp']).upper()}")
    elif kind == "statement" and isinstance(definition, dict) and isinstance(definition.get("statement"), str):
        labels.append(definition["statement"])
    extensions = marking.get("extensions")
    for ext_id, ext in extensions.items() if isinstance(extensions, dict) else ():
        if not isinstance(ext, dict):
            continue
        if ext_id == TLP2_EXTENSION and tlp_level(ext.get("tlp_2_0")):
            levels.append(tlp_level(ext["tlp_2_0"]))
            labels.append(f"TLP:{str(ext['tlp_2_0']).upper()}")
        control = ext.get("control_set")
        if isinstance(control, dict):  # CISA AIS (ISA marking extension)
            determinations = control.get("formal_determination")
            for item in determinations if isinstance(determinations, list) else [determinations]:
                if isinstance(item, str) and item:
                    labels.append(f"AIS:{item}")
                    if item.upper() in _PUBLIC:
                        levels.append("clear")
    name = marking.get("name")
    if not levels and isinstance(name, str):
        levels.append(tlp_level(name))
    if isinstance(name, str) and name and name not in labels:
        labels.insert(0, name)
    return strictest(levels), labels

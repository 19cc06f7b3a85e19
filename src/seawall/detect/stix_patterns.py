"""STIX 2.1 patterns compiled for matching against the events table: the public names.

Four modules of one job each, re-exported here (what the intel detector and the tests import):

* seawall.detect.stix_parse -- pattern text -> syntax tree (observations, comparisons, paths);
* seawall.detect.stix_compile -- syntax tree -> atoms for the join (one-comparison patterns of a
  whole table at once: ``compile_table``) or a plan of observations;
* seawall.detect.stix_sql -- observations as Ibis row filters, and the address expressions;
* seawall.detect.stix_eval -- observation operators over the matched events' timestamps.

Settings are read where they are used: patch ``stix_eval.MAX_WINDOWS``, not this module's copy.
"""

from __future__ import annotations

from seawall.detect.stix_compile import (
    IPV4_CIDR,
    SIMPLE_PATTERN,
    Atom,
    Compiled,
    atoms_of,
    compile_pattern,
    compile_table,
    quick_atoms,
    simple_path,
)
from seawall.detect.stix_eval import (
    MAX_WINDOWS,
    Evaluation,
    TooManyWindows,
)
from seawall.detect.stix_parse import (
    HASH_NAMES,
    SINGLE_VALUED,
    AllOf,
    AnyOf,
    Comparison,
    CompExpr,
    FollowedBy,
    Key,
    Literal,
    ObsAnd,
    Observation,
    ObsExpr,
    ObsOr,
    PatternError,
    Repeats,
    StartStop,
    Unsupported,
    Within,
    canonical_path,
    children,
    folds_case,
    is_address,
    parse,
    parse_network,
    string_literal,
    to_micros,
)
from seawall.detect.stix_sql import (
    contains_network,
    in_network,
    ipv4_number,
    ipv6_hex,
    predicate,
    same_address,
    v6_digits,
)

__all__ = [
    "HASH_NAMES",
    "IPV4_CIDR",
    "MAX_WINDOWS",
    "SIMPLE_PATTERN",
    "SINGLE_VALUED",
    "AllOf",
    "AnyOf",
    "Atom",
    "CompExpr",
    "Comparison",
    "Compiled",
    "Evaluation",
    "FollowedBy",
    "Key",
    "Literal",
    "ObsAnd",
    "ObsExpr",
    "ObsOr",
    "Observation",
    "PatternError",
    "Repeats",
    "StartStop",
    "TooManyWindows",
    "Unsupported",
    "Within",
    "atoms_of",
    "canonical_path",
    "children",
    "compile_pattern",
    "compile_table",
    "contains_network",
    "folds_case",
    "in_network",
    "ipv4_number",
    "ipv6_hex",
    "is_address",
    "parse",
    "parse_network",
    "predicate",
    "quick_atoms",
    "same_address",
    "simple_path",
    "string_literal",
    "to_micros",
    "v6_digits",
]

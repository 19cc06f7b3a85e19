"""Threat intelligence: STIX bundles, MISP events and feeds, CSV and TXT lists, kept in the workspace.

``import_path`` recognises and imports files; ``IntelStore`` owns the intel tables the
matcher (seawall.detect.intel) reads.
"""

from seawall.intel.importer import ImportReport, SourceReport, import_path
from seawall.intel.lists import classify, infer_kind, infer_type
from seawall.intel.store import IntelStore, IntelSummary, SourceBatch

__all__ = [
    "ImportReport",
    "IntelStore",
    "IntelSummary",
    "SourceBatch",
    "SourceReport",
    "classify",
    "import_path",
    "infer_kind",
    "infer_type",
]

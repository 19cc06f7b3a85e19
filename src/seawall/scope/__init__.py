"""Who and what was touched: the protected-entity registry and cases built from findings."""

from seawall.scope.case import Case, Incident, build_case
from seawall.scope.registry import Organisation, Person, Registry

__all__ = ["Case", "Incident", "Organisation", "Person", "Registry", "build_case"]

"""One exception module: every error Seawall raises on purpose derives from SeawallError."""


class SeawallError(Exception):
    """Base class for errors a user can act on (bad input, bad configuration)."""


class EvidenceError(SeawallError):
    """An evidence file cannot be read at all (missing, unreadable, corrupt container)."""


class ContentError(SeawallError):
    """Detection content (a rule, an indicator list, a mapping) is invalid."""


class RegistryError(SeawallError):
    """The protected-entity registry cannot be loaded."""

"""Where events live: one DuckDB file per workspace, queried through Ibis."""

from seawall.store.workspace import Workspace

__all__ = ["Workspace"]

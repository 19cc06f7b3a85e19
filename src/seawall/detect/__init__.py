"""Detectors turn events into findings. All share one interface: run(store, ctx) -> findings."""

from seawall.detect import config_audit, intel, sigma, silence  # noqa: F401  (importing registers the detectors)
from seawall.detect.base import Detector, HuntContext, Skipped, detectors
from seawall.detect.finding import SEVERITIES, Evidence, Finding

__all__ = ["SEVERITIES", "Detector", "Evidence", "Finding", "HuntContext", "Skipped", "detectors"]

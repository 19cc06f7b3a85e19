"""Sharing back: what a hunt saw, in forms the intel community reads (STIX 2.1 sightings)."""

from seawall.share.sightings import sightings, sightings_bundle

__all__ = ["sightings", "sightings_bundle"]

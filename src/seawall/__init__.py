"""Seawall: hunt intrusions in communications infrastructure, scope who was touched, notify and share."""

__version__ = "0.1.0"

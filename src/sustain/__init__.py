"""Sustain: a self-hosted maintenance and support platform."""

__version__ = "0.1.0"

"""Exceptions with messages meant for people: each names what went wrong and the fix."""

from __future__ import annotations


class ScryError(Exception):
    """Base class for errors scry reports to the user as a sentence, not a traceback."""

    exit_code = 1


class CatalogError(ScryError):
    """The catalog cannot be opened or used (newer schema, locked, corrupt, read-only, disk full)."""

    exit_code = 5


class ModelUnavailable(ScryError):
    """The embedding model cannot be loaded (offline and not cached, bad folder, missing package)."""

    exit_code = 4


class BadInput(ScryError):
    """A path or argument given by the user cannot be used."""

    exit_code = 3


class ExtractionError(Exception):
    """A file cannot be read; ``reason`` is stored in the catalog and shown in status."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

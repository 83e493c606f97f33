"""Errors raised by services and shown to the user by views."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the action. ``message`` is already in the user's language; ``field``
    names the form field it belongs to, if any; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

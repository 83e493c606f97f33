"""Errors raised by services and shown to the user by views."""

from __future__ import annotations

from flask_babel import gettext as _


class ServiceError(Exception):
    """A rule refused the action. ``message`` is already in the user's language; ``field``
    names the form field it belongs to, if any; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def require_confirmation(confirmed: bool) -> None:
    """Refuse an irreversible action whose confirmation step was not ticked (a forged or
    hurried request): the consequences must have been read first."""
    if not confirmed:
        raise ServiceError(
            _("Confirm that you have read what this will do."), field="confirm", status=422
        )

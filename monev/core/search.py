"""Case-insensitive 'contains' search that behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str) -> ColumnElement[bool]:
    """``lower(column) LIKE '%text%'`` with the user's % and _ taken literally."""
    return func.lower(column).like(f"%{_escape(text.strip().lower())}%", escape="\\")

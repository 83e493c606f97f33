"""Column mixins shared by the domain models (SQLAlchemy declarative mixins).

Each mixin declares its columns exactly as the models always did, so using one changes
nothing in the schema (``tests/test_schema_matches_migrations.py`` has Alembic prove it):

* :class:`IdMixin` — ``id``, the integer primary key;
* :class:`CreatedMixin` — ``created_at``, NOT NULL, set to :func:`utcnow` on insert;
* :class:`TimestampMixin` — ``created_at`` and ``updated_at``, the latter also set to
  :func:`utcnow` on every update.

``sort_order`` keeps ``id`` first and the timestamps last in ``CREATE TABLE`` statements
built from the models (the migrations own the real tables).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from monev.core.timeutil import utcnow


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-100)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, sort_order=100)


class TimestampMixin(CreatedMixin):
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, sort_order=101)

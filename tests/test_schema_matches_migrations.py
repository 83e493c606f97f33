"""The models and the migrations describe the same schema: Alembic, comparing the models'
metadata with a freshly migrated database, finds nothing to migrate (what ``flask db check``
does). Types and server defaults are compared too, so a model refactoring (e.g. columns
moved into mixins) that would change a column fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from monev.extensions import db


def test_models_need_no_migration(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": True},
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_mixin_columns_keep_their_definitions():
    """Every ``id`` is the table's integer primary key; every ``created_at`` and
    ``updated_at`` with a default is NOT NULL, and ``updated_at`` is also set on update."""
    for table in db.metadata.sorted_tables:
        if "id" in table.c:
            assert list(table.primary_key.columns) == [table.c.id], table.name
            assert str(table.c.id.type) == "INTEGER", table.name
        for name in ("created_at", "updated_at"):
            column = table.c.get(name)
            if column is None or column.default is None:
                continue
            assert not column.nullable, (table.name, name)
            assert (column.onupdate is not None) == (name == "updated_at"), (table.name, name)

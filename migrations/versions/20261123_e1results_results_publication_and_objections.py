"""results publication and objections

Revision ID: e1results
Revises: d1judging
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "e1results"
down_revision = "d1judging"
branch_labels = None
depends_on = None

# Tables whose rows are never changed or deleted once written.
FROZEN = ("published_results", "provisional_results")


def upgrade():
    op.create_table(
        "published_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_published_results_version")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_published_results_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_published_results_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_results")),
        sa.UniqueConstraint("event_id", "version", name="uq_published_results_event_version"),
    )
    with op.batch_alter_table("published_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_results_event_id"), ["event_id"], unique=False
        )
    op.create_table(
        "provisional_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("objections_close_at", sa.DateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_provisional_results_version")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_provisional_results_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_provisional_results_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisional_results")),
        sa.UniqueConstraint("event_id", "version", name="uq_provisional_results_event_version"),
    )
    with op.batch_alter_table("provisional_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provisional_results_event_id"), ["event_id"], unique=False
        )
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("provisional_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_url", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_sheets", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'rejected', 'accepted')", name=op.f("ck_objections_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_objections_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["provisional_id"],
            ["provisional_results.id"],
            name=op.f("fk_objections_provisional_id_provisional_results"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_objections_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["users.id"], name=op.f("fk_objections_filed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_objections_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_entry_id"), ["entry_id"], unique=False)
    op.create_table(
        "special_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_special_awards_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_special_awards_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_special_awards_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_awards")),
        sa.UniqueConstraint("event_id", "title", name="uq_special_awards_event_title"),
    )
    with op.batch_alter_table("special_awards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_special_awards_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_special_awards_entry_id"), ["entry_id"], unique=False)
    for table in FROZEN:
        _freeze(table)


def _freeze(table):
    """Refuse UPDATE and DELETE on ``table`` (TRUNCATE, used by the tests, still works)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_frozen() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '{table} rows are never changed: publish a new version';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_frozen()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed: publish a new "
                "version'); END"
            )


def _unfreeze(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_frozen()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def downgrade():
    for table in FROZEN:
        _unfreeze(table)
    with op.batch_alter_table("special_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_special_awards_entry_id"))
        batch_op.drop_index(batch_op.f("ix_special_awards_event_id"))
    op.drop_table("special_awards")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_entry_id"))
        batch_op.drop_index(batch_op.f("ix_objections_event_id"))
    op.drop_table("objections")
    with op.batch_alter_table("provisional_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provisional_results_event_id"))
    op.drop_table("provisional_results")
    with op.batch_alter_table("published_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_results_event_id"))
    op.drop_table("published_results")

"""certificate batches: background generation of an event's certificate files

Revision ID: h1batches
Revises: g1certdesign
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "h1batches"
down_revision = "g1certdesign"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done_count", sa.Integer(), nullable=False),
        sa.Column("rendered_ids", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("merged_key", sa.String(length=300), nullable=True),
        sa.Column("zip_key", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_certificate_batches_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_certificate_batches_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_batches_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_batches")),
    )
    with op.batch_alter_table("certificate_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_batches_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            "uq_certificate_batches_active_event",
            ["event_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )


def downgrade():
    with op.batch_alter_table("certificate_batches", schema=None) as batch_op:
        batch_op.drop_index("uq_certificate_batches_active_event")
        batch_op.drop_index(batch_op.f("ix_certificate_batches_event_id"))
    op.drop_table("certificate_batches")

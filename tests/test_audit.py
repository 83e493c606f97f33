"""The audit log: written with the change, append-only, hash-chained, safe under concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from monev.audit import services as audit
from monev.audit.models import AuditEntry
from monev.core.database import write_intent
from monev.extensions import db
from tests.conftest import PG_URL, post


def _append(app, n: int, actor=None) -> None:
    with app.app_context(), write_intent():
        for i in range(n):
            audit.record("test.change", "thing", i, {"value": [i, i + 1]}, actor=actor)
        db.session.commit()


def test_chain_verifies_and_cli_reports_the_head(app, runner):
    _append(app, 5)
    with app.app_context():
        result = audit.verify()
        assert (result.ok, result.rows) == (True, 5)
        head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()))
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 0
    assert head in out.output


def _tamper(app, sql: str) -> None:
    """What someone with database access could do: drop the guard, then change rows."""
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            conn.execute(text(sql))


@pytest.mark.real_commits
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE audit_log SET changes = '{\"value\": [0, 99]}' WHERE seq = 3", "edited"),
        ("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2", "edited"),
        ("DELETE FROM audit_log WHERE seq = 3", "missing"),
    ],
)
def test_editing_or_deleting_a_row_is_detected(app, runner, sql, expected):
    _append(app, 5)
    _tamper(app, sql)
    with app.app_context():
        result = audit.verify()
    assert not result.ok
    assert any(expected in str(p.message) for p in result.problems), result.problems
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1


@pytest.mark.real_commits
def test_rewriting_a_row_with_a_recomputed_hash_still_breaks_the_next_link(app):
    _append(app, 4)
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == 2))
        row.actor = "pemalsu"
        forged = audit.compute_hash(row)
        db.session.rollback()
    _tamper(app, f"UPDATE audit_log SET actor = 'pemalsu', hash = '{forged}' WHERE seq = 2")
    with app.app_context():
        result = audit.verify()
    assert [p.seq for p in result.problems] == [3]


@pytest.mark.real_commits
@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_updates_and_deletes(app, sql):
    _append(app, 2)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 2


@pytest.mark.real_commits
def test_many_concurrent_writers_keep_the_chain_intact(app):
    """Appends are serialised: 16 writers x 10 rows each, none chained onto a stale head."""
    writers, per_writer = 16, 10
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def work():
        try:
            barrier.wait()
            for _ in range(per_writer):
                _append(app, 1)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        result = audit.verify()
        assert result.problems == []
        assert result.rows == writers * per_writer
        seqs = db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        assert seqs == list(range(1, writers * per_writer + 1))


def test_a_rolled_back_change_leaves_no_audit_row(app):
    with app.app_context(), write_intent():
        audit.record("test.change", "thing", 1, {})
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_admin_browses_and_filters_the_log(app, client, login_as, make_kim):
    admin = login_as("admin")
    kim = make_kim("KIM Teluk Pandan")
    post(
        client,
        f"/kim/{kim.id}/edit",
        {
            "name": "KIM Teluk Pandan Bersinar",
            "district_id": kim.district_id,
            "kecamatan": "Teluk Pandan",
            "village_kind": "desa",
            "village": "Teluk Pandan",
        },
    )
    _append(app, 3)
    page = client.get("/admin/audit/?action=kim.updated").get_data(as_text=True)
    assert "kim.updated" in page and admin.email in page
    assert "KIM Teluk Pandan Bersinar" in page
    assert "<code>test.change</code>" not in page
    fragment = client.get(
        "/admin/audit/?object_type=thing",
        headers={"HX-Request": "true", "HX-Target": "audit-results"},
    ).get_data(as_text=True)
    assert "<html" not in fragment and "<code>test.change</code>" in fragment
    verify_page = client.get("/admin/audit/verify").get_data(as_text=True)
    with app.app_context():
        head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()))
    assert head in verify_page


def test_audit_rows_record_who_and_from_where(app, client, login_as, make_user):
    admin = login_as("admin")
    judge = make_user("judge")
    post(
        client,
        f"/admin/users/{judge.id}",
        {"name": "Nama Baru", "role": "judge", "institution": "Unmul"},
    )
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
        assert (entry.actor_id, entry.actor, entry.ip) == (admin.id, admin.email, "127.0.0.1")
        assert entry.changes["name"] == [judge.name, "Nama Baru"]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL-only: the advisory lock is taken")
def test_postgres_appends_take_the_advisory_lock(app):
    from tests.conftest import count_queries

    with app.app_context(), count_queries(db.engine) as statements, write_intent():
        audit.record("test.change", "thing", 1, {})
        db.session.commit()
    assert any("pg_advisory_xact_lock" in s for s in statements)

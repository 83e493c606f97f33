"""The public sheet-writing API (``monev.judging.sheets.write_scores`` and
``finalise_sheet``) that online sheets and the paper import share."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from monev.core.database import write_intent
from monev.extensions import db
from tests.judging_setup import build


@pytest.fixture
def setup(app):
    return build(app)


def _changes(sheet_id):
    from monev.judging.models import ScoreChange

    return [
        (c.version, c.kind, c.criterion_id, c.old_value, c.new_value, c.source, c.actor_id)
        for c in db.session.scalars(
            select(ScoreChange).where(ScoreChange.sheet_id == sheet_id).order_by(ScoreChange.id)
        )
    ]


def test_write_scores_creates_the_sheet_and_writes_in_criterion_order(app, setup):
    from monev.auth.models import User
    from monev.judging.models import Assignment
    from monev.judging.sheets import write_scores

    c1, c2 = setup.criteria
    with app.app_context(), write_intent():
        assignment = db.session.get(Assignment, setup.assignment(0, 0))
        judge = db.session.get(User, setup.judges[0]["id"])
        written = write_scores(
            assignment,
            None,
            {c2: (Decimal("500"), None), c1: (Decimal("8.5"), "Papan aktif")},
            judge,
        )
        db.session.commit()
        sheet = written.sheet
        assert (sheet.status, sheet.version, sheet.source) == ("draft", 2, "online")
        assert written.changed == 2
        assert {cid: (s.value, s.comment) for cid, s in written.scores.items()} == {
            c1: (Decimal("8.5"), "Papan aktif"),
            c2: (Decimal("500"), None),
        }
        first, second = sorted((c1, c2))
        assert [row[:3] for row in _changes(sheet.id)] == [
            (1, "score", first),
            (2, "score", second),
        ]
        assert {row[5:] for row in _changes(sheet.id)} == {("online", judge.id)}


def test_write_scores_counts_only_real_changes(app, setup):
    from monev.auth.models import User
    from monev.judging.models import Assignment
    from monev.judging.sheets import locked_sheet, write_scores

    c1, c2 = setup.criteria
    with app.app_context(), write_intent():
        assignment = db.session.get(Assignment, setup.assignment(0, 0))
        judge = db.session.get(User, setup.judges[0]["id"])
        write_scores(assignment, None, {c1: (Decimal("7"), None)}, judge)
        sheet = locked_sheet(assignment.id)
        again = write_scores(assignment, sheet, {c1: (Decimal("7.0"), ""), c2: (None, None)}, judge)
        assert again.changed == 0
        assert again.sheet.version == 1
        cleared = write_scores(assignment, sheet, {c1: (None, None)}, judge)
        assert cleared.changed == 1
        assert cleared.scores[c1].value is None
        assert _changes(sheet.id)[-1][3:5] == (Decimal("7"), None)


def test_paper_writes_mark_the_sheet_and_its_trail_as_paper(app, setup):
    from monev.auth.models import User
    from monev.judging.models import Assignment
    from monev.judging.sheets import write_scores

    c1, _c2 = setup.criteria
    with app.app_context(), write_intent():
        assignment = db.session.get(Assignment, setup.assignment(1, 0))
        admin = db.session.scalar(select(User).where(User.email == setup.admin_email))
        written = write_scores(assignment, None, {c1: (Decimal("9"), None)}, admin, source="paper")
        assert written.sheet.source == "paper"
        assert _changes(written.sheet.id) == [
            (1, "score", c1, None, Decimal("9"), "paper", admin.id)
        ]


def test_write_scores_refuses_an_unknown_source(app, setup):
    from monev.judging.models import Assignment
    from monev.judging.sheets import write_scores

    with app.app_context(), write_intent():
        assignment = db.session.get(Assignment, setup.assignment(0, 0))
        with pytest.raises(ValueError, match="unknown source"):
            write_scores(assignment, None, {}, None, source="fax")


def test_finalise_sheet_records_the_scoring_cores_total(app, setup):
    from monev.audit.models import AuditEntry
    from monev.auth.models import User
    from monev.judging import queries
    from monev.judging.models import Assignment
    from monev.judging.sheets import finalise_sheet, total_of, write_scores

    c1, c2 = setup.criteria
    with app.app_context(), write_intent():
        assignment = db.session.get(Assignment, setup.assignment(0, 0))
        judge = db.session.get(User, setup.judges[0]["id"])
        written = write_scores(
            assignment, None, {c1: (Decimal("8.5"), None), c2: (Decimal("250"), None)}, judge
        )
        rules = queries.criterion_rules(queries.stage_criteria(assignment.stage_id))
        totals = total_of(rules, written.scores)
        # 8.5 on 1–10 → 83.33…, × 60 % = 50; 250 on 0–1000 → 25, × 40 % = 10
        assert totals.total == Decimal("60.00")
        assert totals.complete
        finalise_sheet(written.sheet, assignment, judge, totals, confirmed=True)
        db.session.flush()
        assert (written.sheet.status, written.sheet.version) == ("final", 3)
        record = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sheet.finalised"))
        assert record.changes["total"] == "60.00"
        assert record.actor_id == judge.id

"""A small judged event for the judging tests: one stage open now, two criteria, entries from
three districts, judges with home districts, and helpers to post like a browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select, text

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.conftest import csrf_token
from tests.factories import CriterionPlan, StagePlan, make_event

PASSWORD = "kopi-susu-pagi-hari"


@dataclass
class Setup:
    slug: str
    event_id: int
    stage_id: int
    criteria: list[int]  # c1: 1–10 step 0.5 weight 60; c2: 0–1000 step 0.01 weight 40
    entries: list[int]
    entry_codes: dict[int, str]
    kim_names: dict[int, str]
    judges: list[dict]  # {"id", "email"}
    admin_email: str
    assignments: dict[tuple[int, int], int] = field(default_factory=dict)  # (entry, judge)

    def assignment(self, entry_index: int, judge_index: int) -> int:
        return self.assignments[(self.entries[entry_index], self.judges[judge_index]["id"])]


def build(
    app,
    *,
    n_entries: int = 3,
    n_judges: int = 3,
    assign: bool = True,
    status: str = "judging",
    judges_per_entry: int = 3,
    see_names: bool = False,
) -> Setup:
    """Entries 0..n in districts 64.04, 64.03, 64.02 (round robin); judges' homes 64.72,
    64.71, 64.01, ... so nobody is excluded by district unless a test says so."""
    from monev.auth.models import User
    from monev.auth.passwords import hash_password
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.judging.models import Assignment, EventJudge
    from monev.regions import queries as regions
    from monev.regions.models import District

    with app.app_context(), write_intent():
        districts = {d.code: d for d in db.session.scalars(select(District))}
        pw = hash_password(PASSWORD)
        admin = User(email="panitia@uji.monev.id", name="Panitia", role="admin", password_hash=pw)
        db.session.add(admin)
        now = utcnow()
        built = make_event(
            "uji-juri",
            title="Monev Uji Juri",
            stages=[
                StagePlan(
                    "presentasi",
                    "Presentasi",
                    100,
                    aspect="Akses",
                    criteria=(
                        CriterionPlan(
                            "c1",
                            "Akses informasi",
                            60,
                            1,
                            10,
                            "0.5",
                            descriptors="1-4: Belum ada\n5-10: Ada",
                            guidance="Bagaimana warga mendapat informasi.",
                        ),
                        CriterionPlan("c2", "Produksi konten", 40, 0, 1000, "0.01"),
                    ),
                    opens_at=now - timedelta(days=1),
                    closes_at=now + timedelta(days=1),
                    judges_per_entry=judges_per_entry,
                )
            ],
        )
        event, stage = built.event, built.stages["presentasi"]
        c1, c2 = built.criteria["c1"], built.criteria["c2"]
        category = event.categories[0]
        codes = ["64.04", "64.03", "64.02"]
        entries, kim_names = [], {}
        for i in range(n_entries):
            d = districts[codes[i % 3]]
            kec = regions.get_or_create_kecamatan(d.id, f"Kecamatan {i}")
            kim = Kim(
                name=f"KIM Rahasia Nomor {i + 1}",
                district_id=d.id,
                kecamatan=kec,
                village=regions.get_or_create_village(kec, "desa", f"Desa Uji {i}"),
            )
            kim.refresh_search_text()
            db.session.add(kim)
            db.session.flush()
            entry = Entry(
                event_id=event.id,
                kim_id=kim.id,
                category_id=category.id,
                code=f"K-{i + 1:03d}",
                nomination_status="accepted",
                submission_status="verified",  # judged entries were submitted and verified
            )
            db.session.add(entry)
            db.session.flush()
            entries.append(entry)
            kim_names[entry.id] = kim.name
        homes = ["64.72", "64.71", "64.01", "64.05", "64.09", "64.11"]
        judges = []
        for j in range(n_judges):
            user = User(
                email=f"juri{j + 1}@uji.monev.id",
                name=f"Juri Uji {j + 1}",
                role="judge",
                password_hash=pw,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                EventJudge(
                    event_id=event.id,
                    user_id=user.id,
                    home_district_id=districts[homes[j % len(homes)]].id,
                )
            )
            judges.append({"id": user.id, "email": user.email})
        assignments = {}
        if assign:
            for entry in entries:
                for judge in judges:
                    a = Assignment(stage_id=stage.id, entry_id=entry.id, judge_id=judge["id"])
                    db.session.add(a)
                    db.session.flush()
                    assignments[(entry.id, judge["id"])] = a.id
        event.status = status
        event.judges_see_names = see_names
        db.session.commit()
        return Setup(
            slug=event.slug,
            event_id=event.id,
            stage_id=stage.id,
            criteria=[c1.id, c2.id],
            entries=[e.id for e in entries],
            entry_codes={e.id: e.code for e in entries},
            kim_names=kim_names,
            judges=judges,
            admin_email=admin.email,
            assignments=assignments,
        )


def sign_in(client, email: str) -> str:
    """Sign in (without the login form) and return a CSRF token of the session."""
    from tests.conftest import sign_in as sign_in_directly

    sign_in_directly(client, email)
    return csrf_token(client)


def autosave(client, token, assignment_id, criterion_id, value, version, comment=""):
    return client.post(
        f"/judge/sheets/{assignment_id}/scores/{criterion_id}",
        data={
            f"value-{criterion_id}": value,
            f"comment-{criterion_id}": comment,
            "version": version,
        },
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )


def snapshot(app) -> dict:
    """Everything a refused request must leave untouched: sheets, scores, trail, conflicts,
    assignments, audit log (as plain rows)."""
    tables = ["score_sheets", "scores", "score_changes", "conflicts", "assignments", "audit_log"]
    with app.app_context():
        out = {}
        for name in tables:
            rows = db.session.execute(text(f"SELECT * FROM {name} ORDER BY id")).all()  # noqa: S608
            out[name] = [tuple(r) for r in rows]
        return out


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def sheet_state(app, assignment_id):
    """(status, version, {criterion_id: (value, comment)}) of an assignment's sheet."""
    from monev.judging.models import Score, ScoreSheet

    with app.app_context():
        sheet = db.session.scalar(
            select(ScoreSheet).where(ScoreSheet.assignment_id == assignment_id)
        )
        if sheet is None:
            return None, 0, {}
        scores = {
            s.criterion_id: (s.value, s.comment)
            for s in db.session.scalars(select(Score).where(Score.sheet_id == sheet.id))
        }
        return sheet.status, sheet.version, scores

"""Rubric validation (pure), and the event/rubric rules through the admin pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from monev.rubrics import services as rubric_services
from monev.rubrics.models import Aspect, Criterion
from monev.rubrics.validation import (
    CriterionSpec,
    StageSpec,
    criterion_problems,
    rubric_problems,
    tie_break_problems,
    to_decimal,
)
from tests.conftest import post, t
from tests.factories import StagePlan, make_event

D = Decimal


def spec(key="c1", name="SK", weight="100", lo="1", hi="10", step="1", descriptors=()):
    return CriterionSpec(key, name, D(weight), D(lo), D(hi), D(step), tuple(descriptors))


# --- pure rules ---------------------------------------------------------------------------


def codes(problems):
    return [p.code for p in problems]


def test_a_valid_criterion_has_no_problems():
    assert (
        criterion_problems(spec(step="0.5", descriptors=[{"min": 1, "max": 3, "text": "x"}])) == []
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"lo": "10", "hi": "10"}, "min_not_below_max"),
        ({"lo": "10", "hi": "1"}, "min_not_below_max"),
        ({"step": "0.4"}, "step_does_not_divide"),
        ({"step": "2"}, "step_does_not_divide"),  # 1..10 is 9 wide
        ({"step": "0"}, "step_positive"),
        ({"weight": "0"}, "criterion_weight_range"),
        ({"weight": "100.5"}, "criterion_weight_range"),
        ({"name": "  "}, "name_required"),
        ({"descriptors": [{"min": 0, "max": 3, "text": "x"}]}, "descriptor_outside"),
        ({"descriptors": [{"min": 4, "max": 3, "text": "x"}]}, "descriptor_range"),
        ({"descriptors": [{"min": 1, "max": 3, "text": ""}]}, "descriptor_text"),
    ],
)
def test_criterion_problems(kwargs, code):
    assert code in codes(criterion_problems(spec(**kwargs)))


def test_stage_weights_and_criteria_weights_must_each_sum_to_100():
    good = StageSpec("adm", "Administrasi", D(40), (spec("c1", "A", "60"), spec("c2", "B", "40")))
    short = StageSpec("pre", "Presentasi", D(50), (spec("c3", "C", "90"),))
    problems = rubric_problems([good, short])
    assert codes(problems) == ["stage_weights_sum", "criteria_weights_sum"]
    assert problems[1].path == "stages[1]"
    assert problems[1].params["total"] == D(90)


def test_duplicate_names_and_keys_are_found():
    stage = StageSpec("adm", "A", D(100), (spec("c1", "SK", "50"), spec("c1", "sk ", "50")))
    found = codes(rubric_problems([stage]))
    assert "duplicate_criterion_name" in found and "duplicate_criterion_key" in found


def test_tie_break_rules_must_name_known_stages_and_criteria():
    assert tie_break_problems(["stage:presentasi", "criterion:p5"], {"presentasi"}, {"p5"}) == []
    assert codes(tie_break_problems(["stage:visitasi"], {"presentasi"}, set())) == [
        "tie_break_unknown"
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8,5", D("8.5")),
        ("8.5", D("8.5")),
        (" 10 ", D(10)),
        ("", None),
        ("abc", None),
        ("1e3", None),
        ("NaN", None),
        ("٥", None),
    ],
)
def test_decimal_parsing_understands_the_indonesian_comma(text, value):
    assert to_decimal(text) == value


# --- through the pages --------------------------------------------------------------------


@pytest.fixture
def event(app):
    with app.app_context():
        built = make_event(
            "uji-2025",
            title="Monev Uji 2025",
            year=2025,
            stages=[StagePlan("adm", "Administrasi", 40), StagePlan("pre", "Presentasi", 60)],
        )
        db.session.commit()
        return built.event.slug


def _stage_id(app, key):
    from monev.events.models import Stage

    with app.app_context():
        return db.session.scalar(select(Stage.id).where(Stage.key == key))


def criterion_form(**overrides):
    data = {
        "key": "c1",
        "name": "SK pembentukan",
        "weight": "100",
        "min_score": "1",
        "max_score": "10",
        "step": "1",
        "descriptors": "1-3: Belum ada SK\n4-10: Ada SK",
        "evidence": "file",
        "evidence_hint": "Unggah SK",
        "guidance": "",
    }
    data.update(overrides)
    return data


def _add_aspect(app, client, stage_key="adm", name="Kelembagaan"):
    sid = _stage_id(app, stage_key)
    post(
        client,
        f"/admin/events/uji-2025/rubric/stages/{sid}/aspects",
        {"name": name},
    )
    with app.app_context():
        return db.session.scalar(select(Aspect.id).where(Aspect.name == name))


def test_admin_builds_a_criterion_with_htmx_and_gets_the_stage_back(app, client, login_as, event):
    login_as("admin")
    aspect_id = _add_aspect(app, client)
    response = post(
        client,
        f"/admin/events/uji-2025/rubric/aspects/{aspect_id}/criteria/new",
        criterion_form(step="0,5"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "rubric-changed"
    assert response.headers["HX-Retarget"] == f"#stage-{_stage_id(app, 'adm')}"
    html = response.get_data(as_text=True)
    assert "<html" not in html and "SK pembentukan" in html
    with app.app_context():
        c = db.session.scalar(select(Criterion))
        assert (c.step, c.descriptors[0]) == (
            D("0.5"),
            {"min": "1", "max": "3", "text": "Belum ada SK"},
        )


@pytest.mark.parametrize(
    ("overrides", "msgid", "params"),
    [
        (
            {"min_score": "10", "max_score": "5"},
            "The lowest score (%(min)s) must be below the highest score (%(max)s).",
            {"min": "10", "max": "5"},
        ),
        (
            {"step": "4"},
            "The step %(step)s does not divide the range %(min)s–%(max)s into whole steps.",
            {"step": "4", "min": "1", "max": "10"},
        ),
        ({"weight": "abc"}, "Enter a number, e.g. 2,5.", {}),
        (
            {"descriptors": "tanpa titik dua"},
            'Line %(n)d: write a level as "1-2: description".',
            {"n": 1},
        ),
        ({"key": "C 1!"}, "Use a short code of lower-case letters, digits, - or _ (e.g. c3).", {}),
    ],
)
def test_bad_criteria_are_refused_with_a_clear_message(
    app, client, login_as, event, overrides, msgid, params
):
    login_as("admin")
    aspect_id = _add_aspect(app, client)
    response = post(
        client,
        f"/admin/events/uji-2025/rubric/aspects/{aspect_id}/criteria/new",
        criterion_form(**overrides),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, msgid, **params) in page
    assert "SK pembentukan" in page  # input kept
    with app.app_context():
        assert db.session.scalar(select(func.count(Criterion.id))) == 0


def test_duplicate_criterion_name_in_a_stage_is_refused(app, client, login_as, event):
    login_as("admin")
    aspect_id = _add_aspect(app, client)
    url = f"/admin/events/uji-2025/rubric/aspects/{aspect_id}/criteria/new"
    post(client, url, criterion_form(weight="50"))
    response = post(
        client,
        url,
        criterion_form(key="c2", name="sk PEMBENTUKAN", weight="50"),
    )
    assert response.status_code == 422
    assert t(app, "Another criterion of this stage already has this name.") in response.get_data(
        as_text=True
    )


def test_summary_reports_weights_not_summing_to_100(app, client, login_as, event):
    login_as("admin")
    aspect_id = _add_aspect(app, client)
    post(
        client,
        f"/admin/events/uji-2025/rubric/aspects/{aspect_id}/criteria/new",
        criterion_form(weight="70"),
    )
    page = client.get("/admin/events/uji-2025/rubric/summary").get_data(as_text=True)
    assert (
        t(
            app,
            "The criteria weights of stage %(stage)s add up to %(total)s, not 100.",
            stage="Administrasi",
            total="70",
        )
        in page
    )
    assert t(app, "Stage %(stage)s has no criteria yet.", stage="Presentasi") in page


def test_reordering_criteria(app, client, login_as, event):
    login_as("admin")
    aspect_id = _add_aspect(app, client)
    url = f"/admin/events/uji-2025/rubric/aspects/{aspect_id}/criteria/new"
    post(
        client,
        url,
        criterion_form(key="c1", name="Satu", weight="50"),
    )
    post(
        client,
        url,
        criterion_form(key="c2", name="Dua", weight="50"),
    )
    with app.app_context():
        second = db.session.scalar(select(Criterion.id).where(Criterion.key == "c2"))
    response = post(
        client,
        f"/admin/events/uji-2025/rubric/criteria/{second}/move",
        {"direction": "up"},
    )
    assert response.status_code == 303  # without htmx: back to the page
    page = client.get("/admin/events/uji-2025/rubric/").get_data(as_text=True)
    assert page.index("Dua") < page.index("Satu")


def _complete_rubric(app):
    with app.app_context():
        ev = db.session.scalar(select(Event).where(Event.slug == "uji-2025"))
        for stage in ev.stages:
            aspect = rubric_services.save_aspect(stage, None, f"Aspek {stage.key}")
            rubric_services.save_criterion(
                aspect, None, criterion_form(key=f"{stage.key}1", name=f"K {stage.key}")
            )
        db.session.commit()


def test_status_moves_need_a_ready_event_and_refuse_jumps(app, client, login_as, event):
    login_as("admin")

    def move(target):
        return post(client, f"/admin/events/uji-2025/phase/{target}", {"confirm": "y"})

    assert move("judging").status_code == 409  # no jumping ahead
    assert move("nomination").status_code == 303
    response = move("submission")  # rubric empty, no dates: refused with the reasons
    assert response.status_code == 409
    assert t(
        app, "Stage %(stage)s has no criteria yet.", stage="Administrasi"
    ) in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Event.status)) == "nomination"
    assert move("draft").status_code == 303  # one step back is allowed
    with app.app_context():
        from monev.audit.models import AuditEntry

        moves = db.session.scalars(
            select(AuditEntry.changes).where(AuditEntry.action == "event.status_changed")
        ).all()
        assert moves == [{"status": ["draft", "nomination"]}, {"status": ["nomination", "draft"]}]


def test_structure_is_locked_once_judging_started(app, client, login_as, event):
    _complete_rubric(app)
    with app.app_context():
        ev = db.session.scalar(select(Event))
        ev.status = "judging"
        db.session.commit()
        criterion_id = db.session.scalar(select(Criterion.id).where(Criterion.key == "adm1"))
    login_as("admin")
    url = f"/admin/events/uji-2025/rubric/criteria/{criterion_id}"
    response = post(client, url, criterion_form(key="adm1", name="K adm", weight="90"))
    assert response.status_code == 409
    locked = (
        "Judging has started: weights, score ranges and criteria can no longer change, "
        "because existing scores would no longer mean the same. Wording can still be improved."
    )
    assert t(app, locked) in response.get_data(as_text=True)
    # Wording can still improve.
    response = post(
        client,
        url,
        criterion_form(key="adm1", name="K adm (SK)", guidance="Lihat SK"),
    )
    assert response.status_code == 303
    with app.app_context():
        c = db.session.get(Criterion, criterion_id)
        assert (c.weight, c.name) == (D(100), "K adm (SK)")
    response = post(client, f"{url}/delete")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Criterion, criterion_id) is not None


def test_copy_rubric_from_an_earlier_event(app, client, login_as, event):
    _complete_rubric(app)
    with app.app_context():
        make_event(
            "uji-2026",
            title="Monev Uji 2026",
            organiser="D",
            stages=[StagePlan("adm", "Administrasi", 40), StagePlan("pre", "Presentasi", 60)],
            categories=(),
        )
        db.session.commit()
    login_as("admin")
    response = post(
        client,
        "/admin/events/uji-2026/rubric/copy",
        {"source": "uji-2025"},
    )
    assert response.status_code == 303
    with app.app_context():
        ev = db.session.scalar(select(Event).where(Event.slug == "uji-2026"))
        keys = db.session.scalars(
            select(Criterion.key).where(Criterion.event_id == ev.id).order_by(Criterion.key)
        ).all()
        assert keys == ["adm1", "pre1"]
    again = post(
        client,
        "/admin/events/uji-2026/rubric/copy",
        {"source": "uji-2025"},
        follow_redirects=True,
    )
    assert t(
        app, "This event already has criteria. Copying works into an empty rubric only."
    ) in again.get_data(as_text=True)


def test_event_settings_validation(app, client, login_as, event):
    login_as("admin")
    data = {
        "title": "Monev Uji 2025",
        "slug": "Uji 2025!",
        "year": "2025",
        "organiser": "D",
        "timezone": "Asia/Makassar",
        "aggregation": "median",
        "tie_breaks": "stage:visitasi",
    }
    response = post(client, "/admin/events/uji-2025", data)
    assert response.status_code == 422
    assert t(
        app, "Use lower-case letters, digits and dashes only, e.g. monev-kim-kaltim-2025."
    ) in response.get_data(as_text=True)
    data["slug"] = "uji-2025"
    response = post(client, "/admin/events/uji-2025", data)
    assert response.status_code == 422
    assert t(
        app,
        'The tie-break rule "%(rule)s" names no stage or criterion of this event.',
        rule="stage:visitasi",
    ) in response.get_data(as_text=True)
    data["tie_breaks"] = "stage:pre"
    assert post(client, "/admin/events/uji-2025", data).status_code == 302
    with app.app_context():
        ev = db.session.scalar(select(Event))
        assert (ev.aggregation, ev.tie_breaks) == ("median", ["stage:pre"])


def test_stage_times_are_entered_in_wita_and_stored_in_utc(app, client, login_as, event):
    login_as("admin")
    sid = _stage_id(app, "adm")
    data = {
        "name": "Administrasi",
        "key": "adm",
        "weight": "40",
        "judges_per_entry": "3",
        "opens_at": "2025-06-10T08:00",
        "closes_at": "2025-06-28T23:59",
    }
    response = post(
        client,
        f"/admin/events/uji-2025/stages/{sid}",
        data,
    )
    assert response.status_code == 302
    from monev.events.models import Stage

    with app.app_context():
        stage = db.session.get(Stage, sid)
        assert stage.opens_at.isoformat() == "2025-06-10T00:00:00"  # 08:00 WITA = 00:00 UTC
    data["closes_at"] = "2025-06-01T08:00"
    response = post(
        client,
        f"/admin/events/uji-2025/stages/{sid}",
        data,
    )
    assert response.status_code == 422
    assert t(app, "The stage must close after it opens.") in response.get_data(as_text=True)


def test_demo_events_show_a_judged_and_a_live_competition(app, runner, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    now = utcnow()
    with app.app_context():
        events = {e.slug: e for e in db.session.scalars(select(Event))}
        assert {slug: e.status for slug, e in events.items()} == {
            "monev-kim-kaltim-2024": "published",  # its results are published in the demo
            "monev-kim-kaltim-2025": "submission",  # open for submissions now
            "anugerah-kim-inovatif-2025": "judging",  # its field visits are on now
        }
        from monev.judging.models import Score, ScoreSheet

        # On final sheets: the 11 entries × 3 judges × 5 Administrasi criteria, then the 8
        # that the cut-off let through × 3 judges × 7 Presentasi criteria; the demo also has
        # one late draft, so the judging pages show every state.
        final = select(func.count(Score.id)).join(ScoreSheet).where(ScoreSheet.status == "final")
        assert db.session.scalar(final) == 11 * 3 * 5 + 8 * 3 * 7
        # 2024 was published as the demo was built.
        from monev.results.models import PublishedResult

        published = db.session.scalar(
            select(PublishedResult.created_at).where(
                PublishedResult.event_id == events["monev-kim-kaltim-2024"].id
            )
        )
        assert abs(published - now) < timedelta(minutes=5)
        # 2025's windows are around today: submission opened 5 days ago and closes in 9;
        # the presentations are 20 to 22 days ahead.
        stages = {s.key: s for s in events["monev-kim-kaltim-2025"].stages}
        first, later = stages["administrasi"], stages["presentasi"]
        assert timedelta(days=4) < now - first.opens_at < timedelta(days=6)
        assert timedelta(days=8) < first.closes_at - now < timedelta(days=10)
        assert timedelta(days=19) < later.opens_at - now < timedelta(days=21)
        assert timedelta(days=21) < later.closes_at - now < timedelta(days=23)
        # KIM Teluk Pandan is half-way: evidence for 3 of the 5 criteria, not submitted.
        from monev.directory.models import Kim
        from monev.entries.models import Entry, Evidence

        entry = db.session.scalar(
            select(Entry)
            .join(Kim)
            .where(Kim.name == "KIM Teluk Pandan", Entry.event_id == first.event_id)
        )
        assert entry.submission_status == "in_progress"
        with_evidence = db.session.scalars(
            select(Evidence.criterion_id).where(Evidence.entry_id == entry.id).distinct()
        ).all()
        assert len(with_evidence) == 3
        # The finalists were told that submission opened (the real move did it).
        from monev.auth.models import User
        from monev.notify.models import Notification

        told = db.session.scalars(
            select(User.email)
            .join(Notification, Notification.user_id == User.id)
            .where(
                Notification.kind == "submission_opened",
                Notification.event_id == first.event_id,
            )
        ).all()
        assert sorted(told) == ["kim.teluklingga@demo.monev.id", "kim.telukpandan@demo.monev.id"]
    page = client.get("/events/monev-kim-kaltim-2024").get_data(as_text=True)
    assert "KIM Teluk Pandan" in page and "Presentasi" in page

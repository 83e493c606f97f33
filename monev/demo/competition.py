"""The demo events: Monev KIM se-Kalimantan Timur 2024 (judged, with scores and a stage
cut-off after Administrasi, results published) and 2025 (live: its dates are relative to
the day the demo is built, so it is open for submissions *now*, with one KIM half-way and
the presentations scheduled ahead; rubric copied from 2024); and Anugerah KIM Inovatif 2025
(monev.demo.award: judging, with a field visit of today). Built through the same services
the admin pages use, so the demo obeys every rule."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from monev.auth.models import User
from monev.certificates import services as certificates
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local, to_utc
from monev.demo import award, data, submissions
from monev.demo.rubric import build_rubric
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.entries.nominations import services as nominations
from monev.events import services as events
from monev.events.logo import set_logo
from monev.events.models import Event, StageSelection
from monev.extensions import db
from monev.judging import panel
from monev.judging import services as judging
from monev.judging.models import Assignment, Conflict, EventJudge, Score, ScoreChange, ScoreSheet
from monev.lifecycle import selection, transitions
from monev.regions import queries as regions
from monev.regions.models import District
from monev.results import services as results
from monev.rubrics import services as rubrics
from monev.rubrics.queries import aspects_by_stage

TZ = "Asia/Makassar"


def _local(text: str):
    return to_utc(datetime.fromisoformat(text), TZ)


# (stage key, name, weight, opens, closes, judges per entry): wall-clock times in WITA.
Windows = list[tuple[str, str, int, str, str, int]]


def _fixed_windows(year: int) -> Windows:
    return [
        ("administrasi", "Administrasi", 40, f"{year}-06-10T08:00", f"{year}-06-28T23:59", 3),
        ("presentasi", "Presentasi", 60, f"{year}-07-08T08:00", f"{year}-07-10T17:00", 3),
    ]


def _live_windows(now: datetime | None = None) -> Windows:
    """The 2025 windows around today (WITA): submission opened 5 days ago and closes in 9
    days; the presentations (judged then) are 20 to 22 days ahead."""
    today = to_local(now or utcnow(), TZ).date()

    def at(days: int, clock: time) -> str:
        return datetime.combine(today + timedelta(days=days), clock).isoformat(timespec="minutes")

    return [
        ("administrasi", "Administrasi", 40, at(-5, time(8)), at(9, time(23, 59)), 3),
        ("presentasi", "Presentasi", 60, at(20, time(8)), at(22, time(17)), 3),
    ]


def _build_event(
    slug: str, title: str, year: int, description: str, windows: Windows | None = None
) -> Event:
    event = events.create_event(
        {
            "slug": slug,
            "title": title,
            "year": year,
            "organiser": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
            "description": description,
            "timezone": TZ,
            "aggregation": "mean",
        }
    )
    for key, name, weight, opens, closes, judges in windows or _fixed_windows(year):
        events.save_stage(
            event,
            None,
            {
                "key": key,
                "name": name,
                "weight": Decimal(weight),
                "opens_at": _local(opens),
                "closes_at": _local(closes),
                "judges_per_entry": judges,
            },
        )
    for key, name in [("desa", "KIM Desa"), ("kelurahan", "KIM Kelurahan")]:
        events.save_category(
            event, None, {"key": key, "name": name, "score_bands": "85 Unggul\n70 Baik\n0 Cukup"}
        )
    db.session.flush()
    return event


def _round_to_step(value: float, step: Decimal, low: Decimal, high: Decimal) -> Decimal:
    steps = (Decimal(str(value)) - low) / step
    snapped = low + steps.quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return min(high, max(low, snapped))


def load(admin: User) -> dict:
    rng = random.Random(2024)  # noqa: S311 - demo data, not security
    judges = list(db.session.scalars(select(User).where(User.role == "judge").order_by(User.email)))
    homes = {email: code for email, _n, _i, code in data.JUDGES}
    districts = {d.code: d for d in db.session.scalars(select(District))}
    kims = list(db.session.scalars(select(Kim).order_by(Kim.id)))

    # 2024: judged; the ranking can be computed from final sheets.
    past = _build_event(
        "monev-kim-kaltim-2024",
        "Monev KIM se-Kalimantan Timur 2024",
        2024,
        "Monitoring dan evaluasi Komunitas Informasi Masyarakat tingkat Provinsi Kalimantan "
        "Timur. Penilaian administrasi (desk evaluation) dan presentasi di Samarinda.",
    )
    build_rubric(past)
    past.tie_breaks = ["stage:presentasi", "criterion:p5"]
    categories = {c.key: c for c in past.categories}
    entries = []
    for number, kim in enumerate(kims, 1):
        entry = Entry(
            event_id=past.id,
            kim_id=kim.id,
            category_id=categories["desa" if kim.village.kind == "desa" else "kelurahan"].id,
            code=f"K-{number:03d}",
            nomination_status="accepted",
            nominated_by_id=admin.id,
        )
        db.session.add(entry)
        entries.append(entry)
    for judge in judges:
        db.session.add(
            EventJudge(
                event_id=past.id,
                user_id=judge.id,
                home_district_id=districts[homes[judge.email]].id,
            )
        )
    db.session.flush()

    quality = {e.id: rng.uniform(5.0, 9.2) for e in entries}
    leniency = {j.id: rng.uniform(-0.8, 0.8) for j in judges}
    criteria_by_stage = {
        s.id: [c for a in rubrics_by_stage(past, s.id) for c in a.criteria] for s in past.stages
    }
    files = submissions.load(past, entries, admin)  # submitted and verified before judging
    past.status = "judging"
    sheets = 0
    for stage in past.stages:
        if stage.key == "presentasi":  # only the finalists the selection let through
            _select_after_administrasi(past, admin)
        for index, entry in enumerate(entries):
            kim = kims[index]
            eligible = [j for j in judges if homes[j.email] != kim.district.code]
            panel = [eligible[(index + k) % len(eligible)] for k in range(stage.judges_per_entry)]
            for judge in panel:
                values = [
                    (criterion, quality[entry.id] + leniency[judge.id] + rng.gauss(0, 0.7))
                    for criterion in criteria_by_stage[stage.id]
                ]  # drawn for every entry, so the scores stay those of the demo before
                if entry.standing != "active":
                    continue
                assignment = Assignment(stage_id=stage.id, entry_id=entry.id, judge_id=judge.id)
                db.session.add(assignment)
                db.session.flush()
                sheet = ScoreSheet(
                    assignment_id=assignment.id,
                    status="final",
                    finalised_at=_local(
                        f"2024-07-{10 if stage.key == 'presentasi' else 1:02d}T16:00"
                    ),
                )
                db.session.add(sheet)
                db.session.flush()
                for criterion, raw in values:
                    value = _round_to_step(
                        raw, criterion.step, criterion.min_score, criterion.max_score
                    )
                    db.session.add(
                        Score(
                            sheet_id=sheet.id,
                            criterion_id=criterion.id,
                            value=value,
                            comment=_comment(value, criterion.name),
                        )
                    )
                sheets += 1
    _demo_logo(past)
    past.status = "results"
    _publish_2024(past, admin)
    _certificates_2024(past, judges, admin)
    _judging_states_2024(past, judges, homes, entries)
    _never_submitted_2024(past, districts["64.04"], len(entries) + 1)

    # The field visit a newcomer can do: a special award already judging, visited today.
    # Made before 2025's competition, so that one leads the home pages (its tour).
    award.load(admin, homes, districts)
    files += len(award.FINALISTS)

    # 2025: live. Nominated and decided, then open for submissions (window around today);
    # KIM Teluk Pandan half-way through its evidence. Rubric copied from 2024.
    current = _build_event(
        "monev-kim-kaltim-2025",
        "Monev KIM se-Kalimantan Timur 2025",
        2025,
        "Monev KIM tahun 2025. Kabupaten/kota mengusulkan finalis sesuai kuota; finalis "
        "mengunggah bukti per kriteria, lalu presentasi di Samarinda.",
        windows=_live_windows(),
    )
    rubrics.copy_rubric(past, current)
    current.tie_breaks = ["stage:presentasi", "criterion:p5"]
    events.set_quotas(
        current,
        {
            districts[code].id: quota
            for code, quota in [
                ("64.04", 4),
                ("64.03", 3),
                ("64.05", 2),
                ("64.74", 2),
                ("64.72", 2),
                ("64.71", 2),
                ("64.01", 1),
                ("64.02", 1),
                ("64.09", 1),
                ("64.11", 1),
            ]
        },
    )
    events.move_status(current, "nomination")
    teluk_pandan = _nominate_2025(current, kims)
    _panel_2025(current, judges, homes, districts)
    _open_submissions(current, admin)
    files += submissions.half_way(teluk_pandan)
    return {"events": 3, "entries": len(entries), "sheets": sheets, "files": files}


def _panel_2025(event: Event, judges: list[User], homes: dict, districts: dict) -> None:
    """Judging is scheduled ahead: the five judges are on the panel of both stages (each is
    told, with the stage's closing time); nothing is assigned before submissions close."""
    stage_ids = [s.id for s in event.stages]
    for judge in judges:
        panel.add_judge(
            event,
            email=judge.email,
            name=judge.name,
            institution=judge.institution,
            home_district_id=districts[homes[judge.email]].id,
            stage_ids=stage_ids,
        )


def _open_submissions(event: Event, admin: User) -> None:
    """Move 2025 to its submission phase as the organiser does on the phase page: the
    warnings of the checklist (nominations still undecided) acknowledged, then confirmed.
    The finalists are told, as in real life (in-app list and outbox)."""
    db.session.flush()
    check = transitions.preview(event, "submission")
    transitions.move(
        admin,
        event,
        "submission",
        acknowledged={c.code for c in check.warnings},
        confirmed=True,
    )


def _select_after_administrasi(event: Event, admin: User) -> None:
    """The stage cut-off of 2024: after Administrasi, the top 3 of KIM Desa and every KIM
    Kelurahan with at least 60 (the Komisi Informasi pass mark) go on to Presentasi; the
    others are "tidak lolos". Set and confirmed through the organiser's services."""
    db.session.flush()
    stage = next(s for s in event.stages if s.key == "administrasi")
    categories = {c.key: c for c in event.categories}
    selection.set_rule(admin, stage, categories["desa"], kind="top_n", count=3)
    selection.set_rule(admin, stage, categories["kelurahan"], kind="pass_mark", min_score=60)
    selection.confirm(admin, stage, confirmed=True)
    confirmed_at = _local("2024-07-03T10:00")  # between Administrasi and Presentasi
    for row in db.session.scalars(
        select(StageSelection).where(StageSelection.stage_id == stage.id)
    ):
        row.confirmed_at = confirmed_at
    for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id, Entry.standing == "not_selected")
    ):
        entry.standing_changed_at = confirmed_at


def _demo_logo(event: Event) -> None:
    """A simple generated logo (a green roundel with "KIM"), so pages and certificates show
    one; uploaded through the same checks as a real logo."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 240), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 8, 232, 232), fill=(11, 110, 79))
    draw.ellipse((40, 40, 200, 200), outline="white", width=10)
    draw.rectangle((108, 60, 132, 180), fill="white")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    set_logo(event, buf)


def _nominate_2025(event: Event, kims: list[Kim]) -> Entry:
    """Kutai Timur's operator has nominated its four KIMs (seed article, June 2024 → 2025);
    the organiser accepted two; Kukar nominated one that waits for a decision."""

    operators = {
        u.district.code: u for u in db.session.scalars(select(User).where(User.role == "operator"))
    }
    categories = {c.key: c for c in event.categories}
    by_name = {k.name: k for k in kims}

    def nominate(code: str, name: str, note: str):
        kim = by_name[name]
        category = categories["desa" if kim.village.kind == "desa" else "kelurahan"]
        return nominations.nominate(operators[code], event, kim.id, category.id, note).entry

    teluk_pandan = nominate("64.04", "KIM Teluk Pandan", "Juara I tingkat kabupaten 2024.")
    nominate("64.04", "KIM Pinang Raya", "Aktif mengelola grup informasi desa.")
    teluk_lingga = nominate("64.04", "KIM Teluk Lingga", "Kelurahan dengan siaran radio komunitas.")
    nominate("64.03", "KIM Panji Informasi", "Pengelola website kelurahan.")
    nominations.decide(event, teluk_pandan, "accepted", "Memenuhi syarat administrasi.")
    nominations.decide(event, teluk_lingga, "accepted", None)
    return teluk_pandan


def _never_submitted_2024(event: Event, district: District, number: int) -> None:
    """A finalist that never submitted: the window closed, so by rule it is 'tidak
    mengumpulkan', is not judged, and is listed as such on the public page."""
    kecamatan = regions.get_or_create_kecamatan(district.id, "Sangatta Selatan")
    kim = Kim(
        name="KIM Sangkima Bersatu",
        district_id=district.id,
        kecamatan=kecamatan,
        village=regions.get_or_create_village(kecamatan, "desa", "Sangkima"),
        chair_name="Yohanes Lalu",
        members_count=7,
    )
    kim.refresh_search_text()
    db.session.add(kim)
    db.session.flush()
    first_stage = min(event.stages, key=lambda s: s.position)
    db.session.add(
        Entry(
            event_id=event.id,
            kim_id=kim.id,
            category_id=next(c.id for c in event.categories if c.key == "desa"),
            code=f"K-{number:03d}",
            nomination_status="accepted",
            standing="no_submission",
            standing_reason="deadline_passed",
            standing_changed_at=first_stage.closes_at,
        )
    )
    db.session.flush()


def _publish_2024(event: Event, admin: User) -> None:
    """The 2024 results are public: frozen as version 1, so the event is "published"."""

    db.session.flush()
    results.acknowledge_all(
        event,
        "Dibahas dalam rapat pleno dewan juri: selisih nilai dapat dijelaskan oleh bukti "
        "dan presentasi; hasil dipertahankan.",
        actor=admin,
    )
    results.publish(event, reason="Hasil penilaian Monev KIM 2024.", actor=admin, confirmed=True)


def _demo_signature(seed: int):
    """A made-up handwritten-looking stroke on a transparent PNG (a demo signature image)."""
    import io
    import math

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    points = [
        (40 + x * 4, 110 + int(45 * math.sin(x / (6 + seed)) * math.cos(x / (17 + seed))))
        for x in range(130)
    ]
    draw.line(points, fill=(18, 32, 96, 255), width=5, joint="curve")
    draw.line([(70, 150), (520, 135)], fill=(18, 32, 96, 255), width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return buf


def _certificates_2024(event: Event, judges: list[User], admin: User) -> None:
    """Certificate design with two signatories (signature images uploaded through the same
    checks as the admin's), and every winner, participant and judge certificate issued."""

    chair = judges[0]
    certificates.save_settings(
        event,
        {
            "number_pattern": "{seq:03d}/MONEV-KIM/DISKOMINFO-KT/{year}",
            "place": "Samarinda",
            "primary_colour": "#0b4f6c",
            "accent_colour": "#b8860b",
            "text_colour": "#1d1d1f",
            "signatories": [
                {"name": chair.name, "title": "Ketua Dewan Juri", "nip": ""},
                {
                    "name": "Muhammad Faisal",
                    "title": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
                    "nip": "197001011995031001",
                },
            ],
        },
        signatures={0: _demo_signature(1), 1: _demo_signature(3)},
        actor=admin,
    )
    for kind in ("winner", "participant", "judge"):
        certificates.issue(event, kind, actor=admin)


def _judging_states_2024(event: Event, judges: list[User], homes: dict, entries: list) -> None:
    """What the judging pages show on the demo: the presentation day's schedule, two
    conflicts of interest (one declared by a judge, one recorded by the organiser), and two
    late assignments still open (a draft with some scores, one not started), so the progress
    board shows every state. Drafts do not count in the results, so the published ranking
    stays as it was."""

    stage = next(s for s in event.stages if s.key == "presentasi")
    judging.generate_schedule(
        stage,
        start=datetime(2024, 7, 8, 9, 0),
        minutes=20,
        gap=5,
        room="Ruang Rapat Diskominfo Prov. Kaltim",
    )
    assigned = {
        (a.entry_id, a.judge_id)
        for a in db.session.scalars(
            select(Assignment).where(Assignment.stage_id.in_([s.id for s in event.stages]))
        )
    }

    def free(judge: User, skip=()) -> list:
        return [
            e
            for e in entries
            if e.standing == "active"
            and (e.id, judge.id) not in assigned
            and e.id not in skip
            and homes[judge.email] != e.kim.district.code
        ]

    by_email = {j.email: j for j in judges}
    declared = free(by_email["juri2@demo.monev.id"])[0]
    recorded = free(by_email["juri5@demo.monev.id"])[0]
    db.session.add_all(
        [
            Conflict(
                entry_id=declared.id,
                judge_id=by_email["juri2@demo.monev.id"].id,
                source="judge",
                reason="Pernah menjadi mentor pelatihan jurnalistik warga untuk KIM ini.",
                declared_by_id=by_email["juri2@demo.monev.id"].id,
            ),
            Conflict(
                entry_id=recorded.id,
                judge_id=by_email["juri5@demo.monev.id"].id,
                source="admin",
                reason="Kerabat ketua KIM (dilaporkan panitia).",
            ),
        ]
    )
    late = by_email["juri1@demo.monev.id"]
    open_for_late = free(late, skip={declared.id, recorded.id})
    if len(open_for_late) < 2:  # few finalists left after the cut-off: share an entry
        open_for_late = free(late)
    draft_entry, empty_entry = open_for_late[:2]
    criteria = [c for a in rubrics_by_stage(event, stage.id) for c in a.criteria]
    draft = Assignment(stage_id=stage.id, entry_id=draft_entry.id, judge_id=late.id)
    db.session.add_all(
        [draft, Assignment(stage_id=stage.id, entry_id=empty_entry.id, judge_id=late.id)]
    )
    db.session.flush()
    sheet = ScoreSheet(assignment_id=draft.id, status="draft", version=0)
    db.session.add(sheet)
    db.session.flush()
    for criterion, value in zip(criteria[:3], ("8", "7.5", "8.5"), strict=True):
        sheet.version += 1
        db.session.add(Score(sheet_id=sheet.id, criterion_id=criterion.id, value=Decimal(value)))
        db.session.add(
            ScoreChange(
                sheet_id=sheet.id,
                version=sheet.version,
                kind="score",
                criterion_id=criterion.id,
                new_value=Decimal(value),
                actor_id=late.id,
            )
        )
    db.session.flush()


def rubrics_by_stage(event: Event, stage_id: int):
    return aspects_by_stage(event).get(stage_id, [])


def _comment(value: Decimal, criterion: str) -> str | None:
    if value >= 9:
        return f"{criterion}: sangat baik, pertahankan."
    if value <= 5:
        return f"{criterion}: perlu dilengkapi buktinya."
    return None

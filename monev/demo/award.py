"""The demo's field visit: *Anugerah KIM Inovatif 2025*, a short special award of the same
Diskominfo, already in its judging phase with a field visit open now.

Monev KIM 2025 is collecting submissions (the KIM part of the tour), and judges only write
sheets in the judging phase, for submitted and verified entries; so the visit a newcomer can
really do lives here. One category, three finalists nominated by their operators, who
submitted (the KIM's own account, through the workspace) and were verified by the organiser;
one stage, *Visitasi lapangan* (a field visit whose criteria require photos), with a team of
two judges (juri1 and juri2) on every visit. KIM Teluk Pandan is visited **today at 10.00
WITA** (built before 07.00 WITA, when its representative could not confirm yet, at the hour
the demo is built), the two others later this week. Every date is relative to the moment the
demo is built, and every step goes through the services the pages use."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local, to_utc
from monev.demo.submissions import _pdf, _upload
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.entries.nominations import services as nominations
from monev.entries.verification import services as verification
from monev.entries.workspace import evidence as workspace_evidence
from monev.entries.workspace import services as workspace
from monev.events import services as events
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import assignments, panel
from monev.judging import visits as judging_visits
from monev.lifecycle import transitions
from monev.regions.models import District
from monev.rubrics import services as rubrics

TZ = "Asia/Makassar"
SLUG = "anugerah-kim-inovatif-2025"
TITLE = "Anugerah KIM Inovatif 2025"
TEAM = ("juri1@demo.monev.id", "juri2@demo.monev.id")

# The visit's criteria: (key, name, weight, photos required, guidance, descriptors).
VISIT_CRITERIA = [
    (
        "v1",
        "Inovasi berjalan di masyarakat",
        40,
        2,
        "Tunjukkan layanan atau produk inovasi yang sedang dipakai warga di lokasi.",
        [
            ("1-3", "Inovasi baru rencana atau tidak terlihat di lokasi"),
            ("4-6", "Inovasi ada, tetapi jarang dipakai warga"),
            ("7-8", "Inovasi berjalan rutin dan dipakai warga"),
            ("9-10", "Inovasi dipakai luas dan menjadi rujukan desa/kelurahan lain"),
        ],
    ),
    (
        "v2",
        "Dampak bagi warga",
        35,
        1,
        "Bukti manfaat: kesaksian warga, data pengguna, liputan media.",
        [
            ("1-3", "Belum ada bukti manfaat"),
            ("4-6", "Ada manfaat, belum terdokumentasi"),
            ("7-8", "Manfaat nyata dan tercatat"),
            ("9-10", "Manfaat terukur dan diakui pemerintah desa/OPD"),
        ],
    ),
    (
        "v3",
        "Keberlanjutan dan pengelolaan",
        25,
        1,
        "Pengelola, jadwal, sumber dana atau swadaya, dan arsip kegiatan.",
        [
            ("1-3", "Bergantung pada satu orang, tanpa arsip"),
            ("4-6", "Ada pengelola, arsip belum lengkap"),
            ("7-8", "Pengelola, jadwal dan arsip tertata"),
            ("9-10", "Didukung anggaran desa/kelurahan dan kaderisasi berjalan"),
        ],
    ),
]

# The finalists: (operator, KIM, innovation, address, latitude, longitude, day, hour).
# The visit of day 0 is today; the others later this week (WITA).
FINALISTS = [
    (
        "operator.kutim@demo.monev.id",
        "KIM Teluk Pandan",
        "Papan informasi digital desa dan grup WhatsApp warga per RT.",
        "Jl. Poros Bontang–Sangatta, Desa Teluk Pandan, Kec. Teluk Pandan, Kutai Timur",
        "0.429700",
        "117.470500",
        0,
        10,
    ),
    (
        "operator.kukar@demo.monev.id",
        "KIM Santan Ilir",
        "Radio komunitas nelayan dengan kabar cuaca dan harga ikan harian.",
        "Jl. Poros Santan, Desa Santan Ilir, Kec. Marang Kayu, Kutai Kartanegara",
        "0.242500",
        "117.457000",
        2,
        9,
    ),
    (
        "operator.bontang@demo.monev.id",
        "KIM Bontang Kuala",
        "Pojok literasi digital di kampung atas air untuk UMKM dan wisata.",
        "Jl. Bontang Kuala, Kel. Bontang Kuala, Kec. Bontang Utara, Kota Bontang",
        "0.133700",
        "117.500300",
        3,
        13,
    ),
]


def _at(today, days: int, hour: int, minute: int = 0) -> datetime:
    return to_utc(datetime.combine(today + timedelta(days=days), time(hour, minute)), TZ)


def _hour_of_today(today, hour: int) -> int:
    """``hour``, or the current hour when the representative could not confirm a visit at
    ``hour`` yet (:func:`monev.judging.visits.confirm_opens_at`): the visit of today can be
    done to its end, Berita Acara included, whenever the demo is tried."""
    if _at(today, 0, hour) - judging_visits.CONFIRM_BEFORE_START <= utcnow():
        return hour
    return to_local(utcnow(), TZ).hour


def load(admin: User, homes: dict[str, str], districts: dict[str, District]) -> Event:
    """The award, from its draft to its judging phase with the visits planned."""
    today = to_local(utcnow(), TZ).date()
    event = events.create_event(
        {
            "slug": SLUG,
            "title": TITLE,
            "year": 2025,
            "organiser": "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
            "description": "Penghargaan khusus bagi KIM dengan inovasi layanan informasi yang "
            "berjalan di masyarakat. Tiga finalis dikunjungi tim juri di lokasi (visitasi "
            "lapangan).",
            "timezone": TZ,
            "aggregation": "mean",
        }
    )
    # The stage's window is the submission window too (opened 10 days ago); the visits are
    # judged in it, until 5 days from now.
    stage = events.save_stage(
        event,
        None,
        {
            "key": "visitasi",
            "name": "Visitasi lapangan",
            "weight": Decimal(100),
            "opens_at": _at(today, -10, 8),
            "closes_at": _at(today, 5, 17),
            "judges_per_entry": len(TEAM),
            "kind": "visit",
        },
    )
    category = events.save_category(
        event,
        None,
        {"key": "inovasi", "name": "KIM Inovatif", "score_bands": "85 Unggul\n70 Baik\n0 Cukup"},
    )
    _rubric(stage)
    db.session.flush()
    operators = {
        u.email: u for u in db.session.scalars(select(User).where(User.role == "operator"))
    }
    events.set_quotas(event, {operators[op].district_id: 1 for op, *_rest in FINALISTS})
    panel.set_judges_see_names(event, True)  # the team goes to the KIM: no blind codes
    events.move_status(event, "nomination")

    by_name = {k.name: k for k in db.session.scalars(select(Kim))}
    entries = []
    for op, name, innovation, *_place in FINALISTS:
        entry = nominations.nominate(
            operators[op], event, by_name[name].id, category.id, innovation
        ).entry
        nominations.decide(event, entry, "accepted", None)
        entries.append(entry)
    _move(admin, event, "submission")
    for entry, (_op, _name, innovation, *_place) in zip(entries, FINALISTS, strict=True):
        _submit(entry, innovation)
    _move(admin, event, "verification")
    for entry in entries:
        verification.verify(admin, entry)

    judges = {u.email: u for u in db.session.scalars(select(User).where(User.role == "judge"))}
    for email in TEAM:
        judge = judges[email]
        panel.add_judge(
            event,
            email=judge.email,
            name=judge.name,
            institution=judge.institution,
            home_district_id=districts[homes[email]].id,
            stage_ids=[stage.id],
        )
    db.session.flush()
    assignments.apply_plan(stage, assignments.plan_stage(stage).plan.fingerprint())
    _move(admin, event, "judging")
    for entry, (*_f, address, latitude, longitude, day, hour) in zip(
        entries, FINALISTS, strict=True
    ):
        if day == 0:
            hour = _hour_of_today(today, hour)
        judging_visits.save_visit(
            stage,
            entry_id=entry.id,
            start=datetime.combine(today + timedelta(days=day), time(hour)),
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
    db.session.flush()
    return event


def _rubric(stage: Stage) -> None:
    aspect = rubrics.save_aspect(stage, None, "Pengamatan inovasi di lapangan")
    for key, name, weight, photos, guidance, levels in VISIT_CRITERIA:
        rubrics.save_criterion(
            aspect,
            None,
            {
                "key": key,
                "name": name,
                "weight": weight,
                "min_score": "1",
                "max_score": "10",
                "step": "1",
                "descriptors": "\n".join(f"{r}: {t}" for r, t in levels),
                "evidence": "none",
                "guidance": guidance,
                "photos_required": photos,
            },
        )


def _move(admin: User, event: Event, target: str) -> None:
    """The organiser's move on the phase page: warnings acknowledged, then confirmed."""
    db.session.flush()
    check = transitions.preview(event, target)
    transitions.move(
        admin, event, target, acknowledged={c.code for c in check.warnings}, confirmed=True
    )


def _submit(entry: Entry, innovation: str) -> None:
    """The KIM's own account uploads its innovation profile (the entry's presentation, a
    PDF) and submits, through the workspace services."""
    kim = entry.kim
    user = db.session.scalar(select(User).where(User.role == "kim", User.kim_id == kim.id))
    upload = _upload(
        f"Profil inovasi {kim.name}.pdf",
        _pdf([f"Profil Inovasi {kim.name}", TITLE, innovation, f"Ketua: {kim.chair_name}"]),
    )
    try:
        workspace_evidence.add_file(user, entry, workspace.slot_for(entry, None), upload)
    finally:
        upload.stream.close()
    workspace.submit(user, entry, confirmed=True)

"""Import, reading: the event, its stages, categories, entries (with their KIMs) and judges,
each problem recorded with its JSON path."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from monev.auth.models import User
from monev.core.documents import (
    Reader,
    check_unique,
)
from monev.core.timezones import ZONES
from monev.directory.models import Kim
from monev.entries.models import NOMINATION_STATUSES
from monev.events.models import AGGREGATIONS, DEFAULT_LADDER, STAGE_KINDS, Event
from monev.events.services import KEY_RE, SLUG_RE
from monev.extensions import db
from monev.regions import queries as regions
from monev.regions.models import District
from monev.transfer.package.plan import (
    CATEGORY_OPTIONAL,
    DEFAULT_ORGANISER,
    ENTRY_OPTIONAL,
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    IMPORTABLE_STATUSES,
    JUDGE_OPTIONAL,
    STAGE_OPTIONAL,
    CategoryIn,
    EntryIn,
    JudgeIn,
    Plan,
    StageIn,
)


def read_event(plan: Plan, value) -> None:
    r, path = plan.reader, "$.event"
    ev = r.object(value, path, required=EVENT_REQUIRED, optional=EVENT_OPTIONAL)
    if ev is None:
        return
    slug = r.text(ev, "slug", path, max_len=80)
    if slug is not None and not SLUG_RE.match(slug):
        r.problem(
            f"{path}.slug",
            _("Use lower-case letters, digits and dashes only, e.g. monev-kim-kaltim-2025."),
        )
    elif slug is not None and db.session.scalar(select(Event.id).where(Event.slug == slug)):
        r.problem(f"{path}.slug", _("Another event already uses this address."))
    if ev.get("status") in ("published", "archived"):
        r.problem(
            f"{path}.status",
            _(
                'A published event cannot be imported: import it with the status "results" '
                "and publish it again."
            ),
        )
        status = None
    else:
        status = r.choice(ev, "status", path, IMPORTABLE_STATUSES, default="draft")
    plan.event = {
        "slug": slug,
        "title": r.text(ev, "title", path, max_len=200),
        "year": r.integer(ev, "year", path, low=2000, high=2100),
        "organiser": r.text(ev, "organiser", path, max_len=200, default=DEFAULT_ORGANISER),
        "description": r.text(ev, "description", path, max_len=10000, nullable=True),
        "status": status,
        "timezone": r.choice(ev, "timezone", path, tuple(ZONES), default="Asia/Makassar"),
        "aggregation": r.choice(ev, "aggregation", path, AGGREGATIONS, default="mean"),
        "normalize_judges": r.boolean(ev, "normalize_judges", path),
        "tie_breaks": r.text_list(ev, "tie_breaks", path, max_len=80) or [],
    }


def _read_key(r: Reader, obj: dict, path: str, max_len: int = 40) -> str | None:
    key = r.text(obj, "key", path, max_len=max_len)
    if key is not None and not KEY_RE.match(key):
        r.problem(
            f"{path}.key",
            _("Use a short code of lower-case letters, digits, - or _ (e.g. presentasi)."),
        )
        return None
    return key


def read_stages(plan: Plan, doc: dict) -> None:
    r = plan.reader
    for index, (path, value) in enumerate(r.items(doc, "stages", "$")):
        obj = r.object(value, path, required=("key", "name", "weight"), optional=STAGE_OPTIONAL)
        if obj is None:
            continue
        weight = r.number(obj, "weight", path)
        if weight is not None and not Decimal(0) <= weight <= Decimal(100):
            r.problem(f"{path}.weight", _("A stage weight lies between 0 and 100."))
            weight = None
        stage = StageIn(
            path=path,
            key=_read_key(r, obj, path),
            name=r.text(obj, "name", path, max_len=120),
            weight=weight,
            position=r.integer(obj, "position", path, low=0, high=1000, default=index) or 0,
            opens_at=r.timestamp(obj, "opens_at", path),
            closes_at=r.timestamp(obj, "closes_at", path),
            judges_per_entry=r.integer(obj, "judges_per_entry", path, low=1, high=50, default=3)
            or 3,
            kind=r.choice(obj, "kind", path, STAGE_KINDS, default="standard") or "standard",
        )
        if stage.opens_at and stage.closes_at and stage.closes_at <= stage.opens_at:
            r.problem(f"{path}.closes_at", _("The stage must close after it opens."))
        plan.stages.append(stage)
    check_unique(
        r,
        [(f"{s.path}.key", s.key) for s in plan.stages],
        lambda *_a: _("Another stage already uses this code."),
    )
    check_unique(
        r,
        [(f"{s.path}.name", s.name.lower() if s.name else None) for s in plan.stages],
        lambda *_a: _("Another stage already has this name."),
    )


def read_categories(plan: Plan, doc: dict) -> None:
    r = plan.reader
    paths = []
    for path, value in r.items(doc, "categories", "$"):
        obj = r.object(value, path, required=("key", "name"), optional=CATEGORY_OPTIONAL)
        if obj is None:
            continue
        ladder = r.text_list(obj, "award_ladder", path, max_len=80)
        bands = []
        for b_path, b_value in r.items(obj, "score_bands", path):
            band = r.object(b_value, b_path, required=("min", "label"))
            if band is None:
                continue
            low = r.number(band, "min", b_path)
            if low is not None and not Decimal(0) <= low <= Decimal(100):
                r.problem(
                    f"{b_path}.min", _("Use a number from %(low)d to %(high)d.", low=0, high=100)
                )
                low = None
            label = r.text(band, "label", b_path, max_len=80)
            if low is not None and label is not None:
                bands.append({"min": float(low), "label": label})
        category = CategoryIn(
            key=_read_key(r, obj, path),
            name=r.text(obj, "name", path, max_len=120),
            award_ladder=ladder if ladder else list(DEFAULT_LADDER),
            score_bands=sorted(bands, key=lambda b: -b["min"]),
        )
        paths.append(path)
        plan.categories.append(category)
    check_unique(
        r,
        [(f"{p}.key", c.key) for p, c in zip(paths, plan.categories, strict=True)],
        lambda *_a: _("Another category already uses this code."),
    )
    check_unique(
        r,
        [
            (f"{p}.name", c.name.lower() if c.name else None)
            for p, c in zip(paths, plan.categories, strict=True)
        ],
        lambda *_a: _("Another category already has this name."),
    )


def _district(cache: dict, value: str) -> District | None:
    if value not in cache:
        cache[value] = regions.district_by_code_or_name(value)
    return cache[value]


def read_entries(plan: Plan, doc: dict) -> None:
    r = plan.reader
    categories = {c.key for c in plan.categories if c.key}
    districts: dict[str, District | None] = {}
    for path, value in r.items(doc, "entries", "$"):
        obj = r.object(
            value, path, required=("key", "kim", "district", "category"), optional=ENTRY_OPTIONAL
        )
        if obj is None:
            continue
        district = None
        district_text = r.text(obj, "district", path, max_len=80)
        if district_text is not None:
            district = _district(districts, district_text)
            if district is None:
                r.problem(
                    f"{path}.district",
                    _("No kabupaten/kota has the code or name %(value)s.", value=district_text),
                )
        category = r.text(obj, "category", path, max_len=40)
        if category is not None and category not in categories:
            r.problem(f"{path}.category", _("No category has the code %(key)s.", key=category))
        kecamatan = r.text(obj, "kecamatan", path, max_len=80, nullable=True)
        village = r.text(obj, "village", path, max_len=80, nullable=True)
        if village and not kecamatan:
            r.problem(f"{path}.kecamatan", _("Give the kecamatan of the desa/kelurahan."))
        profile = {
            "kecamatan": kecamatan,
            "village": village,
            "village_kind": r.choice(obj, "village_kind", path, ("desa", "kelurahan"))
            if obj.get("village_kind") is not None
            else "desa",
            "sk_number": r.text(obj, "sk_number", path, max_len=120, nullable=True),
            "sk_date": r.day(obj, "sk_date", path),
            "chair_name": r.text(obj, "chair_name", path, max_len=120, nullable=True),
            "members_count": r.integer(obj, "members_count", path, low=0, high=100_000)
            if obj.get("members_count") is not None
            else None,
            "website": r.text(obj, "website", path, max_len=300, nullable=True),
        }
        plan.entries.append(
            EntryIn(
                path=path,
                key=r.text(obj, "key", path, max_len=20),
                kim_name=r.text(obj, "kim", path, max_len=120),
                district=district,
                category=category,
                nomination_status=r.choice(
                    obj, "nomination_status", path, NOMINATION_STATUSES, default="accepted"
                )
                or "accepted",
                profile=profile,
            )
        )
    check_unique(
        r,
        [(f"{e.path}.key", e.key) for e in plan.entries],
        lambda *_a: _("Another entry already uses this code."),
    )
    check_unique(
        r,
        [
            (f"{e.path}.kim", (e.district.id, e.kim_name.lower()))
            for e in plan.entries
            if e.district and e.kim_name
        ],
        lambda _value, other: _("The entry at %(other)s already names this KIM.", other=other),
    )
    _match_kims(plan.entries)


def _match_kims(entries: list[EntryIn]) -> None:
    """Reuse the KIM of the district with the entry's KIM name (any case): one query."""
    district_ids = {e.district.id for e in entries if e.district}
    if not district_ids:
        return
    existing = {
        (k.district_id, k.name.lower()): k
        for k in db.session.scalars(select(Kim).where(Kim.district_id.in_(district_ids)))
    }
    for e in entries:
        if e.district and e.kim_name:
            e.kim = existing.get((e.district.id, e.kim_name.lower()))


def read_judges(plan: Plan, doc: dict) -> None:
    r = plan.reader
    districts: dict[str, District | None] = {}
    paths = []
    for path, value in r.items(doc, "judges", "$"):
        obj = r.object(value, path, required=("key", "name", "email"), optional=JUDGE_OPTIONAL)
        if obj is None:
            continue
        home = None
        home_text = r.text(obj, "home_district", path, max_len=80, nullable=True)
        if home_text is not None:
            home = _district(districts, home_text)
            if home is None:
                r.problem(
                    f"{path}.home_district",
                    _("No kabupaten/kota has the code or name %(value)s.", value=home_text),
                )
        paths.append(path)
        plan.judges.append(
            JudgeIn(
                key=r.text(obj, "key", path, max_len=254),
                name=r.text(obj, "name", path, max_len=120),
                email=r.email(obj, "email", path),
                institution=r.text(obj, "institution", path, max_len=160, nullable=True),
                home_district=home,
            )
        )
    pairs = list(zip(paths, plan.judges, strict=True))
    check_unique(
        r,
        [(f"{p}.key", j.key) for p, j in pairs],
        lambda *_a: _("Another judge already uses this key."),
    )
    check_unique(
        r,
        [(f"{p}.email", j.email) for p, j in pairs],
        lambda *_a: _("Another judge already has this e-mail address."),
    )
    emails = [j.email for j in plan.judges if j.email]
    users = (
        {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
        if emails
        else {}
    )
    for p, j in pairs:
        user = users.get(j.email)
        if user is None:
            continue
        if user.role != "judge":
            r.problem(
                f"{p}.email",
                _(
                    "This e-mail address belongs to an account that is not a judge (%(role)s).",
                    role=user.role,
                ),
            )
        j.user = user

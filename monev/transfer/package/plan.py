"""What an event package holds: its fields, and the checked plan of an import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monev.auth.models import User
from monev.core.documents import (
    Reader,
)
from monev.directory.models import Kim
from monev.events.models import STATUSES
from monev.regions.models import District
from monev.transfer.rubric.document import (
    AspectRow,
    CriterionRow,
)

FORMAT = "monev-event/1"
TOP_REQUIRED = ("format", "event")
TOP_OPTIONAL = (
    "stages",
    "categories",
    "rubric",
    "entries",
    "judges",
    "assignments",
    "scores",
)
EVENT_REQUIRED = ("slug", "title", "year")
EVENT_OPTIONAL = (
    "organiser",
    "description",
    "status",
    "timezone",
    "aggregation",
    "normalize_judges",
    "tie_breaks",
)
STAGE_OPTIONAL = ("position", "opens_at", "closes_at", "judges_per_entry", "kind")
CATEGORY_OPTIONAL = ("award_ladder", "score_bands")
KIM_FIELDS = (
    "kecamatan",
    "village",
    "village_kind",
    "sk_number",
    "sk_date",
    "chair_name",
    "members_count",
    "website",
)
ENTRY_OPTIONAL = ("nomination_status", *KIM_FIELDS)
JUDGE_OPTIONAL = ("institution", "home_district")
SCORE_OPTIONAL = ("comment", "final")
# Published results are a frozen snapshot made by publishing; an import cannot carry one.
IMPORTABLE_STATUSES = tuple(s for s in STATUSES if s not in ("published", "archived"))
DEFAULT_ORGANISER = "Diskominfo"


# --- import: reading and checking ---------------------------------------------------------


@dataclass
class StageIn:
    path: str
    key: str | None
    name: str | None
    weight: Decimal | None
    position: int
    opens_at: datetime | None
    closes_at: datetime | None
    judges_per_entry: int
    kind: str = "standard"


@dataclass
class CategoryIn:
    key: str | None
    name: str | None
    award_ladder: list[str]
    score_bands: list[dict]


@dataclass
class EntryIn:
    path: str
    key: str | None
    kim_name: str | None
    district: District | None
    category: str | None
    nomination_status: str
    profile: dict
    kim: Kim | None = None  # an existing KIM it reuses


@dataclass
class JudgeIn:
    key: str | None
    name: str | None
    email: str | None
    institution: str | None
    home_district: District | None
    user: User | None = None  # an existing account it reuses


@dataclass
class ScoreIn:
    path: str
    entry: str
    judge: str
    criterion: CriterionRow
    stage: str
    value: Decimal | None
    comment: str | None
    final: bool


@dataclass
class Plan:
    reader: Reader = field(default_factory=Reader)
    event: dict = field(default_factory=dict)
    stages: list[StageIn] = field(default_factory=list)
    categories: list[CategoryIn] = field(default_factory=list)
    aspects: list[AspectRow] = field(default_factory=list)
    entries: list[EntryIn] = field(default_factory=list)
    judges: list[JudgeIn] = field(default_factory=list)
    assignments: set[tuple[str, str, str]] = field(default_factory=set)  # stage, entry, judge
    scores: list[ScoreIn] = field(default_factory=list)

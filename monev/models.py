"""Every model, imported once so SQLAlchemy and Alembic see the whole schema."""

from monev.audit.models import AuditEntry  # noqa: F401
from monev.auth.models import LoginAttempt, User, UserSession  # noqa: F401
from monev.directory.models import Kim  # noqa: F401
from monev.entries.models import Entry  # noqa: F401
from monev.events.models import Category, DistrictQuota, Event, Stage  # noqa: F401
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet  # noqa: F401
from monev.regions.models import District, Kecamatan, Province, Village  # noqa: F401
from monev.rubrics.models import Aspect, Criterion  # noqa: F401

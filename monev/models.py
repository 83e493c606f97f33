"""Every model, imported once so SQLAlchemy and Alembic see the whole schema."""

from monev.audit.models import AuditEntry  # noqa: F401
from monev.auth.models import LoginAttempt, User, UserSession  # noqa: F401
from monev.certificates.batch import CertificateBatch  # noqa: F401
from monev.certificates.models import Certificate, CertificateSettings  # noqa: F401
from monev.core.ratelimit import RateCount  # noqa: F401
from monev.directory.models import Kim  # noqa: F401
from monev.documents.models import SignedDocument  # noqa: F401
from monev.entries.models import Entry, Evidence  # noqa: F401
from monev.events.models import (  # noqa: F401
    Category,
    DistrictQuota,
    Event,
    Stage,
    StageSelection,
)
from monev.jobs.models import WorkerHeartbeat  # noqa: F401
from monev.judging.models import (  # noqa: F401
    Assignment,
    Conflict,
    EventJudge,
    JudgingVersion,
    PanelMember,
    ScheduleSlot,
    Score,
    ScoreChange,
    ScoreSheet,
)
from monev.notify.models import Delivery, Notification  # noqa: F401
from monev.regions.models import District, Kecamatan, Province, Village  # noqa: F401
from monev.results.models import (  # noqa: F401
    FairnessAcknowledgement,
    Objection,
    ProvisionalResult,
    PublishedResult,
    SpecialAward,
)
from monev.rubrics.models import Aspect, Criterion  # noqa: F401
from monev.signing.models import TrustRoot  # noqa: F401

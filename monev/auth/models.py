from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.access import ADMIN, JUDGE, KIM, OPERATOR
from monev.core.models import CreatedMixin, IdMixin
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions.models import District

ROLES = (ADMIN, OPERATOR, KIM, JUDGE)


class User(IdMixin, CreatedMixin, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'operator', 'kim', 'judge')", name="role"),
        CheckConstraint("role <> 'operator' OR district_id IS NOT NULL", name="operator_district"),
        CheckConstraint("role <> 'kim' OR kim_id IS NOT NULL", name="kim_bound"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(10))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    kim_id: Mapped[int | None] = mapped_column(ForeignKey("kims.id"), index=True)
    institution: Mapped[str | None] = mapped_column(String(160))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    invited_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Notification channels (in-app is always on): e-mail, and WhatsApp to ``phone``.
    phone: Mapped[str | None] = mapped_column(String(20))
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_whatsapp: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    district: Mapped[District | None] = relationship()
    kim: Mapped[Kim | None] = relationship()

    # Set by the session loader: the server-side session this request runs under.
    session_token = None  # str | None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str | None:  # Flask-Login stores this in the signed cookie
        return self.session_token

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(IdMixin, CreatedMixin, db.Model):
    """A signed-in browser. Revoking the row ends it, whatever cookie the browser replays."""

    __tablename__ = "user_sessions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class LoginAttempt(IdMixin, CreatedMixin, db.Model):
    """Failed and successful logins, counted per account and per address by every worker."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "created_at"),
        Index("ix_login_attempts_ip_at", "ip", "created_at"),
    )

    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)

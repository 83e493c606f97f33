from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.auth.models import User
from monev.core.models import CreatedMixin, IdMixin
from monev.extensions import db

CHANNELS = ("email", "whatsapp")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "skipped")


class Notification(IdMixin, CreatedMixin, db.Model):
    """One message to one person, recorded in the transaction of the change it reports.

    ``key`` makes it happen once: the same (user, key) is never recorded twice, whoever asks
    again (a retried request, a periodic reminder running every few minutes). Title and body
    are rendered from ``kind`` and ``params`` in the reader's language when shown or sent.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notifications_user_id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the app
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notification", cascade="all, delete-orphan"
    )


class Delivery(IdMixin, CreatedMixin, db.Model):
    """Sending one notification through one channel: claimed, sent or retried with back-off."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
        CheckConstraint("channel IN ('email', 'whatsapp')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status"
        ),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254))  # e-mail or phone number, at the time
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")

"""Template globals: navigation by role, language switch, date formatting."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monev.core.timezones import format_day, format_moment, format_time, format_wall, wall_parts


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    @property
    def active(self) -> bool:
        return request.endpoint == self.endpoint or (
            request.endpoint is not None
            and self.endpoint.endswith(".index")
            and request.endpoint.split(".")[0] == self.endpoint.split(".")[0]
        )


NAV = {
    "admin": [
        NavItem(_l("Dashboard"), "admin.index"),
        NavItem(_l("Events"), "events.index"),
        NavItem(_l("KIM directory"), "directory.index"),
        NavItem(_l("Regions"), "regions.index"),
        NavItem(_l("Users"), "admin.users"),
        NavItem(_l("Outbox"), "admin.outbox"),
        NavItem(_l("Audit log"), "audit.index"),
        NavItem(_l("System"), "ops.system"),
    ],
    "operator": [
        NavItem(_l("Home"), "public.home"),
        NavItem(_l("KIMs of my district"), "directory.index"),
    ],
    "kim": [
        NavItem(_l("Home"), "public.home"),
        NavItem(_l("Presentation schedule"), "schedule.mine"),
    ],
    "judge": [
        NavItem(_l("Home"), "public.home"),
        NavItem(_l("My assignments"), "judge.index"),
        NavItem(_l("Presentation schedule"), "schedule.mine"),
    ],
}


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return NAV.get(current_user.role, [])


ROLE_LABELS = {
    "admin": _l("Organiser (admin)"),
    "operator": _l("District operator"),
    "kim": _l("KIM"),
    "judge": _l("Judge"),
}


STATUS_LABELS = {
    "draft": _l("Draft"),
    "nomination": _l("Nomination"),
    "submission": _l("Submission"),
    "verification": _l("Verification"),
    "judging": _l("Judging"),
    "results": _l("Results"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}

EVIDENCE_LABELS = {
    "none": _l("No evidence"),
    "file": _l("File"),
    "link": _l("Link"),
    "either": _l("File or link"),
}


def number(value) -> str:
    """Decimal for display in Indonesian style: 2.50 -> '2,5'."""
    if value is None:
        return "—"
    from decimal import Decimal

    amount = Decimal(str(value))
    if amount == 0:
        return "0"  # never "-0": a negative figure rounded to nothing is nothing
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        nav_items=nav_items,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
        evidence_labels=EVIDENCE_LABELS,
        current_locale=lambda: str(get_locale()),
        languages=lambda: app.config["LANGUAGES"],
    )
    # One format for every moment (core.timezones.format_moment): "6 Des 2026, 14.00 WITA".
    # ``|datetime`` and ``|date`` use the site's zone; ``|moment(event.timezone)`` an event's.
    site_zone = app.config["BABEL_DEFAULT_TIMEZONE"]
    app.jinja_env.filters["datetime"] = lambda v, _fmt=None: format_moment(v, site_zone)
    app.jinja_env.filters["date"] = lambda v, tz=None: format_day(v, tz or site_zone)
    app.jinja_env.filters["clock"] = lambda v, tz=None: format_time(v, tz or site_zone)
    app.jinja_env.filters["moment"] = lambda v, tz=None, zone=True, seconds=False: format_moment(
        v, tz or site_zone, with_zone=zone, seconds=seconds
    )
    app.jinja_env.filters["wall"] = format_wall
    app.jinja_env.globals["wall_parts"] = wall_parts
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["one_stop"] = one_stop
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def one_stop(text):
    """A sentence ending with a name that ends with its own full stop ("…, M.Si.") gets one
    stop, not two ("M.Si.."); an ellipsis stays."""
    if str(text).endswith("..") and not str(text).endswith("..."):
        return text[:-1]  # slicing keeps a Markup a Markup: nothing is escaped twice
    return text

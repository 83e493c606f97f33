"""Browse and filter the audit log (admin)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, render_template, request

from monev.audit import queries
from monev.audit.labels import action_label
from monev.audit.services import verify
from monev.core import access
from monev.core.views import page_or_fragment

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
access.blueprint_roles(bp, access.ADMIN)
# The log's rows (here and on the admin's dashboard) name each action in the reader's language.
bp.add_app_template_filter(action_label, "audit_action")


def _date(value: str | None):
    try:
        return datetime.strptime(value or "", "%Y-%m-%d")
    except ValueError:
        return None


@bp.route("/")
def index():
    args = request.args
    filters = queries.AuditFilters(
        actor=args.get("actor", "").strip()[:100],
        action=args.get("action", "").strip()[:60],
        object_type=args.get("object_type", "").strip()[:40],
        object_id=args.get("object_id", "").strip()[:64],
        since=_date(args.get("since")),
        until=(_date(args.get("until")) or None) and _date(args.get("until")) + timedelta(days=1),
    )
    try:
        page_no = int(args.get("page", 1))
    except ValueError:
        page_no = 1
    page = queries.search(filters, page_no)
    return page_or_fragment(
        "audit/index.html",
        {"audit-results": "audit/_rows.html"},
        page=page,
        args=args,
        actions=queries.distinct_actions(),
        object_types=queries.distinct_object_types(),
    )


@bp.route("/verify")
def check():
    return render_template("audit/verify.html", result=verify())

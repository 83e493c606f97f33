from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from monev.core import access
from monev.directory import queries as directory_queries
from monev.extensions import db

bp = Blueprint("public", __name__)
access.blueprint_roles(bp)  # public


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("public/landing.html")
    if current_user.role == access.ADMIN:
        return redirect(url_for("admin.index"))
    if current_user.role == access.OPERATOR:
        summary = directory_queries.district_summary(current_user.district_id)
        return render_template("home/operator.html", summary=summary)
    if current_user.role == access.KIM:
        return render_template("home/kim.html", kim=current_user.kim)
    return render_template("home/judge.html")


@bp.route("/healthz")
def healthz():
    db.session.execute(select(func.count()).select_from(select(1).subquery()))
    return {"status": "ok"}

"""Provinces, kabupaten/kota (Kemendagri codes) and the places entered under them."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from monev.core import access
from monev.directory.queries import provinces_with_counts
from monev.extensions import db
from monev.regions import queries
from monev.regions.models import District

bp = Blueprint("regions", __name__, url_prefix="/regions")
access.blueprint_roles(bp, access.ADMIN)


@bp.route("/")
def index():
    return render_template("regions/index.html", provinces=provinces_with_counts())


@bp.route("/<code>")
def district(code: str):
    district = db.session.scalar(select(District).where(District.code == code)) or abort(404)
    return render_template(
        "regions/district.html", district=district, places=queries.district_places(district.id)
    )

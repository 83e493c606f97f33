"""The shared view helpers of ``monev.core.views``, through a small blueprint of their own
(and, for the event loader's order, a real endpoint)."""

from __future__ import annotations

import pytest
from flask import Blueprint, render_template_string
from sqlalchemy import select
from werkzeug.http import parse_options_header
from wtforms import StringField
from wtforms.validators import DataRequired

from monev.auth.models import User
from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import MonevForm
from monev.core.views import (
    checked_post,
    download,
    form_flow,
    load_event,
    page_or_fragment,
    safe_filename,
    see_other,
)
from monev.events import queries as event_queries
from monev.events import services as event_services
from monev.extensions import db
from tests.conftest import t

# The tests register a blueprint of their own: each gets a fresh app.
pytestmark = pytest.mark.real_commits

PAGE = "<main>page {{ word }}</main>"
FRAGMENT = "<tr>rows {{ word }}</tr>"


class NameForm(MonevForm):
    name = StringField(validators=[DataRequired()])


def _add_user(email: str) -> None:
    db.session.add(User(email=email, name="Demo", role="admin", active=True))
    db.session.flush()


def _demo_blueprint(template_folder: str) -> Blueprint:
    bp = Blueprint(
        "core_views_demo", __name__, url_prefix="/_demo", template_folder=template_folder
    )
    access.blueprint_roles(bp)  # public
    load_event(bp, lookup=event_queries.get_by_slug)

    @bp.route("/form", methods=["GET", "POST"])
    def form():
        form = NameForm()
        keep = bool(form.name.data and form.name.data.startswith("keep"))

        def save():
            _add_user(f"{form.name.data}@demo.monev.id")  # written before the refusal
            if form.name.data.endswith("taken"):
                raise ServiceError("That name is taken.", field="name", status=409)
            return form.name.data.upper()

        return form_flow(
            form,
            save,
            render=lambda: render_template_string(
                "form {{ form.name.errors | join(',') }}", form=form
            ),
            message=lambda result: f"Saved {result}.",
            done=lambda _result: see_other("/_demo/done"),
            keep_changes=keep,
        )

    @bp.route("/rows")
    def rows():
        return page_or_fragment("demo_page.html", "_demo_rows.html", word="all")

    @bp.route("/targeted")
    def targeted():
        return page_or_fragment("demo_page.html", {"rows": "_demo_rows.html"}, word="some")

    @bp.route("/file")
    def file():
        return download(b"%PDF-1.7", 'Rapor "K-001"\r\nSet-Cookie: x=1 ü.pdf', "application/pdf")

    @bp.route("/events/<slug>")
    def event(event):
        return event.title

    @bp.route("/button", methods=["GET", "POST"])
    @checked_post
    def button():
        return "pressed"

    return bp


@pytest.fixture
def demo(app, tmp_path):
    (tmp_path / "demo_page.html").write_text(PAGE)
    (tmp_path / "_demo_rows.html").write_text(FRAGMENT)
    app.register_blueprint(_demo_blueprint(str(tmp_path)))
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def _users(app, email: str) -> int:
    with app.app_context():
        return len(db.session.scalars(select(User).where(User.email == email)).all())


# --- the form flow ---------------------------------------------------------------------------


def test_form_flow_shows_the_form_on_get(demo):
    response = demo.get("/_demo/form")
    assert (response.status_code, response.text) == (200, "form ")


def test_invalid_form_comes_back_with_422_and_its_errors(app, demo):
    response = demo.post("/_demo/form", data={"name": ""})
    assert response.status_code == 422
    assert response.text == "form " + t(app, "This field is required.")


def test_refusal_is_shown_on_its_field_with_its_status_and_nothing_is_kept(app, demo):
    response = demo.post("/_demo/form", data={"name": "taken"})
    assert response.status_code == 409
    assert response.text == "form That name is taken."
    assert _users(app, "taken@demo.monev.id") == 0


def test_success_flashes_commits_and_redirects_with_303(app, demo):
    response = demo.post("/_demo/form", data={"name": "ayu"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/_demo/done"
    with demo.session_transaction() as session:
        assert session["_flashes"] == [("success", "Saved AYU.")]
    assert _users(app, "ayu@demo.monev.id") == 1


def test_keep_changes_commits_what_a_refused_action_recorded(app, demo):
    response = demo.post("/_demo/form", data={"name": "keep-taken"})
    assert response.status_code == 409
    assert _users(app, "keep-taken@demo.monev.id") == 1


# --- full page or fragment -------------------------------------------------------------------


def test_htmx_request_gets_the_fragment_and_others_the_page(demo):
    assert demo.get("/_demo/rows").text == "<main>page all</main>"
    fragment = demo.get("/_demo/rows", headers={"HX-Request": "true"})
    assert fragment.text == "<tr>rows all</tr>"
    assert "HX-Request" in fragment.headers["Vary"]


def test_fragment_by_target_only_for_that_target(demo):
    rows = demo.get("/_demo/targeted", headers={"HX-Request": "true", "HX-Target": "rows"})
    other = demo.get("/_demo/targeted", headers={"HX-Request": "true", "HX-Target": "nav"})
    assert rows.text == "<tr>rows some</tr>"
    assert other.text == "<main>page some</main>"
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in rows.headers["Vary"].split(",")}


# --- downloads -------------------------------------------------------------------------------


def test_download_header_is_safe_for_quotes_newlines_and_other_letters(demo):
    response = demo.get("/_demo/file")
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    kind, params = parse_options_header(header)
    assert kind == "attachment"
    assert params["filename"] == 'Rapor "K-001"_Set-Cookie: x=1 ü.pdf'  # from filename*
    assert header == (
        'attachment; filename="Rapor \\"K-001\\"_Set-Cookie: x=1 u.pdf"; '
        "filename*=UTF-8''Rapor%20%22K-001%22_Set-Cookie%3A%20x%3D1%20%C3%BC.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Set-Cookie" not in response.headers
    assert response.data == b"%PDF-1.7"


def test_safe_filename_drops_control_characters_and_path_separators():
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("a\x00b\tc.pdf") == "a_b_c.pdf"
    assert safe_filename("\n") == "download"


# --- the event of the URL --------------------------------------------------------------------


def _event(app, status: str) -> None:
    with app.app_context():
        event = event_services.create_event(
            {"slug": "demo-2025", "title": "Monev Demo", "year": 2025, "organiser": "D"}
        )
        event.status = status
        db.session.commit()


def test_event_loader_passes_the_event_and_answers_404_for_an_unknown_slug(app, demo):
    _event(app, "nomination")
    assert demo.get("/_demo/events/demo-2025").text == "Monev Demo"
    assert demo.get("/_demo/events/no-such-event").status_code == 404


def test_event_loader_hides_a_draft_from_everyone_but_admins(app, demo):
    _event(app, "draft")
    assert demo.get("/_demo/events/demo-2025").status_code == 404


def test_access_rules_run_before_the_event_is_looked_up(client):
    response = client.get("/admin/events/no-such-event/rubric/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- buttons that post -----------------------------------------------------------------------


def test_checked_post_refuses_a_post_without_its_token(app, demo):
    assert demo.get("/_demo/button").text == "pressed"
    app.config["WTF_CSRF_ENABLED"] = True
    assert demo.post("/_demo/button").status_code == 400

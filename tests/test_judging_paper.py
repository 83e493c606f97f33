"""Paper score forms: the printable PDF, the Excel template, and the import with a preview
that refuses bad cells by their address and changes nothing until applied."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import t
from tests.judging_setup import autosave, build, sheet_state, sign_in, snapshot
from tests.pdf import pdf_text


@pytest.fixture
def setup(app):
    return build(app, n_entries=2, n_judges=2)


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    return client, sign_in(client, setup.admin_email)


def _base(setup):
    return f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/paper"


def _template(client, setup):
    response = client.get(f"{_base(setup)}/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def _upload(client, token, setup, wb, finalise=False):
    out = io.BytesIO()
    wb.save(out)
    data = {"csrf_token": token, "file": (io.BytesIO(out.getvalue()), "nilai.xlsx")}
    if finalise:
        data["finalise"] = "y"
    return client.post(f"{_base(setup)}/import", data=data, content_type="multipart/form-data")


def _rows(ws):
    """(row number, entry code, judge e-mail, criterion key) of the template's rows."""
    return [
        (r, ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value)
        for r in range(2, ws.max_row + 1)
    ]


def test_template_has_one_row_per_open_sheet_and_criterion(app, setup, admin):
    client, _token = admin
    ws = _template(client, setup)["Nilai"]
    assert [c.value for c in ws[1]] == [
        "kode_entri",
        "email_juri",
        "kode_kriteria",
        "kriteria",
        "min",
        "maks",
        "langkah",
        "nilai",
        "komentar",
    ]
    assert len(_rows(ws)) == 2 * 2 * 2  # entries × judges × criteria


def test_import_preview_then_apply_with_decimal_comma(app, setup, admin):
    from monev.judging.models import ScoreChange

    client, token = admin
    wb = _template(client, setup)
    ws = wb["Nilai"]
    for row, code, email, key in _rows(ws):
        if code == "K-001" and email == setup.judges[0]["email"]:
            ws.cell(row, 8).value = "8,5" if key == "c1" else 250.25
            ws.cell(row, 9).value = "Ditulis di formulir kertas" if key == "c1" else None
    before = snapshot(app)
    response = _upload(client, token, setup, wb, finalise=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert t(app, "%(n)d scores will change; %(u)d rows are as already saved.", n=2, u=6) in page
    assert "250,25" in page and "8,5" in page
    assert t(app, "Sheets that will be final: %(n)d.", n=1) in page
    assert snapshot(app) == before  # the preview writes nothing
    token_value = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post(
        f"{_base(setup)}/apply", data={"csrf_token": token, "token": token_value}
    )
    assert response.status_code == 303
    status, _version, scores = sheet_state(app, setup.assignment(0, 0))
    assert status == "final"
    assert scores[setup.criteria[0]] == (Decimal("8.5"), "Ditulis di formulir kertas")
    assert scores[setup.criteria[1]][0] == Decimal("250.25")
    from sqlalchemy import select

    from monev.extensions import db

    with app.app_context():
        sources = set(db.session.scalars(select(ScoreChange.source)))
        assert sources == {"paper"}
    # The same token cannot be applied twice.
    again = client.post(f"{_base(setup)}/apply", data={"csrf_token": token, "token": token_value})
    assert again.status_code == 303
    assert sheet_state(app, setup.assignment(0, 0))[1] == _version


def test_bad_cells_are_refused_by_address_and_nothing_changes(app, setup, admin):
    client, token = admin
    judge = app.test_client()
    jtoken = sign_in(judge, setup.judges[1]["email"])
    # judge 2 finalises K-002 online
    judge.post(
        f"/judge/sheets/{setup.assignment(1, 1)}/finalise",
        data={
            "csrf_token": jtoken,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "5",
            f"value-{setup.criteria[1]}": "5",
        },
    )
    wb = _template(client, setup)
    ws = wb["Nilai"]
    rows = _rows(ws)
    r1, r2, r3, r4 = (r for r, *_ in rows[:4])
    ws.cell(r1, 8).value = "١٠"  # Arabic-Indic digits
    ws.cell(r2, 8).value = 1000.001  # off the 0.01 step
    ws.cell(r3, 8).value = 11  # c1 is 1–10
    ws.cell(r4, 8).value = "-0"
    n = ws.max_row
    ws.append(["K-404", setup.judges[0]["email"], "c1", "", 1, 10, 0.5, 5, None])  # unknown entry
    ws.append(["K-001", "bukan.juri@uji.monev.id", "c1", "", 1, 10, 0.5, 5, None])  # not assigned
    ws.append(["K-001", setup.judges[0]["email"], "c9", "", 1, 10, 0.5, 5, None])  # no criterion
    ws.append(["K-002", setup.judges[1]["email"], "c1", "", 1, 10, 0.5, 6, None])  # final sheet
    ws.append(["K-001", setup.judges[0]["email"], "c1", "", 1, 10, 0.5, 6, None])  # duplicate
    ws.append(["K-001", setup.judges[0]["email"], "c2", "", 0, 1000, 0.01, "５", None])  # dup too
    before = snapshot(app)
    response = _upload(client, token, setup, wb)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Nothing was imported. Fix these cells and upload the file again:") in page
    cells = re.findall(r"<li><strong>([A-Z]+\d+)</strong>", page)
    assert cells == [
        f"H{r1}",
        f"H{r2}",
        f"H{r3}",
        f"H{r4}",
        f"A{n + 1}",
        f"B{n + 2}",
        f"C{n + 3}",
        f"H{n + 4}",
        f"C{n + 5}",
        f"C{n + 6}",
    ]
    assert "Import these scores" not in page and 'name="token"' not in page
    assert snapshot(app) == before


def test_changes_after_the_preview_are_not_overwritten(app, setup, admin):
    client, token = admin
    wb = _template(client, setup)
    ws = wb["Nilai"]
    row = next(
        r
        for r, code, email, key in _rows(ws)
        if code == "K-001" and key == "c1" and email == setup.judges[0]["email"]
    )
    ws.cell(row, 8).value = 7
    page = _upload(client, token, setup, wb).get_data(as_text=True)
    token_value = re.search(r'name="token" value="([^"]+)"', page).group(1)
    judge = app.test_client()
    jtoken = sign_in(judge, setup.judges[0]["email"])
    assert (
        autosave(judge, jtoken, setup.assignment(0, 0), setup.criteria[0], "9", 0).status_code
        == 200
    )
    before = snapshot(app)
    response = client.post(
        f"{_base(setup)}/apply", data={"csrf_token": token, "token": token_value}
    )
    assert response.status_code == 303
    assert snapshot(app) == before
    assert sheet_state(app, setup.assignment(0, 0))[2][setup.criteria[0]][0] == Decimal("9")


def test_not_a_workbook_is_refused(app, setup, admin):
    client, token = admin
    data = {"csrf_token": token, "file": (io.BytesIO(b"PK\x03\x04 not really"), "nilai.xlsx")}
    response = client.post(f"{_base(setup)}/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert t(app, "This is not an Excel workbook (.xlsx).") in response.get_data(as_text=True)


def test_printable_form_is_a_pdf_with_the_rubric(app, setup, admin):
    client, _token = admin
    response = client.get(f"{_base(setup)}/forms/{setup.entries[0]}")
    assert response.status_code == 200
    if response.mimetype != "application/pdf":
        pytest.skip("WeasyPrint is not installed: the form is served as a page to print")
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "Akses informasi" in text and "K-001" in text and "1–4" in text.replace("-", "–")

"""KIM directory: operators see and change only their own district; validation; search."""

from __future__ import annotations

import re

from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.directory.models import Kim
from monev.extensions import db
from tests.conftest import count_queries, district, post, t


def kim_form(**overrides) -> dict:
    data = {
        "name": "KIM Pinang Raya",
        "district_id": "",
        "kecamatan": "Bengalon",
        "village_kind": "desa",
        "village": "Pinang Raya",
        "sk_number": "05/SK/DS-PR/2021",
        "sk_date": "2021-08-02",
        "chair_name": "Siti Rahmah",
        "members_count": "11",
        "phone": "0812 5500 1234",
        "email": "kim.pinangraya@contoh.id",
        "website": "https://pinangraya.desa.id",
        "social_links": "https://www.instagram.com/kimpinangraya\nhttps://facebook.com/kimpr",
        "description": "Komunitas informasi desa.",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_kim_with_new_kecamatan_and_desa(app, client, login_as):
    login_as("admin")
    with app.app_context():
        kutim = district("64.04").id
    response = post(client, "/kim/new", kim_form(district_id=kutim))
    assert response.status_code == 302
    with app.app_context():
        kim = db.session.scalar(select(Kim).where(Kim.name == "KIM Pinang Raya"))
        assert (kim.district.code, kim.kecamatan.name, kim.village.label) == (
            "64.04",
            "Bengalon",
            "Desa Pinang Raya",
        )
        assert kim.social_links == [
            "https://www.instagram.com/kimpinangraya",
            "https://facebook.com/kimpr",
        ]
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "kim.created"))
        assert entry.object_id == str(kim.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "KIM Pinang Raya" in page and "Kec." not in page or "Bengalon" in page


def test_operator_adds_a_kim_in_own_district_whatever_district_is_posted(app, client, login_as):
    login_as("operator", district_code="64.04")
    with app.app_context():
        berau = district("64.05").id
    response = post(client, "/kim/new", kim_form(district_id=berau))
    assert response.status_code == 302
    with app.app_context():
        kim = db.session.scalar(select(Kim).where(Kim.name == "KIM Pinang Raya"))
        assert kim.district.code == "64.04"  # the posted district is ignored


def test_operator_sees_only_own_district_in_the_list(client, login_as, make_kim):
    make_kim("KIM Teluk Pandan", district_code="64.04")
    make_kim("KIM Sungai Bedungun", district_code="64.05")
    login_as("operator", district_code="64.04")
    page = client.get("/kim/?district=0").get_data(as_text=True)
    assert "KIM Teluk Pandan" in page
    assert "KIM Sungai Bedungun" not in page
    # Asking for another district by URL changes nothing.
    page = client.get("/kim/?q=Bedungun").get_data(as_text=True)
    assert "KIM Sungai Bedungun" not in page


def test_operator_cannot_open_or_edit_another_districts_kim(app, client, login_as, make_kim):
    other = make_kim("KIM Sungai Bedungun", district_code="64.05")
    login_as("operator", district_code="64.04")
    assert client.get(f"/kim/{other.id}").status_code == 404
    assert client.get(f"/kim/{other.id}/edit").status_code == 404
    response = post(client, f"/kim/{other.id}/edit", kim_form(name="Diubah"))
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Kim, other.id).name == "KIM Sungai Bedungun"


def test_kim_account_edits_only_its_own_profile(app, client, login_as, make_kim):
    own = make_kim("KIM Teluk Lingga", district_code="64.04")
    other = make_kim("KIM Teluk Pandan", district_code="64.04")
    login_as("kim", kim=own)
    response = post(
        client,
        f"/kim/{own.id}/edit",
        kim_form(name="KIM Teluk Lingga", members_count="25"),
    )
    assert response.status_code == 302
    assert client.get(f"/kim/{other.id}/edit").status_code == 404
    assert client.get("/kim/").status_code == 403
    with app.app_context():
        assert db.session.get(Kim, own.id).members_count == 25


def test_duplicate_name_in_a_district_is_refused(app, client, login_as, make_kim):
    make_kim("KIM Teluk Pandan", district_code="64.04")
    login_as("operator", district_code="64.04")
    response = post(client, "/kim/new", kim_form(name="kim teluk pandan"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "A KIM with this name already exists in this kabupaten/kota.") in page
    assert 'value="kim teluk pandan"' in page  # input kept


def test_bad_input_is_refused_field_by_field_and_changes_nothing(app, client, login_as):
    login_as("operator", district_code="64.04")
    response = post(
        client,
        "/kim/new",
        kim_form(
            name="",
            website="javascript:alert(1)",
            phone="telp saya",
            email="bukan email",
            members_count="-3",
            sk_date="2099-01-01",
            social_links="ftp://contoh.id/file",
            kecamatan="K" * 81,
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for msgid, params in [
        ("Enter the KIM's name.", {}),
        ("Enter a full web address starting with http:// or https://.", {}),
        ("Enter a phone number of digits only, like 0812 3456 7890.", {}),
        ("Enter a valid e-mail address, like nama@contoh.id.", {}),
        ("Enter a number from 1 to 10,000.", {}),
        ("The SK date must be between 1990 and today.", {}),
        ("Use at most %(max)d characters.", {"max": 80}),
    ]:
        assert t(app, msgid, **params) in page, msgid
    assert "ftp://contoh.id/file" in page  # kept for correction
    with app.app_context():
        assert db.session.scalar(select(Kim)) is None


def test_not_a_date_gets_an_indonesian_message(app, client, login_as):
    login_as("operator", district_code="64.04")
    response = post(client, "/kim/new", kim_form(sk_date="31/02/2021"))
    assert response.status_code == 422
    assert t(app, "Not a valid date value.") in response.get_data(as_text=True)


def test_active_search_returns_only_the_results_fragment(client, login_as, make_kim):
    make_kim("KIM Teluk Pandan", district_code="64.04", village="Teluk Pandan")
    make_kim("KIM Klandasan Ilir", district_code="64.71", village="Klandasan Ilir")
    login_as("admin")
    response = client.get(
        "/kim/?q=pandan", headers={"HX-Request": "true", "HX-Target": "kim-results"}
    )
    page = response.get_data(as_text=True)
    assert "<html" not in page
    assert "KIM Teluk Pandan" in page and "KIM Klandasan Ilir" not in page
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/kim/?q=pandan").get_data(as_text=True)
    assert "<html" in full and "KIM Teluk Pandan" in full


def test_search_treats_percent_and_underscore_literally(client, login_as, make_kim):
    make_kim("KIM Teluk Pandan", district_code="64.04")
    login_as("admin")
    page = client.get("/kim/?q=%25").get_data(as_text=True)
    assert "KIM Teluk Pandan" not in page


def test_directory_list_query_count_does_not_grow_with_rows(app, client, login_as, make_kim):
    login_as("admin")
    make_kim(district_code="64.04")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        client.get("/kim/")
    for i in range(12):
        make_kim(district_code=["64.04", "64.05", "64.71"][i % 3])
    with count_queries(engine) as many:
        client.get("/kim/")
    assert len(many) == len(few)


def test_regions_page_lists_kaltim_and_kalbar_codes(client, login_as, make_kim):
    make_kim(district_code="64.04")
    login_as("admin")
    page = client.get("/regions/").get_data(as_text=True)
    for code, name in [
        ("64.04", "Kutai Timur"),
        ("64.03", "Kutai Kartanegara"),
        ("64.74", "Bontang"),
        ("61.12", "Kubu Raya"),
        ("61.71", "Pontianak"),
    ]:
        assert code in page and name in page
    district_page = client.get("/regions/64.04").get_data(as_text=True)
    assert "Sangatta Utara" in district_page


def test_a_date_field_also_reads_in_the_one_date_format(app, client, login_as):
    """The browser writes a date input's value in its own locale's order ("08/02/2021"); the
    line under it says the date the way every page does, and a wrong date keeps no stale line.
    """
    login_as("admin")
    with app.app_context():
        kutim = district("64.04").id
    bad = post(client, "/kim/new", kim_form(district_id=kutim, name="", sk_date="2021-08-02"))
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert t(app, "Reads as: %(date)s", date="2 Agu 2021") in page
    assert 'aria-describedby="sk_date-echo"' in page
    wrong = post(client, "/kim/new", kim_form(district_id=kutim, sk_date="2021-13-45"))
    assert re.search(r'data-date-echo="sk_date"[^>]*></small>', wrong.get_data(as_text=True))

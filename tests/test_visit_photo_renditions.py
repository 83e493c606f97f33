"""Small copies of the field visit photos (issue 17): made when a photo is stored (online and
through the offline sync, one service), kept next to it in the same storage (local folder and
S3), served by the photo's route with ``?size=small`` to the visit's team and the organiser
only, shown on the pages with their width and height and a link to the full photo, made on
first request for photos stored before them, printed (``print``) in the Berita Acara, and
removed with their photo (and kept by the janitor while the photo is)."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from monev.core.timeutil import utcnow
from monev.extensions import db
from tests import upload_corpus as corpus
from tests.judging_setup import sign_in
from tests.submission_fixtures import backend, s3  # noqa: F401  (fixtures)
from tests.test_visit_photos import (
    _photos,
    _post,
    _stored_files,
    _visit_id,
    judge_client,
    visit_setup,
)
from tests.test_visits import _kim_login


@pytest.fixture
def setup(app):
    return visit_setup(app)


@pytest.fixture
def judge(app, setup):
    return judge_client(app, setup)


BIG = (1600, 1200)  # a phone photo as the server keeps it (scaled to fit 2048 px)


def _photo_bytes(size=BIG) -> bytes:
    """A JPEG with detail (not one flat colour), so sizes mean something."""
    img = Image.effect_noise(size, 60).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _stored(app, key: str) -> bytes | None:
    from monev.storage import get_storage

    with app.app_context():
        storage = get_storage()
        if storage.size(key) is None:
            return None
        with storage.open(key) as fh:
            return fh.read()


def _small_key(key: str, name: str = "small") -> str:
    return key.rsplit(".", 1)[0] + f".{name}.jpg"


@pytest.mark.usefixtures("backend")
def test_storing_a_photo_makes_a_small_and_a_print_copy_without_exif(app, judge, setup):
    assert _post(judge, setup, photo=_photo_bytes()).status_code == 201
    (photo,) = _photos(app)
    assert (photo.width, photo.height) == BIG
    key = photo.storage_key
    assert _stored_files(app) == sorted([key, _small_key(key, "print"), _small_key(key)])
    original = _stored(app, key)
    for name, size, quality_cap in (("small", (400, 300), 0.2), ("print", (800, 600), 0.5)):
        data = _stored(app, _small_key(key, name))
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "JPEG" and img.size == size
            assert len(img.getexif()) == 0 and "exif" not in img.info
        assert len(data) < len(original) * quality_cap


def test_a_copy_carries_no_exif_or_gps_of_the_camera(app, judge, setup):
    assert _post(judge, setup, photo=corpus.jpeg_with_gps()).status_code == 201
    (photo,) = _photos(app)
    data = _stored(app, _small_key(photo.storage_key))
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert len(exif) == 0 and not exif.get_ifd(corpus.GPS_IFD)
        assert img.size == (300, 400)  # upright like the original, smaller than the box
    assert b"KameraDesa" not in data


def test_a_png_photo_gets_jpeg_copies_with_its_transparency_on_white(app, judge, setup):
    img = Image.new("RGBA", (1000, 500), (0, 0, 0, 0))
    out = io.BytesIO()
    img.save(out, "PNG")
    assert _post(judge, setup, photo=out.getvalue()).status_code == 201
    (photo,) = _photos(app)
    assert photo.storage_key.endswith(".png")
    with Image.open(io.BytesIO(_stored(app, _small_key(photo.storage_key)))) as small:
        assert small.format == "JPEG" and small.size == (400, 200)
        assert small.convert("RGB").getpixel((200, 100)) == (255, 255, 255)


def test_the_small_copy_is_served_to_the_team_and_the_organiser_only(app, judge, setup):
    body = _post(judge, setup, photo=_photo_bytes()).get_json()["photo"]
    url = body["thumbnail_url"]
    assert url == f"/schedule/visits/photos/{body['id']}?size=small"
    own = judge.get(url)
    assert own.status_code == 200 and own.mimetype == "image/jpeg"
    assert own.headers["Cache-Control"] == "private, max-age=86400"
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(own.data)) as img:
        assert img.size == (400, 300)
    teammate = app.test_client()
    sign_in(teammate, setup.judges[1]["email"])
    assert teammate.get(url).status_code == 200
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    assert admin.get(url).status_code == 200
    outsider = app.test_client()
    sign_in(outsider, setup.judges[2]["email"])
    assert outsider.get(url).status_code == 404
    assert _kim_login(app, setup, 0).get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # to the login
    assert judge.get(url.replace("small", "huge")).status_code == 404
    assert judge.get(url.replace("small", "../x")).status_code == 404


@pytest.mark.usefixtures("backend")
def test_a_photo_stored_before_copies_existed_gets_one_on_first_request(app, judge, setup):
    from monev.storage import get_storage

    body = _post(judge, setup, photo=_photo_bytes()).get_json()["photo"]
    (photo,) = _photos(app)
    with app.app_context():  # as it was before this change: the photo only
        for name in ("small", "print"):
            get_storage().delete(_small_key(photo.storage_key, name))
    assert _stored_files(app) == [photo.storage_key]
    page = judge.get(f"/judge/sheets/{setup.assignment(0, 0)}").get_data(as_text=True)
    assert body["thumbnail_url"] in page
    served = judge.get(body["thumbnail_url"])
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.data)) as img:
        assert img.size == (400, 300)
    assert _stored(app, _small_key(photo.storage_key)) == served.data  # kept for next time
    assert judge.get(body["url"]).data == _stored(app, photo.storage_key)  # the full one


def test_a_copy_of_a_photo_whose_file_is_gone_is_404(app, judge, setup):
    from monev.storage import get_storage

    body = _post(judge, setup, photo=_photo_bytes()).get_json()["photo"]
    with app.app_context():
        for key in _stored_files(app):
            get_storage().delete(key)
    assert judge.get(body["thumbnail_url"]).status_code == 404
    assert _stored_files(app) == []


@pytest.mark.usefixtures("backend")
def test_removing_the_photo_removes_its_copies(app, judge, setup):
    photo_id = _post(judge, setup, photo=_photo_bytes()).get_json()["photo"]["id"]
    assert len(_stored_files(app)) == 3
    url = f"/judge/sheets/{setup.assignment(0, 0)}/photos/{photo_id}/delete"
    step = judge.get(url).get_data(as_text=True)
    assert f"/schedule/visits/photos/{photo_id}?size=small" in step
    done = judge.post(url, data={"csrf_token": judge.token, "confirm": "y"})
    assert done.status_code == 303
    assert _photos(app) == [] and _stored_files(app) == []


def test_a_copy_shared_with_another_photo_stays_until_the_last_one_goes(app, judge, setup):
    content = _photo_bytes()
    first = _post(judge, setup, photo=content).get_json()["photo"]["id"]
    _post(judge, setup, photo=content, client_key="foto-kunci-0002", criterion=1)
    files = _stored_files(app)
    assert len(files) == 3  # the same image: stored once, with its copies
    url = f"/judge/sheets/{setup.assignment(0, 0)}/photos/{first}/delete"
    judge.post(url, data={"csrf_token": judge.token, "confirm": "y"})
    assert _stored_files(app) == files


def test_the_janitor_keeps_the_copies_of_a_photo_and_sweeps_those_of_none(app, judge, setup):
    from monev.ops import janitor
    from monev.storage import get_storage

    _post(judge, setup, photo=_photo_bytes())
    (photo,) = _photos(app)
    stray = "visit-photo-0123456789abcdef.small.jpg"  # a copy whose photo went long ago
    with app.app_context():
        get_storage().put_bytes(stray, b"\xff\xd8 old", "image/jpeg")
        report = janitor.sweep(now=utcnow() + timedelta(days=2))
    assert report.removed_keys == [stray]
    assert _stored_files(app) == sorted(
        [photo.storage_key, _small_key(photo.storage_key), _small_key(photo.storage_key, "print")]
    )


IMG = re.compile(r'<a href="(/schedule/visits/photos/\d+)"><img src="([^"]+)"[^>]*>')


def _thumbs(page: str) -> list[tuple[str, str, str]]:
    """(link, src, the img tag) of every photo thumbnail on a page."""
    return [(m[1], m[2].replace("&amp;", "&"), m[0]) for m in IMG.finditer(page)]


def test_the_pages_show_the_small_copy_sized_and_link_the_full_photo(app, judge, setup):
    from monev.judging.models import ScoreSheet

    _post(judge, setup, photo=_photo_bytes())
    _post(judge, setup, photo=corpus.jpeg_with_gps(), client_key="foto-kunci-0002", criterion=1)
    ids = [p.id for p in _photos(app)]
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id))
    vid = _visit_id(app, setup)
    pages = {
        "sheet": judge.get(f"/judge/sheets/{setup.assignment(0, 0)}"),
        "visit": judge.get(f"/schedule/visits/{vid}"),
        "admin visit": admin.get(f"/schedule/visits/{vid}"),
        "admin sheet": admin.get(f"/admin/events/{setup.slug}/judging/sheets/{sheet_id}"),
        "results": admin.get(f"/admin/events/{setup.slug}/results/entries/{setup.entries[0]}"),
    }
    sizes = {ids[0]: ("400", "300"), ids[1]: ("300", "400")}
    for name, response in pages.items():
        assert response.status_code == 200, name
        thumbs = _thumbs(response.get_data(as_text=True))
        assert len(thumbs) == 2, name
        for (link, src, tag), photo_id in zip(thumbs, ids, strict=True):
            assert link == f"/schedule/visits/photos/{photo_id}", name
            assert src == f"{link}?size=small", name
            width, height = sizes[photo_id]
            assert f'width="{width}" height="{height}"' in tag, name


def test_the_berita_acara_prints_the_print_copy(app, judge, setup):
    from monev.judging import minutes
    from monev.judging.models import Visit
    from monev.storage import get_storage

    _post(judge, setup, photo=_photo_bytes())
    (photo,) = _photos(app)
    with app.app_context():
        get_storage().delete(_small_key(photo.storage_key, "print"))  # an older photo
    with app.test_request_context():
        visit = db.session.get(Visit, _visit_id(app, setup))
        (shown,) = minutes.minutes_context(visit)["photos"]
        data = base64.b64decode(shown["src"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (800, 600)  # ~250 dpi at 80 mm
    assert _stored(app, _small_key(photo.storage_key, "print")) == data  # made and kept
    pdf = judge.get(f"/schedule/visits/{_visit_id(app, setup)}/berita-acara.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize("size", [(2400, 1800), (300, 200)])
def test_rendition_sizes_follow_the_long_side_and_never_enlarge(size):
    from monev.storage.images import rendition_size

    width, height = rendition_size(*size, "small")
    assert max(width, height) == min(400, max(size))
    assert abs(width / height - size[0] / size[1]) < 0.01

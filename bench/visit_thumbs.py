"""Bytes of a score sheet's photo thumbnails before and after the small copies (issue 17).

A fresh instance (SQLite, local storage, in this process through Flask's test client) gets
the demo data; its first judge takes N photos on the visit of today (KIM Teluk Pandan), each
a phone-like JPEG of 1600 x 1200 px with detail (a gradient, shapes and grain, ~300-400 KB
once stored): posted to the sheet's photo endpoint as the phone does (stamp, position, key).
Then the judge's sheet is loaded and every thumbnail it shows (each ``<img>`` inside a link
to a photo) is fetched as the browser would:

- *before*: what the page loaded until now, the full photo behind each thumbnail's link;
- *after*: what the page loads now, its ``src`` (the ``?size=small`` copy).

Exits 1 when a thumbnail is not the small copy, when its width/height attributes are not
those of the image served, or when the thumbnails weigh more than 20 % of the full photos.

    .venv/bin/python bench/visit_thumbs.py [--photos 5]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

JUDGE = "juri1@demo.monev.id"
PASSWORD = "monev-bench"  # noqa: S105 - a throwaway demo instance
LIMIT = 0.20
THUMB = re.compile(r'<a href="([^"]+)"><img src="([^"]+)"[^>]*width="(\d+)" height="(\d+)"')


def phone_photo(seed: int) -> bytes:
    """A 1600 x 1200 JPEG (quality 92, as phones save) with some detail, so its size is
    near a real photo's and not that of a flat colour."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    w, h = 1600, 1200
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    img = Image.merge(
        "RGB", [img.getchannel(0).point(lambda v, k=k: (v * k) % 256) for k in (1, 2, 3)]
    )
    draw = ImageDraw.Draw(img)
    for _ in range(120):
        x, y = rnd.randrange(w), rnd.randrange(h)
        r = rnd.randrange(10, 160)
        color = tuple(rnd.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.effect_noise((w, h), 18).convert("RGB")
    img = Image.blend(img, grain, 0.12)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def prepare(app):
    """The demo; the visit of today's assignment of the first judge and its criteria."""
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import select

    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.demo import loader
    from monev.extensions import db
    from monev.judging.models import Assignment, Visit
    from monev.rubrics.models import Criterion

    with app.app_context():
        logging.disable(logging.INFO)
        upgrade(directory=str(ROOT / "migrations"))
        logging.disable(logging.NOTSET)
        with write_intent():
            loader.load(PASSWORD)
            db.session.commit()
        judge = db.session.scalar(select(User).where(User.email == JUDGE))
        visit = db.session.scalars(select(Visit).order_by(Visit.starts_at)).first()
        assignment = db.session.scalar(
            select(Assignment).where(
                Assignment.stage_id == visit.stage_id,
                Assignment.entry_id == visit.entry_id,
                Assignment.judge_id == judge.id,
            )
        )
        criteria = list(
            db.session.scalars(
                select(Criterion.id)
                .where(Criterion.stage_id == visit.stage_id)
                .order_by(Criterion.id)
            )
        )
        return assignment.id, criteria, float(visit.latitude), float(visit.longitude)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()

    from board import sign_in
    from load import make_app

    with tempfile.TemporaryDirectory(prefix="monev-thumbs-") as tmp:
        os.environ["MONEV_INSTANCE_PATH"] = tmp
        app = make_app(f"sqlite:///{tmp}/monev.db", "bench-thumbs-" + "0" * 32)
        assignment, criteria, lat, lon = prepare(app)
        client = app.test_client()
        sign_in(client, JUDGE)
        sheet_url = f"/judge/sheets/{assignment}"
        page = client.get(sheet_url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if token is None:
            print("no CSRF token on the sheet", file=sys.stderr)
            return 1
        uploaded = 0
        for i in range(args.photos):
            photo = phone_photo(i)
            uploaded += len(photo)
            answer = client.post(
                f"{sheet_url}/visit/{criteria[i % len(criteria)]}/photos",
                data={
                    "csrf_token": token[1],
                    "taken_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                    "latitude": f"{lat + 0.0003:.6f}",
                    "longitude": f"{lon:.6f}",
                    "accuracy": "8",
                    "client_key": f"bench-foto-{i:04d}",
                    "photo": (io.BytesIO(photo), f"foto-{i}.jpg"),
                },
                headers={"Accept": "application/json"},
                content_type="multipart/form-data",
            )
            if answer.status_code != 201:
                print("photo refused:", answer.status_code, answer.get_data(as_text=True))
                return 1
        page_response = client.get(sheet_url)
        html = page_response.get_data(as_text=True)
        thumbs = THUMB.findall(html)
        before = after = 0
        ok = len(thumbs) == args.photos
        for link, src, width, height in thumbs:
            link, src = unescape(link), unescape(src)
            full = client.get(link)
            small = client.get(src)
            before += len(full.data)
            after += len(small.data)
            from PIL import Image

            with Image.open(io.BytesIO(small.data)) as img:
                size = img.size
            if "size=small" not in src or size != (int(width), int(height)):
                print(f"not the small copy: {src} {size} vs {width}x{height}")
                ok = False
        ratio = after / before if before else float("inf")
        print(
            f"visit thumbnails: {len(thumbs)} photos on the judge's sheet, "
            f"{uploaded / 1024:.0f} KB uploaded (1600 x 1200 JPEGs), SQLite, local storage"
        )
        print(f"sheet page (HTML): {len(page_response.data) / 1024:.1f} KB")
        print(f"images before (the full photos): {before / 1024:.0f} KB")
        print(f"images after (the small copies): {after / 1024:.0f} KB")
        print(f"after / before: {ratio:.1%} (target <= {LIMIT:.0%})")
        print(f"took {time.perf_counter() - started:.1f} s")
        ok = ok and ratio <= LIMIT
        print("OK" if ok else "MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

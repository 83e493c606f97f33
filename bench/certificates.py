"""Certificate batch rendering against the naive way, measured in the same run.

An event with a realistic design (uploaded logo, full-page background photo, three
signatories with signature images, long wrapped KIM names, a QR code per certificate) and
``N`` issued participant certificates, for N = 50 and 500, in a migrated SQLite database.

naive    one ``HTML(...).write_pdf()`` per certificate: the same template drawn in one pass
         (``layer="all"``), one PDF each.
batch    what the background job does: ``monev.certificates.services.pdfs`` 100 certificates
         at a time (the design rendered once, the changing parts of the 100 laid out in one
         document, the design put under every page as one shared form XObject with pikepdf,
         QR codes drawn as PDF operators, then one PDF per certificate), each written to a
         file, then ``services.merge`` reading them back one by one into the merged PDF.

Each measurement runs in a fresh forked process, so its peak RSS (``ru_maxrss``) is its own.
Prints certificates per second and the ratio batch / naive.

Usage: .venv/bin/python bench/certificates.py [--sizes 50,500] [--naive-sample 100] [--run 100]
       .venv/bin/python bench/certificates.py --signing [--sizes 50,100]  (signed vs unsigned)
The naive rate at 500 is measured on ``--naive-sample`` certificates (it is linear: one
independent document each); pass ``--naive-sample 500`` to time all of them.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUN = 100  # certificates per step, as the background job (MONEV_CERTIFICATE_BATCH_CHUNK)
NAMES = (
    "KIM Maju Bersama Membangun Negeri Desa Sangatta Utara Kecamatan Sangatta Utara",
    "KIM Pesut Mahakam",
    "KIM Sebulu Modern",
    "Komunitas Informasi Masyarakat Bina Warga Sejahtera Kelurahan Sempaja Selatan",
)


def make_app(db_path: Path, instance: Path, signing: dict | None = None):
    from monev import create_app

    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "STORAGE_DIR": str(instance / "files"),
            "PUBLIC_BASE_URL": "https://monev.diskominfo.kaltimprov.go.id",
            **(signing or {"SIGNING_BACKEND": ""}),
        }
    )


def _image(size, draw, fmt="PNG", mode="RGBA") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else (250, 247, 238))
    draw(ImageDraw.Draw(image), size)
    out = io.BytesIO()
    image.save(out, fmt, quality=85)
    return out.getvalue()


def _logo(d, size):
    d.ellipse((20, 20, size[0] - 20, size[1] - 20), fill=(11, 79, 108), outline=(201, 162, 39))
    d.rectangle((200, 150, 400, 450), fill=(201, 162, 39))


def _background(d, size):
    for y in range(0, size[1], 12):
        d.line((0, y, size[0], y + 300), fill=(236, 228, 205), width=4)


def _signature(d, size):
    pts = [(x, 100 + int(40 * ((x // 37) % 3 - 1))) for x in range(20, size[0] - 20, 23)]
    d.line(pts, fill=(20, 30, 90, 255), width=6)


def build(app, n: int) -> None:
    from sqlalchemy import func, insert, select

    from monev.certificates import services
    from monev.certificates.models import CertificateSettings
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.events.models import Category, Event
    from monev.extensions import db
    from monev.regions.models import District
    from monev.storage import get_storage

    with app.test_request_context():
        s = db.session
        event = Event(
            slug=f"bench-{n}",
            title="Monitoring dan Evaluasi KIM Provinsi Kalimantan Timur Tahun 2024",
            year=2024,
            organiser="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
            status="published",
        )
        s.add(event)
        s.flush()
        storage = get_storage()
        images = {
            f"events/{event.id}/logo.png": _image((600, 600), _logo),
            f"certificates/{event.id}/background.jpg": _image(
                (2480, 1754), _background, "JPEG", "RGB"
            ),
        }
        for i in range(3):
            images[f"certificates/{event.id}/signature-{i}.png"] = _image((600, 200), _signature)
        for key, content in images.items():
            storage.put_bytes(key, content, "image/png" if key.endswith("png") else "image/jpeg")
        event.logo_path = f"events/{event.id}/logo.png"
        s.add(
            CertificateSettings(
                event_id=event.id,
                number_pattern="{seq:03d}/MONEV-KIM/{year}",
                place="Samarinda",
                primary_colour="#0b4f6c",
                accent_colour="#c9a227",
                background_key=f"certificates/{event.id}/background.jpg",
                signatories=[
                    {
                        "name": name,
                        "title": title,
                        "nip": nip,
                        "signature_key": f"certificates/{event.id}/signature-{i}.png",
                    }
                    for i, (name, title, nip) in enumerate(
                        [
                            ("Dra. Hj. Siti Aminah, M.Si", "Ketua Dewan Juri", ""),
                            ("Ir. Budi Santoso, M.T.", "Ketua Panitia", "198001012005011002"),
                            (
                                "Dr. Muhammad Faisal, M.Si",
                                "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
                                "197001011990031001",
                            ),
                        ]
                    )
                ],
            )
        )
        category = Category(event_id=event.id, key="desa", name="KIM Desa", position=0)
        s.add(category)
        s.flush()
        districts = list(s.scalars(select(District.id).limit(10)))
        first_kim = (s.scalar(select(func.max(Kim.id))) or 0) + 1
        s.execute(
            insert(Kim),
            [
                {
                    "name": f"{NAMES[i % len(NAMES)]} {n}-{i}",
                    "district_id": districts[i % 10],
                    "search_text": "",
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(Entry),
            [
                {
                    "event_id": event.id,
                    "kim_id": first_kim + i,
                    "category_id": category.id,
                    "code": f"P-{i:04d}",
                    "nomination_status": "accepted",
                    "submission_status": "verified",  # participants were submitted, verified
                }
                for i in range(n)
            ],
        )
        services.issue(event, "participant")
        s.commit()


def _measure(db_path, instance, slug, how, limit, run, signing=None):
    from monev.certificates import services
    from monev.certificates import signing as cert_signing
    from monev.events.queries import get_by_slug
    from monev.pdf.rendering import html_to_pdf, shutdown_pools

    app = make_app(db_path, instance, signing if how.endswith("-signed") else None)
    with app.test_request_context():
        certs = services.for_event(get_by_slug(slug))[:limit]
        # Warm-up outside the timing (imports, font loading), the same for both ways.
        html_to_pdf(services.one_pass_html(certs[0]))
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        if how == "naive":
            settings = services.settings_for(certs[0].event)
            total = 0
            for cert in certs:
                total += len(html_to_pdf(services.one_pass_html(cert, settings)))
            merged = 0
        else:
            # As the background job does: a run of certificates at a time, each PDF to
            # storage (here a folder), then the merged PDF read back one file at a time.
            processes = 2 if how.startswith("batch-2p") else 1
            folder = Path(tempfile.mkdtemp(dir=instance))
            signer = cert_signing.backend()
            if signer is not None:  # warm-up: the key, the TSA session
                cert_signing.sign(certs[0], html_to_pdf(services.one_pass_html(certs[0])))
                t0 = time.perf_counter()
                cpu0 = time.process_time()
            if signer is None:
                paths = services.write_files(certs, folder, run=run, processes=processes)
            else:  # as the job: each step's PDFs signed after rendering, written once
                paths = []
                for start in range(0, len(certs), run):
                    part = certs[start : start + run]
                    rendered = services.pdfs(part, processes=processes)
                    signed = cert_signing.sign_all(part, rendered, processes=processes)
                    for cert, content in zip(part, signed, strict=True):
                        path = folder / services.filename(cert)
                        path.write_bytes(content)
                        paths.append(path)
            total = sum(p.stat().st_size for p in paths)
            t_singles = time.perf_counter() - t0
            merged = len(services.merge(p.read_bytes() for p in paths))
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        shutdown_pools()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The largest worker process's peak (the rendering pool's, stopped just above).
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": len(certs),
        "seconds": elapsed,
        # CPU of this process and its rendering workers (not the TSA's): on a busy machine
        # the rates vary with the neighbours, the CPU per certificate much less.
        "cpu_seconds": cpu + children.ru_utime + children.ru_stime,
        "singles_seconds": t_singles if how != "naive" else elapsed,
        "peak_mb": peak_mb,
        "worker_mb": workers,
        "bytes": total,
        "merged_bytes": merged,
    }


def measure(db_path, instance, slug, how, limit, run=RUN, signing=None) -> dict:
    """Run one measurement in a fresh child process (its own peak memory); errors propagate."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measure, db_path, instance, slug, how, limit, run, signing).result()


def signing_bench(db_path, instance, sizes, run) -> None:
    """Batch unsigned against the same batch signed with a PKCS#12 file and a local TSA
    (certomancer's, served over HTTP by this process: PAdES B-T, one timestamp each)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.signing_pki import PASSPHRASE, make_pki, tsa_server

    pki = make_pki(instance / "pki")
    tsa = tsa_server(pki)
    signing = {
        "SIGNING_BACKEND": "pkcs12",
        "SIGNING_PKCS12": str(pki.pkcs12("signer")),
        "SIGNING_PKCS12_PASSPHRASE": PASSPHRASE,
        "SIGNING_TSA_URL": tsa.url,
    }
    print(
        f"{'N':>5} {'way':>16} {'cert/s':>8} {'signed/unsigned':>16} {'CPU ms/cert':>12} "
        f"{'peak MB':>8}"
    )
    try:
        for n in sizes:
            for way in ("batch", "batch-2p"):
                rates = {}
                for how in (way, f"{way}-signed"):
                    result = measure(db_path, instance, f"bench-{n}", how, n, run, signing)
                    rates[how] = result["n"] / result["seconds"]
                    ratio = rates[how] / rates[way]
                    cpu_ms = result["cpu_seconds"] / result["n"] * 1000
                    print(
                        f"{n:>5} {how:>16} {rates[how]:>8.1f} {ratio:>16.2f} {cpu_ms:>12.0f} "
                        f"{result['peak_mb']:>8.0f}"
                    )
    finally:
        tsa.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500")
    parser.add_argument("--naive-sample", type=int, default=100)
    parser.add_argument(
        "--run", type=int, default=RUN, help="certificates per step (the job's chunk size)"
    )
    parser.add_argument(
        "--signing",
        action="store_true",
        help="batch unsigned against the same batch signed (PKCS#12 and a local TSA)",
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        db_path = instance / "bench.db"
        app = make_app(db_path, instance)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        for n in sizes:
            build(app, n)
        from monev.extensions import db

        with app.app_context():
            db.engine.dispose()

        if args.signing:
            signing_bench(db_path, instance, sizes, args.run)
            return
        print(f"{'N':>5} {'way':>8} {'timed':>6} {'cert/s':>8} {'ratio':>6} {'peak MB':>8}")
        for n in sizes:
            slug = f"bench-{n}"
            naive = measure(db_path, instance, slug, "naive", min(n, args.naive_sample))
            naive_rate = naive["n"] / naive["seconds"]
            print(
                f"{n:>5} {'naive':>8} {naive['n']:>6} {naive_rate:>8.1f} {1.0:>6.2f} "
                f"{naive['peak_mb']:>8.0f}"
            )
            for way in ("batch", "batch-2p"):
                batch = measure(db_path, instance, slug, way, n, args.run)
                batch_rate = batch["n"] / batch["seconds"]
                singles_rate = batch["n"] / batch["singles_seconds"]
                print(
                    f"{n:>5} {way:>8} {batch['n']:>6} {batch_rate:>8.1f} "
                    f"{batch_rate / naive_rate:>6.2f} {batch['peak_mb']:>8.0f}"
                    + (f" + {batch['worker_mb']:.0f} per worker" if way == "batch-2p" else "")
                    + "\n      "
                    f"   (PDFs alone {singles_rate / naive_rate:.2f}×,"
                    f" {batch['bytes'] / batch['n'] / 1024:.0f} KB each;"
                    f" merged {batch['merged_bytes'] / 1024 / 1024:.1f} MB)"
                )


if __name__ == "__main__":
    main()

"""``flask --app monev certificates SLUG --out DIR``: every live certificate of an event as
one PDF each, plus all of them merged into ``<slug>-semua.pdf``. Rendered in chunks (like the
background batch), with a progress bar."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app

from monev.certificates import services, signing
from monev.events.queries import get_by_slug


def register(app: Flask) -> None:
    @app.cli.command("certificates")
    @click.argument("slug")
    @click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder for the PDFs (created if missing).",
    )
    def certificates_command(slug: str, out: Path):
        """Write the live certificates of event SLUG as PDFs into OUT."""

        event = get_by_slug(slug)
        if event is None:
            raise click.ClickException(f"No event with the slug {slug!r}.")
        live = [c for c in services.for_event(event) if c.revoked_at is None]
        if not live:
            raise click.ClickException("The event has no live certificates: issue them first.")
        out.mkdir(parents=True, exist_ok=True)
        chunk = max(1, int(current_app.config["CERTIFICATE_BATCH_CHUNK"]))
        processes = max(1, int(current_app.config["CERTIFICATE_PROCESSES"]))
        with click.progressbar(length=len(live), label="Certificates", show_pos=True) as bar:
            paths = services.write_files(
                live, out, run=chunk, processes=processes, progress=bar.update
            )
        if signing.backend() is not None:  # signed after the QR is drawn, like the batch
            with click.progressbar(live, label="Signing") as certs:
                for cert, path in zip(certs, paths, strict=True):
                    path.write_bytes(signing.sign(cert, path.read_bytes()))
        merged = out / f"{event.slug}-semua.pdf"
        merged.write_bytes(services.merge(p.read_bytes() for p in paths))
        click.echo(f"{len(live)} certificates written to {out}; all in one: {merged.name}")

    @app.cli.command("verify-pdf")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def verify_pdf_command(file: Path):
        """Check FILE as the verification page does: its electronic signature (intact,
        whole, who and when, trusted) and its certificate record. Exit 0 only when it is
        genuine, 1 when it is not."""
        from flask_babel import force_locale

        from monev.certificates import pdfcheck

        with quiet_third_party():
            result = pdfcheck.check(file.read_bytes())
        marks = {"ok": "✓", "warn": "!", "bad": "✗", "info": "·"}
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "id")):
            shown = pdfcheck.outcome(result, current_app.config["BABEL_DEFAULT_TIMEZONE"])
            verdict = shown.verdict
            click.echo(f"{marks[verdict.level]} {verdict.title}: {verdict.reason}")
            click.echo("")
            for finding in shown.findings:
                click.echo(f"  {marks[finding.level]} {finding.text}")
            if shown.record:
                click.echo("")
                for label, value in shown.record:
                    click.echo(f"  {label}: {value}")
        raise SystemExit(0 if result.genuine else 1)


@contextmanager
def quiet_third_party():
    """Only during the check, and only for whoever runs ``verify-pdf``, keep two things of
    pyHanko's off stderr that say nothing the verdict does not say better:

    - the cryptography APIs it imports that cryptography has deprecated (DSA): that category
      from those modules only; every other warning still shows;
    - its validator's log with a traceback when a signer does not chain to a trusted root
      ("Failed to build path"): the verdict says *not verified* and why. Its loggers are
      put back as they were (the /verify page keeps its log)."""
    import logging
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                category=CryptographyDeprecationWarning,
                module=r"(pyhanko|pyhanko_certvalidator|certomancer)(\.|$)",
            )
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

"""``flask --app monev certificates SLUG --out DIR``: every live certificate of an event as
one PDF each, plus all of them merged into ``<slug>-semua.pdf``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


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
        from monev.certificates import services
        from monev.certificates.rendering import render_merged_pdf
        from monev.events.queries import get_by_slug

        event = get_by_slug(slug)
        if event is None:
            raise click.ClickException(f"No event with the slug {slug!r}.")
        live = [c for c in services.for_event(event) if c.revoked_at is None]
        if not live:
            raise click.ClickException("The event has no live certificates: issue them first.")
        out.mkdir(parents=True, exist_ok=True)
        contexts = []
        for cert in live:
            context = services.context(cert)
            contexts.append(context)
            (out / services.filename(cert)).write_bytes(
                services.render_pdf("certificates/certificate.html", context)
            )
        merged = out / f"{event.slug}-semua.pdf"
        merged.write_bytes(render_merged_pdf("certificates/certificate.html", contexts))
        click.echo(f"{len(live)} certificates written to {out}; all in one: {merged.name}")

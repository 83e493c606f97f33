"""``flask --app monev certificates SLUG --out DIR``: every live certificate of an event as
one PDF each, plus all of them merged into ``<slug>-semua.pdf``. Rendered in chunks (like the
background batch), with a progress bar."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from monev.certificates import services
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
        merged = out / f"{event.slug}-semua.pdf"
        merged.write_bytes(services.merge(p.read_bytes() for p in paths))
        click.echo(f"{len(live)} certificates written to {out}; all in one: {merged.name}")

"""``flask --app monev results SLUG [--json]`` and ``flask --app monev publish SLUG``."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask_babel import force_locale

from monev.core.database import write_intent
from monev.core.errors import ServiceError
from monev.events import queries as event_queries
from monev.extensions import db
from monev.results import pages, services


def register(app: Flask) -> None:
    @app.cli.command("results")
    @click.argument("slug")
    @click.option("--json", "as_json", is_flag=True, help="Print the open-data JSON document.")
    def results_command(slug: str, as_json: bool):
        """Print the live results of event SLUG (published or not: for organisers)."""

        event = _event(slug)
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            computed = services.compute(event)
            if computed.results is None:
                raise click.ClickException(computed.problem)
            document = services.open_data(services.build_snapshot(computed))
            if as_json:
                click.echo(json.dumps(document, ensure_ascii=False, indent=2))
                return
            view = pages.admin_results(computed)
            for line in _text(document, view):
                click.echo(line)

    @app.cli.command("publish")
    @click.argument("slug")
    @click.option("--reason", help="Why: required for a correction (ralat) of a published one.")
    @click.option(
        "--acknowledge",
        "note",
        help='Acknowledge every open fairness "Check:" with this note (read them first with '
        "`results SLUG`).",
    )
    def publish_command(slug: str, reason: str | None, note: str | None):
        """Publish the results of event SLUG as a new frozen version (the command is its own
        confirmation step; every refusal of the publish page applies)."""

        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]), write_intent():
            event = _event(slug)
            try:
                if note:
                    services.acknowledge_all(event, note, actor=None)
                published = services.publish(event, reason=reason, actor=None, confirmed=True)
            except ServiceError as error:
                db.session.rollback()
                click.echo(error.message, err=True)
                sys.exit(1)
            db.session.commit()
            click.echo(
                f"Published {slug} version {published.version} "
                f"(SHA-256 of the scores {published.digest})."
            )


def _event(slug: str):
    event = event_queries.get_by_slug(slug)
    if event is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    return event


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _text(document: dict, view) -> list[str]:
    stages = [s["key"] for s in document["stages"]]
    lines = [f"{document['event']['title']} ({document['event']['slug']})", ""]
    for category in document["categories"]:
        lines.append(f"== {category['name']} ({category['key']})")
        head = ["rank", "code", "kim", *stages, "total", "award"]
        rows = [
            [
                str(e["rank"] or "-") + ("=" if e["shared"] else ""),
                e["code"],
                e["kim"],
                *[_fmt(e["stage_totals"].get(k)) for k in stages],
                _fmt(e["total"]),
                e["award"] or "",
            ]
            for e in category["entries"]
        ]
        widths = [max(len(str(x)) for x in column) for column in zip(head, *rows, strict=False)]
        for row in [head, *rows]:
            lines.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))
        lines.append("")
    lines.append("== agreement")
    for s in document["stages"]:
        figures = ", ".join(f"{k} {_fmt(v, 3)}" for k, v in s["agreement"].items())
        lines.append(f"{s['key']}: {figures}")
    lines.append("")
    lines.extend(f"[{m.severity}] {m.text}" for m in view.messages)
    lines.append(f"digest {document['digest']} ({document['scores']} scores)")
    return lines

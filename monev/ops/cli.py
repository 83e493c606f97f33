"""Operations commands: ``doctor``, ``storage sweep``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from monev.ops import checks, janitor


def register(app: Flask) -> None:
    @app.cli.command("doctor")
    @click.option("--fix", is_flag=True, help="Create what is missing (the storage bucket).")
    def doctor_command(fix: bool):
        """Check the installation: one line per check, OK or what to do (exit 1 on a FAIL)."""
        results = checks.run(fix=fix)
        for result in results:
            click.echo(result.line())
        failed = [r for r in results if not r.ok]
        if failed:
            click.echo(f"{len(failed)} of {len(results)} checks failed.", err=True)
            sys.exit(1)
        click.echo(f"All {len(results)} checks passed.")

    storage_group = AppGroup("storage", help="The file storage.")
    app.cli.add_command(storage_group)

    @storage_group.command("sweep")
    @click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
    def storage_sweep_command(dry_run: bool):
        """Remove old spool files, unfinished uploads and files no row refers to."""
        report = janitor.sweep(dry_run=dry_run)
        for line in report.lines():
            click.echo(line)

"""Operations commands: ``doctor``, ``storage sweep``, ``backup``, ``restore``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from monev.audit.services import verify as verify_audit
from monev.ops import backup, checks, janitor


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

    @app.cli.command("backup")
    @click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="A new (or empty) folder for this backup.",
    )
    def backup_command(out: Path):
        """Back up the database and every stored file, with a manifest of SHA-256 digests."""
        try:
            outcome = backup.backup(out)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Backup written to {out}: {backup.describe(outcome)}.")
        for key in outcome.manifest["missing"]:
            click.echo(f"deleted while the backup ran (not in it): {key}", err=True)

    @app.cli.command("restore")
    @click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def restore_command(folder: Path):
        """Restore a backup into an empty database and storage (digests checked first)."""
        try:
            outcome = backup.restore(folder)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Restored from {folder}: {backup.describe(outcome)}.")
        result = verify_audit()
        if not result.ok:
            click.echo(
                f"The audit log's chain is BROKEN ({len(result.problems)} problems).", err=True
            )
            sys.exit(1)
        click.echo(f"Audit log: {result.rows} rows, chain intact.")

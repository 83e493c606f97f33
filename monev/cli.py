"""Command-line interface: ``flask --app monev <command>``."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.audit.services import verify
from monev.auth import services
from monev.auth.models import User
from monev.auth.passwords import password_problems
from monev.core.database import write_intent
from monev.core.documents import DocumentError, dumps
from monev.demo import loader
from monev.events import queries as event_queries
from monev.extensions import db
from monev.transfer import package


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when accounts already exist.")
    def demo_command(if_empty: bool):
        """Load the demo competition (Monev KIM se-Kalimantan Timur)."""

        with write_intent():
            if db.session.scalar(select(func.count(User.id))):
                if if_empty:
                    click.echo("Database already has accounts; demo not loaded again.")
                    created = loader.ensure_demo_signing()
                    db.session.commit()
                    if created:
                        click.echo(
                            f"Demo test signing certificate created in {created} (its root is "
                            "trusted): certificates are signed from now on."
                        )
                    return
                raise click.ClickException(
                    "The database already has accounts. The demo only loads into an empty "
                    "database (use a new DATABASE_URL or delete instance/monev.db)."
                )
            loader.load(current_app.config["DEMO_PASSWORD"])
            db.session.commit()
        click.echo("Demo competition loaded: Monev KIM se-Kalimantan Timur 2024 and 2025.")
        if not if_empty:  # `make run` prints the logins itself
            click.echo(loader.logins_text(current_app.config["DEMO_PASSWORD"]))

    @app.cli.command("demo-logins")
    def demo_logins_command():
        """Print the demo accounts."""

        click.echo(loader.logins_text(current_app.config["DEMO_PASSWORD"]))

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", prompt=True)
    @click.password_option()
    def create_admin_command(email: str, name: str, password: str):
        """Create an organiser (admin) account."""

        with write_intent():
            email = services.normalise_email(email)
            if services.user_by_email(email):
                raise click.ClickException(f"An account for {email} already exists.")
            problems = password_problems(password, [email, name])
            if problems:
                raise click.ClickException(problems[0])
            user = User(email=email, name=name.strip(), role="admin", active=True)
            services.set_password(user, password)
            db.session.add(user)
            db.session.flush()
            audit.record("user.created", "user", user.id, services.user_snapshot(user))
            db.session.commit()
        click.echo(f"Admin account {email} created.")

    audit_group = AppGroup("audit", help="The audit log.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    def audit_verify_command():
        """Check the hash chain of the audit log; exit 1 when it is broken."""

        result = verify()
        for problem in result.problems:
            click.echo(f"row {problem.seq}: {problem.message}", err=True)
        if result.ok:
            click.echo(f"OK: {result.rows} rows, chain intact. Head hash: {result.head_hash}")
        else:
            click.echo(f"BROKEN: {len(result.problems)} problems in {result.rows} rows.", err=True)
            sys.exit(1)

    event_group = AppGroup("event", help="Event packages (monev-event/1 JSON).")
    app.cli.add_command(event_group)

    @event_group.command("export")
    @click.argument("slug")
    @click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Default: stdout.")
    def event_export_command(slug: str, out: str | None):
        """Write the whole event SLUG as one JSON document."""

        event = event_queries.get_by_slug(slug)
        if event is None:
            raise click.ClickException(f"No event has the slug {slug!r}.")
        text = dumps(package.export_event(event))
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)
            click.echo(f"Event {slug} written to {out}.")
        else:
            click.echo(text, nl=False)

    @event_group.command("import")
    @click.argument("file", type=click.File("rb"))
    def event_import_command(file):
        """Create an event from a package; on any problem nothing is written (exit 1)."""
        from flask_babel import force_locale

        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]), write_intent():
            try:
                event = package.import_package(package.parse(file.read()))
            except DocumentError as error:
                db.session.rollback()
                for problem in error.problems:
                    click.echo(str(problem), err=True)
                click.echo(error.message, err=True)
                sys.exit(1)
            db.session.commit()
            click.echo(f"Event {event.slug} imported: {event.title}.")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @click.option("--threads", default=8, show_default=True, help="Threads per process.")
    @click.option(
        "--processes",
        type=int,
        default=None,
        help="Serving processes (default: one per core; one where they cannot share a socket).",
    )
    @click.option(
        "--connection-limit",
        default=4000,
        show_default=True,
        help="Open connections each process keeps (idle and kept-alive ones included).",
    )
    @click.option("--socket-fd", type=int, default=None, hidden=True)
    @click.option("--ready-fd", type=int, default=None, hidden=True)
    def serve_command(
        host: str,
        port: int,
        threads: int,
        processes: int | None,
        connection_limit: int,
        socket_fd: int | None,
        ready_fd: int | None,
    ):
        """Serve the app with waitress, one process per core (monev/ops/serving.py)."""
        import socket

        from monev.ops import serving
        from monev.ops.checks import log_startup

        if socket_fd is not None:  # one of the processes started below
            sock = serving.own_socket(socket.socket(fileno=socket_fd))
            serving.tell_ready(ready_fd)  # listening, the app made: connections queue here
            serving.serve_here(app, sock, threads=threads, connection_limit=connection_limit)
            return
        if processes is None:
            processes = (os.cpu_count() or 1) if serving.can_share_socket() else 1
        log_startup(app)
        sock = serving.listen(host, port, processes=processes)
        url = f"http://{host}:{sock.getsockname()[1]}/"

        def running() -> None:
            click.echo(
                f"Monev is running on {url}  "
                f"({processes} process(es) x {threads} threads; Ctrl+C to stop)"
            )

        if processes <= 1 or not serving.can_share_socket():
            running()  # the app is made and the socket listens: it answers now
            serving.serve_here(app, sock, threads=threads, connection_limit=connection_limit)
            return
        # Each serving process imports and makes the app before it listens (seconds): the
        # address is said once they answer, not before.
        click.echo(f"Monev is starting on {url} ({processes} processes)…")
        command = serving.child_command(threads=threads, connection_limit=connection_limit)
        sys.exit(serving.supervise(sock, processes, command, on_ready=running))

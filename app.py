"""The application factory: configuration, extensions, blueprints, error pages, CLI.

It wires; it does not decide. Domain rules live in ``workflow/``, documents in ``pdf/``.
"""
from __future__ import annotations

import functools
import gc
import json
import logging
from pathlib import Path
from typing import Any

import click
from flask import Flask

from config import Config, prepare_instance
from web.extensions import babel, csrf, init_migrate, login_manager, select_locale
from workflow import cycle_models as _cycle_models  # noqa: F401  (registers the cycle tables)
from workflow import events as _events  # noqa: F401  (registers the outbox table)
from workflow import indicator_models as _indicator_models  # noqa: F401  (catalogue, key indicators, plan tasks)
from workflow import models as _models  # noqa: F401  (registers the tables on the metadata)
from workflow import notifications as _notifications  # noqa: F401  (notifications, channels)
from workflow import outbox as _outbox  # noqa: F401  (deliveries)
from workflow import seen as _seen  # noqa: F401  (what each reviewer last saw)
from workflow.db import db
from workflow.errors import DomainError


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = Config()
    app = Flask(__name__, instance_path=settings.INSTANCE_DIR)
    app.config.from_mapping(settings.as_dict())
    if config:
        app.config.from_mapping(config)
    prepare_instance(app.config)  # instance, archive and keys 0700, the SQLite file 0600
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    init_migrate(app, db, directory=str(Path(__file__).parent / "migrations"))  # Alembic loaded when used
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    @login_manager.user_loader
    def load_user(session_id: str):
        """The session's user while its generation is current (``User.get_id``: "id:epoch"; a
        logout, a password change elsewhere or a deactivation raised it) and the user active."""
        user_id, _, epoch = session_id.partition(":")
        user = (db.session.scalars(_session_user(), {"id": int(user_id)}).unique().first()
                if user_id.isdigit() and epoch.isdigit() and int(user_id) < 2**62 else None)
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user

    from web import register_blueprints

    register_blueprints(app)
    from web import throttle

    throttle.init_app(app)
    from web import memory

    memory.init_app(app)  # after a request that needed tens of MB, give them back (malloc_trim)
    _trust_proxies(app)
    _register_cli(app)
    import pdf

    pdf.init_app(app)  # its CLI commands (the worker's entry point) and the fonts' glyph coverage
    import notify

    notify.init_app(app)
    if not app.testing:
        # What is loaded by now (modules, the app, its caches) lives as long as the process: out
        # of the cyclic collector's sight, whose full passes walked all of it (0.3-0.4 ms of a
        # page's CPU on average). A test process builds many apps and keeps none: not there.
        gc.freeze()
    return app


@functools.cache
def _session_user():
    """The session's user with its positions and their units (what every page's scope checks
    read), in one statement built once, instead of the user and then its positions."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.orm import joinedload

    from workflow.models import User

    return select(User).where(User.id == bindparam("id")).options(joinedload(User.positions))


def _trust_proxies(app: Flask) -> None:
    """Behind ``FORWARDED_PROXIES`` reverse proxies, take the client's address, scheme and host
    from their X-Forwarded-* headers (login throttling counts per client address)."""
    hops = app.config["FORWARDED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def cli_message(exc: DomainError) -> str:
    """A domain error as the commands say it: in English, like the rest of their output."""
    from flask_babel import force_locale

    from web.messages import render

    with force_locale("en"):
        return render(exc)


def run_cycles_tick(app: Flask) -> dict[str, int]:
    """The cycles' automatic reminders with this app's settings (the CLI and ``run.py`` call it;
    a scheduler may call it as often as it likes: each reminder is sent once)."""
    from workflow.cycles import tick

    with app.app_context():
        return tick(remind_days_before=app.config["CYCLE_REMIND_DAYS_BEFORE"],
                    escalate_after_days=app.config["CYCLE_ESCALATE_AFTER_DAYS"]).as_dict()


def _register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo district, towns, accounts and reports (only into an empty database)."""
        from workflow.demo import seed

        click.echo(seed())

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--name", "display_name", default=None, help="display name")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--role", type=click.Choice(["author", "town_reviewer", "district_reviewer", "admin"]))
    @click.option("--unit", "unit_id", type=int, help="org unit id for --role")
    def create_user(username: str, display_name: str | None, password: str, role: str | None,
                    unit_id: int | None) -> None:
        """Create a user, optionally with one position."""
        from workflow import admin

        if bool(role) != bool(unit_id):
            raise click.ClickException("--role and --unit go together")
        try:
            if role:  # checked first, so that a bad position creates no user either
                admin.position_unit(None, org_unit_id=unit_id, role=role)
            user = admin.create_user(None, username=username, display_name=display_name or username,
                                     password=password)
            if role:
                admin.grant_position(None, user_id=user.id, org_unit_id=unit_id, role=role)
        except DomainError as exc:
            raise click.ClickException(cli_message(exc)) from exc
        click.echo(f"created user {user.username} (id {user.id})")

    @app.cli.command("import-org-units")
    @click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
    def import_org_units(csv_file) -> None:
        """Import org units from CSV: name,kind,division_code,parent_code."""
        from workflow import admin

        try:
            added, skipped = admin.import_org_units_csv(csv_file.read())
        except DomainError as exc:
            raise click.ClickException(cli_message(exc)) from exc
        click.echo(f"added {added}, skipped {skipped} existing")

    @app.cli.command("cycles-tick")
    def cycles_tick() -> None:
        """Send the automatic reminders of open cycles that are due (safe to run as often as you like)."""
        click.echo(json.dumps(run_cycles_tick(app)))

    @app.cli.command("verify-audit")
    def verify_audit() -> None:
        """Check every audit chain (each report's, the global one, the admin audit), each report's
        state against its last event, and the signed checkpoints; exit 1 on any problem."""
        from pdf.checkpoints import verify_checkpoints
        from workflow.audit import verify_all

        verdict = verify_all()
        checkpoints, checkpoint_problems = verify_checkpoints(app.config)
        problems = [str(p) for p in verdict.problems] + [str(p) for p in checkpoint_problems]
        for line in problems:
            click.echo(line, err=True)
        click.echo(f"checked {verdict.events} events, {verdict.admin_rows} admin audit rows, "
                   f"{checkpoints} checkpoint(s): {len(problems)} problem(s)")
        if problems:
            raise SystemExit(1)

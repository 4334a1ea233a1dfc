"""``dualsign``: serve, run jobs, migrate, and the command groups of ``dualsign.cli`` (keys, tenants,
templates, reviewers, models, answer matching and text-mode simulation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import build_container
from dualsign.cli import (
    keys,
    matching,
    models,
    organisations,
    reviewers,
    shared,
    simulation,
    templates,
    tenants,
)
from dualsign.domain.transitions import mermaid_diagram
from dualsign.observability import logs

app = typer.Typer(
    help="DualSign: audio+video dual-recorded electronic signing (双录电子签).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(keys.app, name="keys")
app.add_typer(tenants.app, name="tenant")
app.add_typer(organisations.app, name="organisation")
app.add_typer(organisations.app, name="organisations", hidden=True)  # the plural, as operators type it
app.add_typer(templates.app, name="template")
app.add_typer(reviewers.app, name="reviewer")
app.add_typer(models.app, name="models")
app.command()(matching.match)
app.command()(simulation.simulate)


@app.callback()
def _consoles() -> None:
    """Fresh consoles for each command, sized from the terminal (and COLUMNS) as it is now."""
    shared.fresh_consoles()


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="create the demo tenant and a demo session, print the link")
    ] = False,
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
) -> None:
    """Run the service (migrates the database and publishes the built-in templates first)."""
    import uvicorn

    from dualsign.api.app import create_app
    from dualsign.application.integrator.demo import ensure_demo
    from dualsign.application.review.console import ensure_demo_reviewer

    settings = load_settings()
    container = build_container(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    if demo:
        d = ensure_demo(container.uow, container.session_services)
        shared.out.rule("DualSign — embedded demo")
        shared.out.print(f"data:        {settings.data_dir}  (SQLite + local blobs)")
        shared.out.print(f"API docs:    {settings.public_url}/docs")
        if d.new_key:
            shared.out.print(f"demo tenant: {d.tenant_id}")
            shared.out.print(f"API key:     [bold]{d.new_key.secret}[/bold]  (shown once; store it now)")
        else:
            shared.out.print(
                f"demo tenant: {d.tenant_id} (its API key was shown when it was created; "
                f"another: dualsign tenant key {d.tenant_id})"
            )
        shared.out.print(f"signer link: [bold]{d.session.signer_url}[/bold]")
        name, password = ensure_demo_reviewer(
            container.new_uow(), container.clock, container.ids.new_id, container.passwords, d.tenant_id
        )
        shared.out.print(
            f"reviewer:    {settings.public_url}/console  login [bold]{name}[/bold] / [bold]{password}[/bold]"
        )
        shared.out.rule()
    if settings.worker == "inline":
        container.start_worker()
    logs.configure(settings.log_format)
    uvicorn.run(
        create_app(container),
        host=bind_host,
        port=bind_port,
        log_config=None,
        log_level="info",
        proxy_headers=True,  # the scheme and client address from a trusted TLS proxy only
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # the live channel is mostly camera frames, which deflate does not shrink (0.4 % of a JPEG frame
        # for ~2.8 ms of the page's CPU each; bench/live_compression.py, docs/operations.md)
        ws_per_message_deflate=False,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="run the jobs that are due now, then exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between looks at the job table")] = 2.0,
) -> None:
    """Run durable jobs (sealing, reports, webhooks) — beside API processes with DUALSIGN_WORKER=off.

    DUALSIGN_JOB_QUEUE=table (default): poll the job table. rq: RQ on DUALSIGN_REDIS_URL carries the
    due jobs' ids to whichever worker is free (the job table stays the record)."""
    with shared.service() as c:
        rq_jobs = c.rq_jobs()
        if rq_jobs is not None:
            if not once:
                logs.configure(c.settings.log_format)
            try:
                rq_jobs.work(poll, burst=once)
            except KeyboardInterrupt:
                return
            if once:
                shared.out.print("ran the due jobs (rq)")
            return
        if once:
            shared.out.print(f"ran {c.job_runner().run_due()} job(s)")
            return
        logs.configure(c.settings.log_format)  # a long-running worker logs structured lines
        loop = c.worker_loop(poll)
        try:
            loop.run()
        except KeyboardInterrupt:
            loop.stop()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema and publish the built-in templates."""
    with shared.errors(), shared.service() as c:
        shared.out.print(f"database at the newest schema: {c.settings.database_url.split('@')[-1]}")


@app.command()
def openapi(output: Annotated[Path | None, typer.Option("--out", help="file to write")] = None) -> None:
    """Export the OpenAPI document of the integrator API."""
    from dualsign.api.app import create_app

    with shared.service() as c:
        spec = json.dumps(create_app(c).openapi(), ensure_ascii=False, indent=2)
    if output:
        output.write_text(spec + "\n", encoding="utf-8")
    else:
        sys.stdout.write(spec + "\n")


@app.command("state-diagram")
def state_diagram() -> None:
    """Print the session state machine (Mermaid), drawn from the transition table."""
    sys.stdout.write(mermaid_diagram())


if __name__ == "__main__":
    app()

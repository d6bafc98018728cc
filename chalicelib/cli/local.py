"""`local [--port 4566] [PATH...]`: the local cloud as a long-running endpoint, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import click

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.cli.output import err, out


def register_all(server: Any, defs: Any) -> Any:
    from chalicelib.ops.register import Registrar
    from chalicelib.store.registry import Registry

    settings = server.settings
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    return Registrar(settings, aws.client("stepfunctions", settings.region), registry, server.states_role_arn).register(defs)


def trigger_text(trigger: Any) -> str:
    """What a launch plan fires on, in words: `on sales` or `on all of sales, weather aligned on time_partition`."""
    if trigger is None:
        return ""
    artifact = getattr(trigger, "artifact", None)
    if artifact is not None:  # OnArtifact
        return f" (on {artifact.name})"
    members = getattr(trigger, "members", None)
    if callable(members):  # OnArtifacts: aligned members
        names = ", ".join(members())
        return f" (on all of {names}, aligned on {getattr(trigger, 'align_on', '?')})"
    return f" (on {type(trigger).__name__})"


def banner_lines(server: Any, defs: Any, web_url: str | None = None) -> list[str]:
    """The banner, one whole line each (never wrapped: every name and URL can be copied as printed)."""
    from chalicelib.store.declarations import ArtifactDeclaration
    from chalicelib.uploads.keys import layout_for

    s, url = server.settings, server.endpoint_url
    lines = [f"local cloud ready at {url}",
             f"  endpoint        {url}",
             f"  region          {s.region}",
             f"  bucket          {s.bucket}",
             f"  artifacts table {s.artifacts_table}",
             f"  registry table  {s.registry_table}",
             f"  index table     {s.index_table}"]
    if getattr(s, "trigger_dlq_url", ""):
        lines.append(f"  trigger dead-letter queue {s.trigger_dlq_url}")
    if getattr(s, "upload_dlq_url", ""):
        lines.append(f"  upload dead-letter queue  {s.upload_dlq_url}")
    for lp in sorted(defs.launch_plans.values(), key=lambda lp: lp.name):
        schedule = getattr(lp, "schedule", None)
        every = f" (every {schedule.expression}, UTC)" if schedule is not None else ""
        lines.append(f"  launch plan {lp.name}{trigger_text(lp.trigger)}{every}")
    uploadable = [a for a in defs.artifacts.values() if a.accepts_uploads]
    for artifact in sorted(uploadable, key=lambda a: a.name):
        lines.append(f"  uploads to {artifact.name}: s3://{s.bucket}/{layout_for(ArtifactDeclaration.of(artifact))}")
    lines += [
        "Any AWS client works against it, with any credentials:",
        f"  export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"AWS_DEFAULT_REGION={s.region}",
        f"  aws s3 cp data.csv s3://{s.bucket}/uploads/<artifact>/<key>=<value>/<file>.csv",
        "  python -m chalicelib upload data.csv --artifact NAME --partition KEY=VALUE",
        "  python -m chalicelib uploads --failed",
        f"  python -m chalicelib register --stage local FILE --endpoint-url {url}   (more workflows, from any "
        f"folder; this process imports them when their tasks run)",
        "Ctrl-C stops it.",
    ]
    if web_url:
        lines.append(f"lineage page: {web_url}/lineage")
    return lines


def banner(server: Any, defs: Any, web_url: str | None = None) -> None:
    for i, line in enumerate(banner_lines(server, defs, web_url)):
        # soft_wrap: a line longer than the terminal is left to the terminal, never broken by rich
        out.print(line, markup=False, highlight=False, soft_wrap=True, style="bold green" if i == 0 else None)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--port", default=4566, show_default=True, help="Port on 127.0.0.1; 0 picks a free one.")
@click.option("--web-port", default=4567, show_default=True, help="Port of the lineage page; 0 picks a free one.")
def local(paths: tuple[str, ...], port: int, web_port: int) -> None:
    """Run the local cloud on 127.0.0.1 until Ctrl-C, with the workflows in PATH (files or folders) registered.

    Uploads through it become artifact versions and start the triggered executions, as on AWS.
    """
    from chalicelib.runtime import loader
    from chalicelib.local.server import LocalServer
    from chalicelib.local.web import WebServer

    defs = loader.load_paths(list(paths))  # bad definitions fail before anything starts
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = LocalServer(port=port)
    web = WebServer(port=web_port)
    try:
        server.start()
        try:
            register_all(server, defs)
            web.start()  # the app's routes, reading this local cloud
            banner(server, defs, web.url)
            sys.stdout.flush()  # whole banner now, also into a pipe
            shown, ticks = 0, 0
            while not stop.wait(0.2):
                ticks += 1
                if ticks % 5 == 0:  # the schedules' clock, once a second
                    for fired in server.clock.advance():
                        answer = fired["answer"] or {}
                        out.print(f"schedule {fired['schedule']} fired its {fired['at']} tick: "
                                  f"{answer.get('outcome', 'failed')} {answer.get('execution') or ''}".rstrip(),
                                  markup=False, highlight=False, soft_wrap=True)
                for e in server.errors[shown:]:  # handler failures do not stop the endpoint; show them
                    err.print(f"{e.function} failed: {e.error_type}: {e.message}", style="red", markup=False,
                              highlight=False, soft_wrap=True)
                shown = len(server.errors)
        finally:
            err.print("stopping: waiting for running executions (up to 30 s)")
            web.stop()
            server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.print("local cloud stopped")
    # Everything lived in memory and is stopped; skip the interpreter's teardown of moto's hundreds of
    # modules, which takes seconds after the prompt should be back.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

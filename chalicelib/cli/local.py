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


def banner(server: Any, defs: Any) -> None:
    from chalicelib.store.declarations import ArtifactDeclaration
    from chalicelib.uploads.keys import layout_for

    s, url = server.settings, server.endpoint_url
    out.print(f"[bold green]local cloud ready at {url}[/]")
    out.print(f"  region {s.region}   bucket {s.bucket}   tables {s.artifacts_table}, {s.registry_table}")
    for lp in sorted(defs.launch_plans.values(), key=lambda lp: lp.name):
        trigger = f" (on {lp.trigger.artifact.name})" if lp.trigger else ""
        out.print(f"  launch plan {lp.name}{trigger}")
    uploadable = [a for a in defs.artifacts.values() if a.accepts_uploads]
    for artifact in sorted(uploadable, key=lambda a: a.name):
        out.print(f"  uploads to {artifact.name}: s3://{s.bucket}/{layout_for(ArtifactDeclaration.of(artifact))}",
                  markup=False)
    out.print("Any AWS client works against it, with any credentials:", markup=False)
    out.print(f"  export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
              f"AWS_DEFAULT_REGION={s.region}", markup=False)
    out.print(f"  aws s3 cp data.csv s3://{s.bucket}/uploads/<artifact>/<key>=<value>/<file>.csv", markup=False)
    out.print("  python -m chalicelib upload data.csv --artifact NAME --partition KEY=VALUE", markup=False)
    out.print("  python -m chalicelib uploads --failed", markup=False)
    out.print(f"  python -m chalicelib register --stage local FILE --endpoint-url {url}   (more workflows, from any "
              f"folder; this process imports them when their tasks run)", markup=False)
    out.print("Ctrl-C stops it.")


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
            banner(server, defs)
            out.print(f"lineage page: {web.url}/lineage", markup=False)
            shown = 0
            while not stop.wait(0.2):
                for e in server.errors[shown:]:  # handler failures do not stop the endpoint; show them
                    err.print(f"[red]{e.function} failed: {e.error_type}: {e.message}[/]")
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

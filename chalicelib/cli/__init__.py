"""`python -m chalicelib ...`: one module per command group, all registered on `main`."""

from __future__ import annotations

import sys
from typing import Any

import click

from chalicelib.errors import CascadeError


class Group(click.Group):
    """Turns our own errors into a one-line message and exit status 1, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CascadeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Artifact-triggered workflows on AWS serverless."""


from chalicelib.cli import run as _run  # noqa: E402,F401  (registers commands)
from chalicelib.cli import views as _views  # noqa: E402,F401
from chalicelib.cli import local as _local  # noqa: E402,F401
from chalicelib.cli import upload as _upload  # noqa: E402,F401
from chalicelib.cli import deploy as _deploy  # noqa: E402,F401
from chalicelib.cli import launchplan as _launchplan  # noqa: E402,F401
from chalicelib.cli import replay as _replay  # noqa: E402,F401
from chalicelib.cli import dlq as _dlq  # noqa: E402,F401
from chalicelib.cli import gc as _gc  # noqa: E402,F401
from chalicelib.cli import cache as _cache  # noqa: E402,F401
from chalicelib.cli import sql as _sql  # noqa: E402,F401
from chalicelib.cli import page as _page  # noqa: E402,F401
from chalicelib.cli import schedule as _schedule  # noqa: E402,F401
from chalicelib.cli import signal as _signal  # noqa: E402,F401

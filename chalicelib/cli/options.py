"""Options shared by the commands that talk to a stage."""

from __future__ import annotations

from typing import Any, Callable

import click


def stage_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--stage NAME` and `--endpoint-url URL` (how a stage is found: chalicelib.ops.stage)."""
    fn = click.option("--endpoint-url", default=None, metavar="URL",
                      help="AWS endpoint (default: AWS_ENDPOINT_URL; for stage 'local', http://127.0.0.1:4566).")(fn)
    return click.option("--stage", default=None, metavar="NAME",
                        help="Stage (default: CASCADE_STAGE, else 'local', the local cloud server).")(fn)

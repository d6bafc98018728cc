"""Stops plain `chalice deploy`, `chalice package` and `chalice local` in a copy of the project, before they
build or create anything, with one line naming the command to run instead.

The committed `.chalice/config.json` sets UNBUILT in its top-level environment variables; chalice exports
those before it imports app.py, which imports this module. The stage config that `python -m chalicelib
deploy` builds (chalicelib/deploy/stage_config.py) drops the variable, and Lambda never has it.
"""

from __future__ import annotations

import os

UNBUILT = "CASCADE_UNBUILT_CONFIG"
MESSAGE = ("error: this project deploys as one CloudFormation stack per stage, not with plain `chalice deploy` / "
           "`chalice package`: run `python -m chalicelib deploy --stage STAGE` (make deploy STAGE=STAGE), add "
           "--template-only to only write the template, or `python -m chalicelib local` to run it locally")

if os.environ.get(UNBUILT):
    raise SystemExit(MESSAGE)

"""`sql` as people use it: `python -m chalicelib local` running, `sql --endpoint-url URL` finding the stage
through its stack, the objects read over HTTP. (Its own module: moto's backends are per process, and this
server must be the only local cloud in it.)"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pandas as pd
from click.testing import CliRunner

from tests.integration.test_sql import MADE


def test_against_the_local_server_through_its_endpoint() -> None:
    """As people use it: `python -m chalicelib local` running, `sql --endpoint-url URL` finding the stage through
    its stack, the objects read over HTTP."""
    from chalicelib.cli import main
    from chalicelib.local.server import LocalServer
    from chalicelib.ops.stage import Stage
    from chalicelib.store.models import make_version

    with LocalServer(port=0) as server:
        store = Stage(server.settings, server.endpoint_url).store
        for minutes, units in ((0, 1), (1, 5)):
            store.write("sq_remote", pd.DataFrame({"units": [units]}), {"region": "emea"}, None,
                        make_version(MADE + timedelta(minutes=minutes), "remote"), produced_by="test")
        fresh_shell = {k: None for k in os.environ if k.startswith(("CASCADE_", "AWS_ENDPOINT"))}  # found by its stack
        result = CliRunner().invoke(main, ["sql", "SELECT region, units FROM sq_remote", "--json",
                                           "--endpoint-url", server.endpoint_url], env=fresh_shell)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == [{"region": "emea", "units": 5}]

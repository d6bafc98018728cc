"""Serve the Chalice app's routes over HTTP in this process, on a background thread, with chalice's own local
server (what `chalice local` runs). Used next to a local cloud, whose moto backends share the process."""

from __future__ import annotations

import sys
import threading
from typing import Any


class WebServer:
    """`with WebServer() as web: urlopen(web.url + "/lineage")`. Port 0 picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, app: Any = None) -> None:
        self.host = host
        self.port = port
        self.app = app
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> WebServer:
        from chalice.config import Config
        from chalice.local import create_local_server

        app = self.app
        if app is None:
            import importlib

            from chalicelib.local.cloud import PROJECT_ROOT

            if str(PROJECT_ROOT) not in sys.path:
                sys.path.insert(0, str(PROJECT_ROOT))
            app = importlib.import_module("app").app  # the project's app.py, as Lambda loads it
        config = Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=60)
        self._server = create_local_server(app, config, self.host, self.port)
        self.port = self._server.server.server_address[1]
        self._thread = threading.Thread(target=self._server.server.serve_forever, name="web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

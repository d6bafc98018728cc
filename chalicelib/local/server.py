"""The local cloud as an endpoint: LocalCloud plus moto's HTTP server on a loopback port.

Inside this process everything works as in LocalCloud (moto's in-memory backends, our Lambda handlers run
in-process). The HTTP server serves the same backends, so any AWS client (the `aws` CLI, boto3 with
`endpoint_url`, another language's SDK) sees the same buckets, tables and executions, and an upload
through it sets off the S3 notification, the upload handler, the stream and the triggered executions.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from chalicelib.errors import CascadeError
from chalicelib.local.cloud import LocalCloud
from chalicelib.ops.stage import LOCAL_STAGE

DEFAULT_PORT = 4566


class ServerError(CascadeError):
    """The local cloud server could not start."""


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServerError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port, or 0 for any free one") from exc


def _moto_server(host: str, port: int) -> Any:
    from moto.server import ThreadedMotoServer

    class Server(ThreadedMotoServer):
        """Reports a failure to bind instead of leaving start() waiting forever."""

        error: BaseException | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except BaseException as exc:
                self.error = exc
                self._server_ready_event.set()

    server = Server(ip_address=host, port=port, verbose=False)
    server.start()
    if server.error is not None:
        raise ServerError(f"cannot listen on {host}:{port}: {server.error}; pass another --port, or 0 for any free one")
    return server


class LocalServer(LocalCloud):
    """`with LocalServer(port=0) as server: boto3.client("s3", endpoint_url=server.endpoint_url)`."""

    def __init__(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1", stage: str = LOCAL_STAGE) -> None:
        super().__init__(stage=stage)
        self.host = host
        self.port = port
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        _check_port_free(self.host, self.port)
        super().start()
        try:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
            self._server = _moto_server(self.host, self.port)
            self.port = self._server.get_host_and_port()[1]
            # moto's Step Functions interpreter calls Lambda at localhost:$MOTO_PORT when it is not
            # intercepting calls in-process; point it here in every case
            self._set_env({"MOTO_PORT": str(self.port)})
        except BaseException:
            super().stop()
            raise

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # no new requests; what is in flight finishes in LocalCloud.stop
            self._server = None
        super().stop()

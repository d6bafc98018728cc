"""`page --stage S [--port 8765]`: the lineage page of a deployed stage, served on 127.0.0.1.

The stage's REST API requires AWS_IAM auth (app.py's routes), which a browser cannot sign. This command serves
the page's own files locally and forwards its API calls (`GET /api/<view>?...`) to the stage's endpoint, each
signed with SigV4 (botocore's SigV4Auth) using your AWS credentials. It binds to 127.0.0.1 only and forwards
only GET requests under /api/, so it signs nothing else on your behalf.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from chalicelib.cli import main
from chalicelib.cli.output import err
from chalicelib.errors import CascadeError

SERVICE = "execute-api"
PAGE = "/lineage"
API_PREFIX = "/api/"
FORWARDED_HEADERS = ("Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                     "Cache-Control")
TIMEOUT = 30  # seconds per forwarded call (API Gateway's own limit is 29)


class PageError(CascadeError):
    """The page cannot be served: no endpoint, no credentials."""


def upstream_url(endpoint: str, path: str) -> str:
    """The endpoint URL for a local request path: `https://x/api/` + `/api/catalog?a=1` → `https://x/api/api/catalog?a=1`.
    Pure."""
    return endpoint.rstrip("/") + path


def sign(url: str, credentials: Any, region: str) -> dict[str, str]:
    """Headers of a SigV4-signed GET of `url` for API Gateway (execute-api) in `region`."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=url, headers={"Accept": "application/json"})
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def _static(name: str) -> tuple[int, dict[str, str], bytes]:
    from chalicelib.web import routes

    response = routes.static_file(name)
    body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
    return response.status_code, dict(response.headers or {}), body


class PageServer(http.server.ThreadingHTTPServer):
    def __init__(self, port: int, endpoint: str, credentials: Any, region: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.endpoint, self.credentials, self.region = endpoint, credentials, region


class _Handler(http.server.BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        err.print(f"[dim]{self.command} {self.path} {args[1] if len(args) > 1 else ''}[/]")

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/", PAGE, PAGE + "/"):
            self._send(*_static("index.html"))
        elif path.startswith(PAGE + "/"):
            self._send(*_static(path[len(PAGE) + 1:]))
        elif path.startswith(API_PREFIX):
            self._forward()
        else:
            self._send(404, {"Content-Type": "text/plain"}, b"not found\n")

    def _forward(self) -> None:
        server = self.server
        url = upstream_url(server.endpoint, self.path)
        credentials = server.credentials.get_frozen_credentials() if hasattr(server.credentials,
                                                                              "get_frozen_credentials") else server.credentials
        request = urllib.request.Request(url, headers=sign(url, credentials, server.region), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
                status, headers, body = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read()
        except OSError as exc:
            self._send(502, {"Content-Type": "application/json"},
                       f'{{"error": "cannot reach {server.endpoint}: {type(exc).__name__}"}}'.encode())
            return
        self._send(status, {k: headers[k] for k in FORWARDED_HEADERS if headers.get(k)}, body)


def stage_endpoint(stage: str, region: str) -> str:
    """The stage's REST API URL: the stack output chalice's template declares (EndpointURL)."""
    from chalicelib import aws, naming
    from chalicelib.deploy import stack

    outputs = stack.stack_outputs(aws.client("cloudformation", region), naming.stack_name(stage))
    if outputs is None:
        raise PageError(f"stage {stage!r} is not deployed in {region}; run `python -m chalicelib deploy --stage {stage}`")
    if not outputs.get("EndpointURL"):
        raise PageError(f"stack {naming.stack_name(stage)!r} has no EndpointURL output (no REST API); run "
                        f"`python -m chalicelib deploy --stage {stage}` to update it")
    return outputs["EndpointURL"]


@main.command()
@click.option("--stage", default="dev", show_default=True)
@click.option("--region", default=None, help="AWS region (default: from AWS_DEFAULT_REGION or your profile).")
@click.option("--port", default=8765, show_default=True, help="Local port (127.0.0.1 only).")
def page(stage: str, region: str | None, port: int) -> None:
    """Serve STAGE's lineage page on http://127.0.0.1:PORT/lineage, signing its API calls with your credentials."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.config import region as region_rule

    region = region_rule(region)
    credentials = boto3.session.Session().get_credentials()
    if credentials is None:
        raise PageError("no AWS credentials found: the stage's API requires SigV4-signed requests; configure "
                        "credentials (aws configure, or AWS_PROFILE) and run the command again")
    try:
        endpoint = stage_endpoint(stage, region)
    except (BotoCoreError, ClientError) as exc:
        raise PageError(f"stage {stage}: {str(exc).splitlines()[0]}. Check your AWS credentials and region.") from exc
    server = PageServer(port, endpoint, credentials, region)
    err.print(f"[green]lineage page of {stage}: http://127.0.0.1:{server.server_address[1]}{PAGE}[/] "
              f"(API calls signed for {endpoint}; Ctrl-C stops)")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()

"""`page --stage`: the page's files served locally, its API calls forwarded signed with SigV4. The stage's
endpoint is a local HTTP server here that records what reaches it."""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest
from botocore.credentials import Credentials

from chalicelib.cli.page import PageServer, upstream_url


class _Upstream(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        _Upstream.seen.append({"path": self.path, "headers": dict(self.headers.items())})
        body = json.dumps({"ok": True}).encode()
        status = 403 if "Authorization" not in self.headers else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "not=forwarded")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server: http.server.HTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture()
def page() -> Iterator[str]:
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    _serve(upstream)
    endpoint = f"http://127.0.0.1:{upstream.server_address[1]}/api/"
    server = PageServer(0, endpoint, Credentials("AKIDEXAMPLE", "secret", "session-token"), "eu-west-1")
    _serve(server)
    _Upstream.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    upstream.shutdown()


def test_api_calls_are_forwarded_signed_for_execute_api(page: str):
    with urllib.request.urlopen(f"{page}/api/catalog?artifact=a%20b") as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"ok": True}
        assert resp.headers.get("Set-Cookie") is None  # only the page's own headers come back
    (call,) = _Upstream.seen
    assert call["path"] == "/api/api/catalog?artifact=a%20b"
    auth = call["headers"]["Authorization"]
    match = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/eu-west-1/execute-api/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
    assert match, auth
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(match.group(2).split(";"))
    assert call["headers"]["X-Amz-Security-Token"] == "session-token"
    assert call["headers"]["X-Amz-Date"].startswith(match.group(1))


def test_page_files_are_served_locally_and_nothing_else_is_forwarded(page: str):
    with urllib.request.urlopen(f"{page}/lineage") as resp:
        assert "text/html" in resp.headers["Content-Type"] and b"lineage/app.js" in resp.read()
    with urllib.request.urlopen(f"{page}/lineage/app.js") as resp:
        assert "javascript" in resp.headers["Content-Type"]
    for path in ("/lineage/secret.txt", "/restapis/x", "/other"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{page}{path}")
        assert info.value.code == 404
    assert _Upstream.seen == []


def test_upstream_url_keeps_the_stage_path_and_query():
    assert upstream_url("https://x.execute-api.us-east-1.amazonaws.com/api/", "/api/runs?n=1") == \
        "https://x.execute-api.us-east-1.amazonaws.com/api/api/runs?n=1"

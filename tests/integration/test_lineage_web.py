"""The lineage page and its JSON API, served by chalice's local server next to a local cloud that ran a
three-level cascade, and loaded in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import EXAMPLES, ROOT

# Partition values cannot hold '<' (chalicelib/sdk/naming.py), so the hostile text travels where users can
# put anything: a workflow input, and what a task prints.
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
SCREENSHOTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, Any]]:
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.local.web import WebServer

    with LocalCloud() as cloud:
        rep = run_in_cloud(cloud, loader.load_paths([EXAMPLES / "order_cascade.py"]), "ingest",
                           {"region": "emea", "note": HOSTILE})
        assert not rep["errors"] and {e["status"] for e in rep["executions"]} == {"SUCCEEDED"}
        with WebServer() as web:
            yield {"url": web.url, "report": rep}


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def run_named(rep: dict[str, Any], short: str) -> dict[str, Any]:
    return next(e for e in rep["executions"] if e["workflow"].endswith("." + short))


def version_of(rep: dict[str, Any], name: str) -> str:
    return next(a["version"] for a in rep["artifacts"] if a["name"] == name)


def expected_graph(rep: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    v = {n: f"version:{n}:{version_of(rep, n)}" for n in ("raw_orders", "clean_orders", "order_summary")}
    x = {w: f"execution:{run_named(rep, w)['id']}" for w in ("ingest", "clean", "summarize")}
    nodes = set(v.values()) | set(x.values())
    edges = {
        (x["ingest"], v["raw_orders"]), (v["raw_orders"], x["clean"]), (x["clean"], v["clean_orders"]),
        (v["clean_orders"], x["summarize"]), (v["raw_orders"], x["summarize"]), (x["summarize"], v["order_summary"]),
    }
    return nodes, edges


def test_api_serves_the_same_graph_as_the_cli(site: dict[str, Any]) -> None:
    status, headers, body = get(site["url"] + "/api/lineage?artifact=clean_orders")
    assert status == 200 and headers["Content-Type"] == "application/json"
    graph = json.loads(body)
    nodes, edges = expected_graph(site["report"])
    assert {n["id"] for n in graph["nodes"]} == nodes
    assert {(e["source"], e["target"]) for e in graph["edges"]} == edges


def test_page_files_and_errors(site: dict[str, Any]) -> None:
    status, headers, body = get(site["url"] + "/lineage")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    assert b'src="lineage/app.js"' in body
    assert get(site["url"] + "/lineage/app.js")[1]["Content-Type"].startswith("text/javascript")
    assert get(site["url"] + "/lineage/app.py")[0] == 404  # only the page's own files
    assert get(site["url"] + "/api/nope")[0] == 404
    status, _, body = get(site["url"] + "/api/versions")
    assert status == 400 and b"artifact" in body
    status, _, body = get(site["url"] + "/api/versions?artifact=nosuch")
    assert status == 404 and b"no artifact named 'nosuch'" in body
    status, _, body = get(site["url"] + "/api/logs?execution=no-such-run")
    assert status == 404


class Dom(HTMLParser):
    """Elements (tag, attributes) and the text inside elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag not in ("img", "br", "meta", "link", "input", "hr"):
            self._open.append(attributes.get("id"))
            if attributes.get("id"):
                self.text.setdefault(attributes["id"], "")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for open_id in self._open:
            if open_id:
                self.text[open_id] += data


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args],
            capture_output=True, text=True, timeout=120,
        )


def test_page_in_chromium(site: dict[str, Any]) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        print(f"skipping: {CHROMIUM} is not installed (Debian: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
    rep = site["report"]
    ingest = run_named(rep, "ingest")
    url = site["url"] + "/lineage?" + urllib.parse.urlencode({"artifact": "clean_orders", "execution": ingest["id"]})

    dumped = chromium("--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Dom()
    dom.feed(dumped.stdout)
    body = next(attrs for tag, attrs in dom.elements if tag == "body")
    assert body.get("data-ready") == "true", dom.text.get("status")
    assert "error" not in dom.text["status"], dom.text["status"]

    # the graph: every node and edge of the cascade around clean_orders
    nodes, edges = expected_graph(rep)
    drawn = {a["data-node-id"] for tag, a in dom.elements if tag == "g" and "data-node-id" in a}
    arrows = {(a["data-source"], a["data-target"]) for tag, a in dom.elements if tag == "g" and "data-source" in a}
    assert drawn == nodes
    assert arrows == edges
    root = next(a for tag, a in dom.elements if a.get("data-node-id", "").startswith("version:clean_orders"))
    assert "root" in root["class"].split()
    trigger_edge = next(a for tag, a in dom.elements if a.get("data-target") == f"execution:{run_named(rep, 'clean')['id']}")
    assert trigger_edge["data-kinds"] == "input trigger"

    # the hostile input and log line are shown as text: no element came from them, the title is ours
    assert dom.text["logs"] == f"loading orders for emea; note: {HOSTILE}"
    assert json.loads(dom.text["execution-inputs"])["note"] == HOSTILE
    assert not [a for tag, a in dom.elements if tag == "img"]
    assert [a.get("src") for tag, a in dom.elements if tag == "script"] == ["lineage/app.js"]
    assert dom.text["execution-title"] == ingest["name"]
    assert "<title>cascade lineage</title>" in dumped.stdout and "pwned</title>" not in dumped.stdout

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "lineage.png"
    shot.unlink(missing_ok=True)
    taken = chromium("--window-size=1600,1700", f"--screenshot={shot}", url)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")

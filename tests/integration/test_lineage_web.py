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
        fan = fan_out(cloud, FAN)
        with WebServer() as web:
            yield {"url": web.url, "report": rep, "fan": fan}


FAN = 50  # executions set off by one version, each making a version: a graph of 101 nodes


def fan_out(cloud: Any, n: int) -> dict[str, Any]:
    """One version of fan_root read by `n` executions that each made a fan_out version, written through the
    store and its lineage edges as the task runner writes them (the executions themselves are long gone)."""
    from datetime import datetime, timedelta, timezone

    from chalicelib import aws
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.lineage import Edge
    from chalicelib.store.models import ExecutionProducer, make_version

    s = cloud.settings
    store = ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))
    t0 = datetime(2026, 11, 25, 8, tzinfo=timezone.utc)
    root = store.write("fan_root", {"n": n}, {}, None, make_version(t0, "fan_root"), produced_by="seed")
    made = []
    for i in range(n):
        arn = f"arn:aws:states:{s.region}:123456789012:execution:{s.prefix}fan:run-{i:03d}"
        store.lineage.put([Edge(kind="trigger", execution=arn, artifact="fan_root", version=root.version,
                                workflow="fan.fan_wf", launch_plan="fan_lp", input="root", at="2026-11-25T08:00:00.000Z")])
        producer = ExecutionProducer(execution=arn, workflow="fan.fan_wf", launch_plan="fan_lp", node="n0")
        made.append(store.write("fan_out", {"i": i}, {"shard": f"s{i:03d}"}, t0 + timedelta(hours=i % 3),
                                make_version(t0 + timedelta(minutes=1 + i), arn), produced_by=producer).version)
    return {"root": root.version, "made": made}


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
    for path in ("/favicon.ico", "/lineage/favicon.svg"):  # a browser asks for /favicon.ico: not a 403
        status, headers, body = get(site["url"] + path)
        assert status == 200 and headers["Content-Type"] == "image/svg+xml" and body.startswith(b"<svg"), path
    assert get(site["url"] + "/lineage/graph.js")[0] == 200


def test_search_finds_artifacts_versions_and_executions(site: dict[str, Any]) -> None:
    rep = site["report"]
    found = json.loads(get(site["url"] + "/api/search?q=CLEAN")[2])
    assert [a["name"] for a in found["artifacts"]] == ["clean_orders"]
    assert {v["name"] for v in found["versions"]} == {"clean_orders"}
    assert run_named(rep, "clean")["id"] in {e["id"] for e in found["executions"]}
    version = version_of(rep, "raw_orders")
    by_id = json.loads(get(site["url"] + "/api/search?q=" + version[:22])[2])
    assert [(v["name"], v["version"]) for v in by_id["versions"]] == [("raw_orders", version)]
    by_partition = json.loads(get(site["url"] + "/api/search?q=shard%3Ds007")[2])
    assert [v["partitions"] for v in by_partition["versions"]] == [{"shard": "s007"}]
    assert get(site["url"] + "/api/search")[0] == 400


def test_execution_view_names_what_its_queries_resolved_to(site: dict[str, Any]) -> None:
    rep = site["report"]
    summarize = run_named(rep, "summarize")
    doc = json.loads(get(site["url"] + "/api/execution?" + urllib.parse.urlencode({"execution": summarize["id"]}))[2])
    assert "$query" in doc["inputs"]["raw"]
    reads = {(e["kind"], e["artifact"], e["version"], e.get("via")) for e in doc["edges"]}
    assert ("input", "raw_orders", version_of(rep, "raw_orders"), "query") in reads


class Dom(HTMLParser):
    """Elements (tag, attributes), the text inside elements with an id, and the cells of tables' rows."""

    VOID = ("img", "br", "meta", "link", "input", "hr")

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[str | None] = []
        self._table: list[str | None] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag in self.VOID:
            return
        self._open.append(attributes.get("id"))
        if attributes.get("id"):
            self.text.setdefault(attributes["id"], "")
        if tag == "table":
            self._table.append(attributes.get("id"))
        elif tag == "tr" and self._table and self._table[-1]:
            self.tables.setdefault(self._table[-1], []).append([])
        elif tag in ("td", "th") and self._table and self._table[-1]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if self._open:
            self._open.pop()
        if tag == "table" and self._table:
            self._table.pop()
        elif tag in ("td", "th") and self._cell is not None and self._table and self._table[-1]:
            self.tables[self._table[-1]][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        for open_id in self._open:
            if open_id:
                self.text[open_id] += data
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> dict[str, list[str]]:
        """The body rows of a table, by their first cell."""
        return {r[0]: r for r in self.tables.get(table, [])[1:] if r}

    def having(self, attribute: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if attribute in a]


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
    note = dom.rows("execution-inputs")["note"]
    assert note == ["note", "str", HOSTILE]
    assert not [a for tag, a in dom.elements if tag == "img"]
    assert [a.get("src") for tag, a in dom.elements if tag == "script"] == ["lineage/graph.js", "lineage/app.js"]
    assert dom.text["execution-title"] == ingest["name"]
    assert "<title>cascade lineage</title>" in dumped.stdout and "pwned</title>" not in dumped.stdout

    # every artifact listed; the executions table keeps statuses and ids on one line
    assert {a["data-artifact"] for a in dom.having("data-artifact")} >= {
        "raw_orders", "clean_orders", "order_summary", "fan_root", "fan_out"}
    status_cells = [a for tag, a in dom.elements if tag == "td" and "status" in a.get("class", "").split()]
    assert status_cells and all("nowrap" in a["class"].split() for a in status_cells)
    screenshots(url, "lineage")


def needs_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        print(f"skipping: {CHROMIUM} is not installed (Debian: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")


def loaded(url: str) -> Dom:
    dumped = chromium("--window-size=1400,1200", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Dom()
    dom.feed(dumped.stdout)
    body = next(attrs for tag, attrs in dom.elements if tag == "body")
    assert body.get("data-ready") == "true", dom.text.get("status")
    assert "error" not in dom.text["status"], dom.text["status"]
    return dom


def screenshots(url: str, name: str) -> None:
    """The page at 1400 and 800 pixels wide, as PNG files under tests/artifacts/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 800):
        shot = SCREENSHOTS / f"{name}-{width}.png"
        shot.unlink(missing_ok=True)
        taken = chromium(f"--window-size={width},1600", f"--screenshot={shot}", url)
        assert taken.returncode == 0, taken.stderr[-2000:]
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        assert int.from_bytes(png[16:20], "big") == width  # the IHDR width: the page was laid out at it
        print(f"screenshot: {shot}")


def test_partition_grid_and_typed_inputs_in_chromium(site: dict[str, Any]) -> None:
    needs_chromium()
    rep = site["report"]
    summarize = run_named(rep, "summarize")
    raw = version_of(rep, "raw_orders")
    url = site["url"] + "/lineage?" + urllib.parse.urlencode({"artifact": "raw_orders", "execution": summarize["id"]})
    dom = loaded(url)
    cells = [a for a in dom.having("data-version") if a.get("class", "").startswith("cell")]
    assert [(c["data-version"], c["data-time-partition"]) for c in cells] == [(raw, "2026-11-24T00:00:00Z")]
    assert dom.rows("partition-grid")["region=emea"][0] == "region=emea"
    # a cell links to that version's lineage
    assert any(a.get("href") == "?" + urllib.parse.urlencode({"artifact": "raw_orders", "version": raw})
               for tag, a in dom.elements if tag == "a")
    inputs = dom.rows("execution-inputs")
    assert inputs["region"] == ["region", "str", "emea"]
    assert inputs["clean"] == ["clean", "artifact", f"clean_orders:{version_of(rep, 'clean_orders')}"]
    name, kind, value = inputs["raw"]
    assert kind == "query" and value.startswith("raw_orders.query(region=emea") and value.endswith(f"→ raw_orders:{raw}")


def test_a_graph_of_a_hundred_nodes_in_chromium(site: dict[str, Any]) -> None:
    """The fan-out graph: every node drawn, none overlapping, readable at first sight, with zoom controls."""
    needs_chromium()
    fan = site["fan"]
    url = site["url"] + "/lineage?" + urllib.parse.urlencode({"artifact": "fan_root", "version": fan["root"]})
    dom = loaded(url)
    placed = {}
    for a in dom.having("data-node-id"):
        x, y = (float(v) for v in a["transform"].removeprefix("translate(").removesuffix(")").split())
        placed[a["data-node-id"]] = (x, y)
    assert len(placed) == 2 * FAN + 1
    assert {f"version:fan_out:{v}" for v in fan["made"]} <= set(placed)
    w, h = 210, 46  # graph.js NODE_W, NODE_H
    boxes = sorted(placed.values())
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1:]:
            if x2 >= x1 + w:
                break
            assert abs(y2 - y1) >= h, f"nodes at {(x1, y1)} and {(x2, y2)} overlap"
    assert len({x for x, _ in boxes}) == 3  # root, executions, their versions: three columns, left to right
    view = next(a for tag, a in dom.elements if tag == "svg" and "graph-view" in a.get("class", ""))
    assert float(view["data-zoom"]) >= 0.7
    assert {a["data-action"] for a in dom.having("data-action")} == {"zoom-in", "zoom-out", "fit", "root"}
    assert len([a for a in dom.having("data-source")]) == 2 * FAN
    screenshots(url, "lineage-fan")


def test_search_page_in_chromium(site: dict[str, Any]) -> None:
    needs_chromium()
    dom = loaded(site["url"] + "/lineage?" + urllib.parse.urlencode({"q": "s007"}))
    assert [a["data-version"] for a in dom.having("data-version") if "data-versions" not in a][:1] == \
        [site["fan"]["made"][7]]
    assert "matches for “s007”" in dom.text["search-results"]
    screenshots(site["url"] + "/lineage?q=clean", "lineage-search")

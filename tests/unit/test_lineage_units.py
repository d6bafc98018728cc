"""Pure parts of the lineage views: graph layering, text that must stay text, the page's file guard."""

from __future__ import annotations

import pytest
from rich.console import Console

from chalicelib.cli.views import parse_partitions, plain, versions_table
from chalicelib.errors import InputError, InvalidNameError
from chalicelib.observe import GraphEdge, GraphNode, layers, parse_ref
from chalicelib.sdk.charset import check_value
from chalicelib.store.models import ArtifactVersion


def node(nid: str, depth: int) -> GraphNode:
    return GraphNode(id=nid, kind="version" if nid.startswith("v") else "execution", depth=depth, label=nid)


def test_layers_point_every_edge_forward_even_when_hops_do_not() -> None:
    # raw is two hops above the root through clean, but summarize (one hop above) also reads raw directly
    nodes = [node("v-summary", 0), node("x-summarize", -1), node("v-clean", -2), node("v-raw", -2),
             node("x-clean", -3), node("x-ingest", -3)]
    edges = [GraphEdge(source=s, target=t, kind=k) for s, t, k in [
        ("x-ingest", "v-raw", "output"), ("v-raw", "x-clean", "trigger"), ("x-clean", "v-clean", "output"),
        ("v-clean", "x-summarize", "trigger"), ("v-raw", "x-summarize", "input"), ("x-summarize", "v-summary", "output"),
    ]]
    layer = layers(nodes, edges)
    assert layer == {"x-ingest": 0, "v-raw": 1, "x-clean": 2, "v-clean": 3, "x-summarize": 4, "v-summary": 5}
    assert all(layer[e.source] < layer[e.target] for e in edges)


def test_layers_survive_a_cycle() -> None:
    nodes = [node("va", 0), node("xb", 1)]
    edges = [GraphEdge(source="va", target="xb", kind="trigger"), GraphEdge(source="xb", target="va", kind="output")]
    assert layers(nodes, edges) == {"va": 0, "xb": 1}  # hop distance, not an endless loop


def test_partition_values_cannot_carry_markup() -> None:
    with pytest.raises(InvalidNameError, match="not allowed"):
        check_value("sales", "region", "<script>alert(1)</script>")


def test_rich_cells_show_markup_as_typed() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(plain("[bold red]x[/] <b>"))
    assert console.export_text() == "[bold red]x[/] <b>\n"
    version = ArtifactVersion(name="a", version="v1", partitions={"k": "[red]v[/red]"}, uri="s3://b/k", format="json")
    console = Console(width=200, record=True, color_system=None)
    console.print(versions_table("a", [version]))
    assert "k=[red]v[/red]" in console.export_text()


def test_refs_and_partition_options() -> None:
    assert parse_ref("sales") == ("sales", None)
    assert parse_ref("sales:20261125T000000000Z-ab") == ("sales", "20261125T000000000Z-ab")
    assert parse_partitions(("region=emea", "shop=7")) == {"region": "emea", "shop": "7"}
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_partitions(("region",))


def test_page_serves_only_its_own_files() -> None:
    from chalicelib.web import routes

    assert routes.static_file("index.html").status_code == 200
    for name in ("../app.py", "routes.py", "/etc/passwd", "index.html/"):
        assert routes.static_file(name).status_code == 404


def test_static_page_builds_no_html_from_strings() -> None:
    """The page's script never parses data as HTML (the browser test checks the outcome)."""
    from chalicelib.web.routes import STATIC

    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script

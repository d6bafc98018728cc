"""How versions are written and read back: files and directories as artifacts (task-level and workflow-level),
found by queries; Union's published artifacts example; gc keeping every object a version points to; lineage
through a workflow-level output; and an uploaded version's producer in every view.

Flows: tests/integration/flows/store_*.py (store_union_artifacts.py is Union's published example, ported by
changing only its imports). Everything goes through the CLI (`python -m chalicelib ...`, via click's
CliRunner), the helpers of tests/integration/conftest.py, and plain S3 calls (the `clients` fixture) to look at
or plant objects; the only internal module used is the loader, for examples/, as conftest's `load` does.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

from click.testing import CliRunner

from chalicelib.cli import main
from tests.conftest import EXAMPLES
from tests.integration.conftest import FLOWS, load, register, run, runs_of

UTC = timezone.utc
DAY = datetime(2026, 11, 24, tzinfo=UTC)
EARLIER_DAY = datetime(2026, 11, 23, tzinfo=UTC)
HALF_MADE_VERSION = "20260101T000000000Z-0000000000"


# -- helpers ------------------------------------------------------------------------------------------
def cli(*args: str) -> tuple[int, str, str]:
    """Run `python -m chalicelib ARGS` in process: (exit code, stdout, stderr)."""
    try:
        runner = CliRunner()
    except TypeError:  # click >= 8.2 always keeps them apart
        runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=True)
    stderr = result.stderr if result.stderr_bytes is not None else ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stdout, stderr


def cli_json(*args: str) -> Any:
    code, out, err = cli(*args)
    what = f"`python -m chalicelib {' '.join(args)}`"
    assert code == 0, f"{what} exited {code}:\n{err[-3000:]}\n{out[-2000:]}"
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"{what} did not print JSON (exit {code}):\n{out[-2000:]}\n{err[-3000:]}") from None


def new_executions(report: dict[str, Any], seen: set[str]) -> list[dict[str, Any]]:
    """The executions of `report` not in `seen` (the report lists every execution of the cloud); marks them seen."""
    fresh = [e for e in report["executions"] if e["id"] not in seen]
    seen.update(e["id"] for e in fresh)
    return fresh


def describe(executions: Iterable[dict[str, Any]]) -> str:
    return "; ".join(f"{(e['workflow'] or '?').rsplit('.', 1)[-1]} ({e['launch_plan'] or 'by hand'}): {e['status']}"
                     + (f" — {e.get('cause')}" if e["status"] != "SUCCEEDED" else "") for e in executions) or "none"


def one_run(executions: list[dict[str, Any]], short_workflow: str) -> dict[str, Any]:
    found = [e for e in executions if (e["workflow"] or "").endswith("." + short_workflow)]
    assert len(found) == 1, f"expected one execution of {short_workflow}, got {len(found)}: {describe(executions)}"
    return found[0]


def succeeded(ex: dict[str, Any], what: str) -> dict[str, Any]:
    assert ex["status"] == "SUCCEEDED", (
        f"{what}: execution {ex['name']} of {ex['workflow']} {ex['status']}: {ex.get('error')}: {ex.get('cause')}")
    return ex


def versions_of(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return sorted((a for a in report["artifacts"] if a["name"] == name), key=lambda a: a["version"])


def producer_execution(version: dict[str, Any]) -> str | None:
    """The producing execution ARN of a version report, in the old (a string) or the typed form."""
    p = version.get("produced_by")
    if isinstance(p, dict):
        return p.get("execution")
    return p


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def summary_of(region: str, file_rows: int, dir_rows: int) -> str:
    """What store_files.summarize returns for make_files(region, rows=file_rows) / (region, rows=dir_rows)."""
    amounts = [10 * i + 1 for i in range(file_rows)]
    texts = [f"nested/count.txt={dir_rows}"] + [f"part-{i}.txt={region}:{i}" for i in range(dir_rows)]
    return f"file orders-{region}.csv rows={file_rows} total={sum(amounts)}; dir {' '.join(texts)}"


def find_dicts(doc: Any, **match: Any) -> list[dict[str, Any]]:
    """Every dict anywhere in `doc` that has all of `match`'s items."""
    found = []
    if isinstance(doc, dict):
        if all(doc.get(k) == v for k, v in match.items()):
            found.append(doc)
        for v in doc.values():
            found.extend(find_dicts(v, **match))
    elif isinstance(doc, list):
        for v in doc:
            found.extend(find_dicts(v, **match))
    return found


# -- 1. FlyteFile / FlyteDirectory artifacts found by queries -----------------------------------------
def test_file_and_directory_artifacts_are_found_by_query_defaults_and_trigger_bindings(cloud):
    defs = load("store_files")
    seen: set[str] = set()
    made = []
    for region, day, rows in [("emea", DAY, 4), ("apac", DAY, 2), ("emea", EARLIER_DAY, 3)]:
        rep = run(cloud, defs, "make_files", region=region, day=day, rows=rows)
        made += new_executions(rep, seen)
    assert [e["status"] for e in made] == ["SUCCEEDED"] * 3, f"the producers did not all succeed: {describe(made)}"
    files, dirs = versions_of(rep, "store_region_file"), versions_of(rep, "store_region_parts")
    assert [v["format"] for v in files] == ["file"] * 3 and [v["format"] for v in dirs] == ["dir"] * 3, (
        f"expected three file and three dir versions, got {[(v['name'], v['format']) for v in files + dirs]}")
    got = {(v["partitions"].get("region"), v["time_partition"]) for v in files}
    assert got == {("emea", "2026-11-24T00:00:00Z"), ("apac", "2026-11-24T00:00:00Z"),
                   ("emea", "2026-11-23T00:00:00Z")}, f"the file versions' partitions: {got}"

    # (a) workflow input defaults: RegionFile.query(region="emea"), RegionParts.query(region="emea"): the
    # newest emea versions, which are those of the third run (day 23, 3 rows), not the apac ones.
    rep = run(cloud, defs, "read_by_default")
    ex = one_run(new_executions(rep, seen), "read_by_default")
    succeeded(ex, "read_by_default, whose inputs default to queries of a FlyteFile and a FlyteDirectory artifact")
    expected = summary_of("emea", file_rows=3, dir_rows=3)
    assert ex["outputs"]["o0"] == expected, (
        f"read_by_default read the wrong file/directory contents: {ex['outputs']['o0']!r}, expected {expected!r}")
    assert f"summary: {expected}" in ex["logs"], f"the task's printed summary is missing from its logs: {ex['logs']}"

    # (b) trigger input bindings relative to the triggering version: the file of the same region and day,
    # the newest directory of the same region.
    for region, file_rows, dir_rows in [("emea", 4, 3), ("apac", 2, 2)]:
        rep = run(cloud, defs, "announce", region=region, day=DAY)
        fresh = new_executions(rep, seen)
        triggered = runs_of({"executions": fresh}, "store_read_on_ready")
        assert len(triggered) == 1, f"announce({region}) should trigger store_read_on_ready once: {describe(fresh)}"
        ex = succeeded(triggered[0], f"store_read_on_ready for {region}, whose inputs are FlyteFile/FlyteDirectory "
                                     f"queries bound to the trigger's partitions")
        expected = summary_of(region, file_rows=file_rows, dir_rows=dir_rows)
        assert ex["outputs"]["o0"] == expected, (
            f"store_read_on_ready ({region}) read the wrong versions: {ex['outputs']['o0']!r}, expected {expected!r}")
        ready = versions_of(rep, "store_files_ready")
        assert ex["triggered_by"]["artifact"] == "store_files_ready" and ex["triggered_by"]["version"] in {
            v["version"] for v in ready}, f"unexpected trigger {ex['triggered_by']}"


# -- 2. a workflow-level annotated FlyteFile output, queried downstream ------------------------------
def wf_output_scenario(cloud: Any) -> dict[str, Any]:
    """ingest_sales for emea (units 5) and apac (units 2), each cascading to build_report and notify."""
    defs = load("store_wf_output")
    seen: set[str] = set()
    out: dict[str, Any] = {"defs": defs, "seen": seen, "regions": {}}
    for region, units in [("emea", 5), ("apac", 2)]:
        rep = run(cloud, defs, "ingest_sales", region=region, day=DAY, units=units)
        fresh = new_executions(rep, seen)
        out["regions"][region] = {"executions": fresh, "units": units, "report": rep}
    out["report"] = rep
    return out


def report_text(region: str, units: int) -> str:
    """What store_wf_output.render writes for ingest_sales(region, DAY, units)."""
    return f"{region} {DAY.date().isoformat()} units={units + 2 * units + 3 * units}"


def test_workflow_level_file_output_is_queried_downstream(cloud):
    sc = wf_output_scenario(cloud)
    for region, r in sc["regions"].items():
        fresh = r["executions"]
        ingest, build = one_run(fresh, "ingest_sales"), one_run(fresh, "build_report")
        succeeded(ingest, f"ingest_sales({region})")
        succeeded(build, f"build_report({region}), whose workflow output is an annotated FlyteFile")
        [made] = [v for v in versions_of(r["report"], "store_report_file") if producer_execution(v) == build["id"]]
        assert made["format"] == "file" and made["partitions"] == {"region": region}, made
        assert made["time_partition"] == "2026-11-24T00:00:00Z", f"time partition not from Inputs.day: {made}"
        assert made["uri"].endswith(f"/{made['version']}/report-{region}.txt"), made["uri"]
        notify = one_run(fresh, "notify")
        succeeded(notify, f"store_notify_on_report ({region}): report = ReportFile.query(region=..., "
                          f"time_partition=...) of the workflow-level FlyteFile version")
        trigger = notify["triggered_by"] or {}
        assert (trigger.get("artifact"), trigger.get("version")) == ("store_report_file", made["version"]), (
            f"notify ({region}) was not triggered by store_report_file:{made['version']}: {trigger}")
        assert notify["outputs"]["o0"] == report_text(region, r["units"]), (
            f"notify ({region}) read {notify['outputs']['o0']!r}, expected the file's text "
            f"{report_text(region, r['units'])!r}")

    # started by hand, with the input defaulting to ReportFile.query(region="emea")
    rep = run(cloud, sc["defs"], "read_latest_report")
    ex = one_run(new_executions(rep, sc["seen"]), "read_latest_report")
    succeeded(ex, "read_latest_report, whose input defaults to ReportFile.query(region='emea')")
    assert ex["outputs"]["o0"] == report_text("emea", 5), f"read {ex['outputs']['o0']!r}"
    assert f"report says: {report_text('emea', 5)}" in ex["logs"], ex["logs"]


# -- 3. Union's artifacts_example.py, as published, through `run --json` ----------------------------
def test_union_artifacts_example_runs_all_four_workflows_through_the_cli():
    code, out, err = cli("run", str(FLOWS / "store_union_artifacts.py"), "workflow_a", "--json")
    try:
        rep = json.loads(out)
    except ValueError:
        raise AssertionError(f"`run ... workflow_a --json` printed no report (exit {code}):\n{err[-3000:]}") from None
    execs = rep["executions"]
    assert rep["errors"] == [], f"handler errors: {rep['errors']}"
    assert all(e["status"] == "SUCCEEDED" for e in execs), f"not every execution succeeded: {describe(execs)}"
    assert code == 0, f"`run ... workflow_a --json` exited {code} though every execution succeeded"
    a, b, c, d = (one_run(execs, w) for w in ("workflow_a", "workflow_b", "workflow_c", "workflow_d"))
    assert (a["launch_plan"], b["launch_plan"], c["launch_plan"], d["launch_plan"]) == (
        None, "workflow_b_lp", "workflow_c_lp", "workflow_d_lp"), describe(execs)
    [art_a], [art_b], [art_c] = (versions_of(rep, n) for n in ("artifact_a", "artifact_b", "artifact_c"))
    assert b["triggered_by"]["version"] == art_a["version"] and c["triggered_by"]["version"] == art_a["version"]
    assert d["triggered_by"]["artifact"] == "artifact_c" and d["triggered_by"]["version"] == art_c["version"], (
        f"workflow_d should be triggered by artifact_c:{art_c['version']}, was {d['triggered_by']}")
    assert art_a["format"] == "parquet" and art_a["card"]["kind"] == "ModelCard", art_a
    assert art_b["format"] == "json", art_b
    assert art_c["format"] == "file" and art_c["uri"].endswith(f"/{art_c['version']}/data.txt"), art_c
    tp = datetime.fromisoformat(art_c["time_partition"].replace("Z", "+00:00"))
    assert (tp.minute, tp.second) == (0, 0), f"artifact_c is HOUR-partitioned: {art_c['time_partition']}"
    # task_d prints its inputs: the trigger's time partition, the queried file, the queried DataFrame
    assert d["logs"][0] == f"The time is {tp.strftime('%m/%d/%Y, %H:%M:%S')}", d["logs"]
    assert d["logs"][1].startswith("My file is at ") and d["logs"][1].endswith("data.txt"), d["logs"]
    assert d["logs"][2].startswith("My data is ") and "col" in d["logs"][2], d["logs"]


# -- 4. gc deletes half-made versions only -----------------------------------------------------------
# One entry workflow of every example and test flow (with the inputs their docstrings or tests use), which
# between them store every layout: parquet, json, file, dir; task-level and workflow-level; partitioned and
# time-partitioned; uploads. Left out: sem_cycle_* (registration refuses them, by design), and
# sem_activation_v2/v3 and sem_replay_late (variants of other flows' launch plans, no entry of their own).
EXAMPLE_RUNS = [
    ("aligned_sales_weather", "daily_loads", {}),
    ("daily_sales", "ingest", {}),
    ("fan_in", "analyze", {"rows": 2_000}),
    ("fanout", "ingest", {}),
    ("flyte_annotations", "annotations_wf", {"region": "apac", "day": datetime(2026, 11, 24, 17, 45, tzinfo=UTC)}),
    ("flyte_annotations", "called_wf", {}),
    ("flyte_cards", "cards_wf", {}),
    ("flyte_files", "files_wf", {"rows": 4}),
    ("flyte_launch_plans", "ingest", {"site": "north", "at": datetime(2026, 11, 24, 17, 45, tzinfo=UTC)}),
    ("flyte_types", "types_wf", {"when": datetime(2026, 11, 24, 6, tzinfo=UTC), "label": "demo"}),
    ("hourly_cascade", "ingest_clicks", {}),
    ("order_cascade", "ingest", {"region": "emea"}),
    ("reactive_chain", "ingest_orders", {"day": DAY}),
    ("trigger_bindings", "ingest", {}),
]
FLOW_RUNS = [
    ("sem_activation", "emit", {"source": "a", "n": 1}),
    ("sem_aligned", "produce_both", {"region": "emea", "day": DAY, "units": 3, "temp": 9}),
    ("sem_bindings", "produce_targets", {"region": "emea", "target": 40}),
    ("sem_cascade", "start", {"n": 1}),
    ("sem_cycle_filtered", "ingest", {"value": -3}),
    ("sem_queries", "produce_hour", {"when": datetime(2026, 11, 24, 9, 30, tzinfo=UTC)}),
    ("sem_replay", "record", {"sensor": "s0", "value": 1}),
    ("sem_workflows", "diamond", {"rows": 1_000}),
    ("store_files", "make_files", {"region": "emea", "day": DAY, "rows": 3}),
    ("store_files", "announce", {"region": "emea", "day": DAY}),
    ("store_wf_output", "ingest_sales", {"region": "emea", "day": DAY, "units": 5}),
    ("store_union_artifacts", "workflow_a", {}),
    ("store_uploads", "store_noop", {}),
]


UPLOADS = {
    "uploads/raw_sales/region=emea/time_partition=2026-11-25/sales.csv": b"sku,units\na,1\nb,2\n",
    "uploads/price_list/prices.json": json.dumps({"items": [{"sku": "a", "price": 1.5}]}).encode(),
    "uploads/store_dropped/region=emea/time_partition=2026-11-24/drop.csv": b"sku,units\na,3\n",
}


def load_example(name: str) -> Any:
    from chalicelib.runtime import loader  # what load() does, for examples/

    return loader.load_paths([EXAMPLES / f"{name}.py"])


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def missing_objects(s3: Any, version: dict[str, Any]) -> list[str]:
    """What of a version's data is not in S3: its key (file and single-object formats), or any object under
    its prefix (dir)."""
    bucket, key = split_uri(version["uri"])
    if version["format"] == "dir":
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/") + "/", MaxKeys=1)
        return [] if listed.get("KeyCount", 0) else [f"{key} (no object under the prefix)"]
    return [] if object_exists(s3, bucket, key) else [key]


def all_versions() -> list[dict[str, Any]]:
    """Every version of every artifact, as `artifacts NAME --json` lists them."""
    names = [a["name"] for a in cli_json("artifacts", "--json")]
    out = []
    for name in names:
        out += cli_json("artifacts", name, "--limit", "1000", "--json")
    return out


def gc_keys(entries: Iterable[Any]) -> set[str]:
    return {e if isinstance(e, str) else e["key"] for e in entries}


def unknown_keys(report: dict[str, Any]) -> set[str]:
    assert "unknown" in report or "foreign" in report, f"gc's report lists no unparseable keys: {sorted(report)}"
    return gc_keys(report["unknown"] if "unknown" in report else report["foreign"])


def referenced_keys(s3: Any, bucket: str, versions: list[dict[str, Any]]) -> dict[str, str]:
    """key → 'name:version' of every object some version's metadata points to."""
    refs = {}
    for v in versions:
        b, key = split_uri(v["uri"])
        if b != bucket:
            continue
        if v["format"] == "dir":
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key.rstrip("/") + "/"):
                refs.update({o["Key"]: f"{v['name']}:{v['version']}" for o in page.get("Contents", [])})
        else:
            refs[key] = f"{v['name']}:{v['version']}"
    return refs


def test_gc_keeps_every_object_a_version_points_to_and_removes_half_made_ones(cloud, clients):
    crashed = []  # runs whose `run` raised (checked last: what they stored is still gc's business)
    runs = [(f"examples/{n}.py", load_example, n, w, i) for n, w, i in EXAMPLE_RUNS]
    runs += [(f"tests/integration/flows/{n}.py", load, n, w, i) for n, w, i in FLOW_RUNS]
    for where, loader, name, workflow, inputs in runs:
        try:
            defs = loader(name)
            run(cloud, defs, workflow, **inputs)
        except Exception as exc:
            crashed.append((f"{where} {workflow}", f"{type(exc).__name__}: {' '.join(str(exc).split())[:240]}"))
        if name == "fanout":
            register(cloud, load_example("uploads"))  # examples/uploads.py has no entry: uploads start it
    s3, bucket = clients["s3"], cloud.settings.bucket
    # uploads as examples/uploads.py takes them: objects put under uploads/<artifact>/<partitions>/
    for key, body in UPLOADS.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    cloud.wait_quiet(60)

    versions = all_versions()
    formats = {v["format"] for v in versions}
    assert {"parquet", "json", "file", "dir"} <= formats, f"the runs should store every layout; got {formats}"
    uploaded = {v["name"] for v in versions if "uploads/" in json.dumps(v.get("produced_by"))}
    assert uploaded == {"raw_sales", "price_list", "store_dropped"}, f"versions made from uploads: {uploaded}"
    missing_before = [m for v in versions for m in missing_objects(s3, v)]
    assert not missing_before, f"versions whose data is missing before gc ran: {missing_before}"

    # half-made versions: data objects in the artifact layout with no metadata item
    single = next(v for v in versions if v["format"] in ("json", "parquet"))
    as_file = next(v for v in versions if v["format"] == "file")
    half_made = []
    for v in (single, as_file):
        _, key = split_uri(v["uri"])
        twin = key.replace(f"/{v['version']}", f"/{HALF_MADE_VERSION}", 1)
        assert twin != key and twin.startswith(f"artifacts/{v['name']}/"), twin
        s3.copy_object(Bucket=bucket, Key=twin, CopySource={"Bucket": bucket, "Key": key})
        half_made.append(twin)
    # keys gc cannot parse as a version's data: left alone, and reported
    unparseable = ["artifacts/README.txt", "artifacts/x/y/z/not-a-version/data.bin"]
    for key in unparseable:
        s3.put_object(Bucket=bucket, Key=key, Body=b"not an artifact")
    refs = referenced_keys(s3, bucket, versions)

    dry = cli_json("gc", "--grace-hours", "0", "--dry-run", "--json")
    would = gc_keys(dry["orphans"])
    wrongly = sorted(f"{k} (data of {refs[k]})" for k in would if k in refs)
    assert not wrongly, f"gc --dry-run calls {len(wrongly)} object(s) orphans that version metadata points to: {wrongly}"
    assert set(half_made) <= would, f"gc --dry-run misses half-made versions: {sorted(set(half_made) - would)}"
    assert not would & set(unparseable), f"gc --dry-run would delete keys it cannot parse: {sorted(would & set(unparseable))}"
    assert all(object_exists(s3, bucket, k) for k in half_made), "--dry-run deleted something"

    report = cli_json("gc", "--grace-hours", "0", "--json")
    deleted = gc_keys(report["deleted"])
    wrongly = sorted(f"{k} (data of {refs[k]})" for k in deleted if k in refs)
    assert not wrongly, f"gc deleted {len(wrongly)} object(s) that version metadata points to: {wrongly}"
    after = [m for v in all_versions() for m in missing_objects(s3, v)]
    assert not after, f"after gc, {len(after)} listed version(s) cannot be read; missing: {after}"
    assert set(half_made) <= deleted, f"gc did not delete half-made versions: {sorted(set(half_made) - deleted)}"
    assert not any(object_exists(s3, bucket, k) for k in half_made), "a half-made version's object is still there"
    for key in unparseable:
        assert object_exists(s3, bucket, key), f"gc deleted {key}, a key it cannot parse"
    assert set(unparseable) <= unknown_keys(report), (
        f"gc should report keys it cannot parse under 'unknown': {sorted(set(unparseable) - unknown_keys(report))}")
    assert "unknown" in report, "gc's report still calls unparseable keys 'foreign'; the new name is 'unknown'"
    errors: dict[str, list[str]] = {}
    for what, error in crashed:
        errors.setdefault(error, []).append(what)
    assert not crashed, f"{len(crashed)} run(s) raised instead of reporting (the report lists every execution of " \
        f"the cloud, so one bad row fails every later run): " + "; ".join(
            f"{error} — in {', '.join(whats)}" for error, whats in errors.items())


# -- 5. lineage through a workflow-level output, both directions -----------------------------------
def graph_index(graph: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str, str]]]:
    nodes = {n["id"]: n for n in graph["nodes"]}
    edges = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    return nodes, edges


def node_of_version(nodes: dict[str, dict[str, Any]], artifact: str, version: str, where: str,
                    why: str = "") -> str:
    found = [i for i, n in nodes.items() if n["kind"] == "version" and n["artifact"] == artifact and n["version"] == version]
    assert len(found) == 1, (f"{where}: {len(found)} nodes for version {artifact}:{version}{why}; "
                             f"nodes: {sorted(nodes)}")
    return found[0]


def node_of_execution(nodes: dict[str, dict[str, Any]], ex: dict[str, Any], where: str) -> str:
    found = [i for i, n in nodes.items() if n["kind"] == "execution" and (
        n.get("execution") == ex["id"] or i.endswith(ex["id"]) or n.get("label") == ex["name"])]
    assert len(found) == 1, f"{where}: no node (or several) for execution {ex['name']} ({ex['workflow']}); nodes: {sorted(nodes)}"
    node = nodes[found[0]]
    assert node["workflow"] == ex["workflow"] and node["launch_plan"] == ex["launch_plan"], (
        f"{where}: execution node {found[0]} has workflow {node['workflow']!r} / launch plan {node['launch_plan']!r}, "
        f"expected {ex['workflow']!r} / {ex['launch_plan']!r}")
    return found[0]


def test_lineage_through_a_workflow_level_output_in_both_directions(cloud):
    sc = wf_output_scenario(cloud)
    fresh = sc["regions"]["emea"]["executions"]
    rep = sc["regions"]["emea"]["report"]
    build, notify = one_run(fresh, "build_report"), one_run(fresh, "notify")
    sales = next(v for v in versions_of(rep, "store_sales") if v["partitions"] == {"region": "emea"})
    report_v = next(v for v in versions_of(rep, "store_report_file") if producer_execution(v) == build["id"])
    succeeded(build, "build_report")

    # upstream (and downstream) of the workflow-level version
    where = f"lineage store_report_file:{report_v['version']}"
    graph = cli_json("lineage", f"store_report_file:{report_v['version']}", "--json")
    nodes, edges = graph_index(graph)
    r = node_of_version(nodes, "store_report_file", report_v["version"], where)
    b = node_of_execution(nodes, build, where)
    s = node_of_version(nodes, "store_sales", sales["version"], where)
    assert (b, r, "output") in edges, f"{where}: no output edge from its producing execution; edges: {sorted(edges)}"
    assert (s, b, "trigger") in edges, f"{where}: build_report's trigger (store_sales) is not upstream; edges: {sorted(edges)}"
    assert (s, b, "input") in edges, f"{where}: build_report's input 'sales' is not upstream; edges: {sorted(edges)}"
    up_graph = (nodes, edges, r, where)

    # downstream of the task-level version upstream of it
    where = f"lineage store_sales:{sales['version']}"
    graph = cli_json("lineage", f"store_sales:{sales['version']}", "--json")
    nodes, edges = graph_index(graph)
    s = node_of_version(nodes, "store_sales", sales["version"], where)
    b = node_of_execution(nodes, build, where)
    assert (s, b, "trigger") in edges, f"{where}: build_report is not downstream as triggered; edges: {sorted(edges)}"
    r = node_of_version(nodes, "store_report_file", report_v["version"], where,
                        " (the workflow-level version should be downstream, as build_report's output)")
    assert (b, r, "output") in edges, (
        f"{where}: the workflow-level version is not downstream of build_report; edges: {sorted(edges)}")

    # the execution the workflow-level version triggered (and that read it through a query), seen from both
    assert notify["status"] == "SUCCEEDED", f"notify {notify['status']}: {notify.get('cause')}"
    n = node_of_execution(nodes, notify, where)
    assert (r, n, "trigger") in edges, (
        f"{where}: the execution the workflow-level version triggered is not downstream; edges: {sorted(edges)}")
    nodes, edges, r, where = up_graph
    n = node_of_execution(nodes, notify, where)
    assert (r, n, "trigger") in edges, f"{where}: the execution it triggered is not downstream; edges: {sorted(edges)}"
    assert (r, n, "input") in edges, f"{where}: notify read it through a query; that input edge is missing: {sorted(edges)}"


# -- 6. an uploaded version's producer in every view -------------------------------------------------
def assert_not_an_execution(nodes: Iterable[dict[str, Any]], upload_key: str, where: str) -> None:
    for node in nodes:
        if node["kind"] != "execution":
            continue
        arn = node.get("execution") or node["id"].removeprefix("execution:")
        assert arn.startswith("arn:aws:states:") and ":execution:" in arn, (
            f"{where}: the upload appears as an execution node {node['id']!r} (label {node.get('label')!r}, "
            f"status {node.get('status')!r})")
        assert upload_key not in json.dumps(node), f"{where}: an execution node names the upload key: {node}"


def test_uploaded_version_names_its_object_as_producer_in_every_view(cloud, clients, tmp_path):
    seen: set[str] = set()
    new_executions(run(cloud, load("store_uploads"), "store_noop"), seen)  # registers store_dropped
    path = tmp_path / "drop emea.csv"
    path.write_text("sku,units\na,3\nb,4\nc,5\n")
    up = cli_json("upload", str(path), "--artifact", "store_dropped", "--partition", "region=emea",
                  "--time-partition", "2026-11-24", "--json")
    bucket, key = split_uri(up["uri"])
    assert bucket == cloud.settings.bucket and key.startswith("uploads/store_dropped/"), up["uri"]
    assert up["upload"] and up["upload"]["state"] == "registered", f"the upload was not registered: {up['upload']}"
    version = up["upload"]["version"]
    head = clients["s3"].head_object(Bucket=bucket, Key=key)
    s3_version = head.get("VersionId") if head.get("VersionId") not in (None, "null") else None
    triggered = [e for e in up["executions"] if e["launch_plan"] == "store_read_on_drop"]
    assert len(triggered) == 1, f"the upload should trigger store_read_on_drop once: {describe(up['executions'])}"
    triggered = triggered[0]
    assert succeeded(triggered, "store_read_on_drop")["outputs"]["o0"] == 12, triggered["outputs"]

    def check_producer(producer: Any, where: str) -> None:
        assert isinstance(producer, dict), (
            f"{where}: produced_by should be a typed object {{'kind': 'upload', 'bucket', 'key', 'version_id'}}, "
            f"got {producer!r}")
        assert producer.get("kind") == "upload", f"{where}: produced_by.kind is {producer.get('kind')!r}: {producer}"
        assert (producer.get("bucket"), producer.get("key")) == (bucket, key), (
            f"{where}: produced_by names {producer.get('bucket')!r}/{producer.get('key')!r}, expected {bucket}/{key}")
        if s3_version is not None:  # the stage bucket is versioned: the producer pins the object's version
            assert producer.get("version_id") == s3_version, (
                f"{where}: produced_by.version_id {producer.get('version_id')!r} is not the object's {s3_version!r}")
        assert "execution" not in producer or producer["execution"] is None, f"{where}: {producer}"

    # artifacts show NAME:VERSION
    detail = cli_json("artifacts", "show", f"store_dropped:{version}", "--json")
    check_producer(detail["version"]["produced_by"], "artifacts show")
    top = detail.get("produced_by")
    if top is not None:  # a producer summary next to the version: the upload, never an execution row
        check_producer(top, "artifacts show (produced_by summary)")
    bogus = [e for e in detail.get("edges", []) if e.get("execution") and (
        not str(e["execution"]).startswith("arn:aws:states:") or key in str(e["execution"]))]
    assert not bogus, f"artifacts show: edges naming the upload as an execution: {bogus}"

    # artifacts NAME
    listed = cli_json("artifacts", "store_dropped", "--json")
    [mine] = [v for v in listed if v["version"] == version]
    check_producer(mine["produced_by"], "artifacts store_dropped")

    # lineage NAME:VERSION
    graph = cli_json("lineage", f"store_dropped:{version}", "--json")
    where = "lineage"
    assert_not_an_execution(graph["nodes"], key, where)
    nodes, edges = graph_index(graph)
    root = node_of_version(nodes, "store_dropped", version, where)
    ups = [e for e in graph["edges"] if e["target"] == root and e["kind"] == "output"]
    assert not ups, f"{where}: the uploaded version has a producing-execution edge: {ups}"
    producers = find_dicts(graph, kind="upload")
    assert producers, f"{where}: the graph does not show the upload as the version's producer: {graph['nodes']}"
    for p in producers:
        check_producer(p, where)
    t = node_of_execution(nodes, triggered, where)
    assert (root, t, "trigger") in edges, f"{where}: the execution the upload triggered is not downstream: {sorted(edges)}"

    # uploads: the object and the version it became
    states = {s["key"]: s for s in cli_json("uploads", "--json")}
    assert states.get(key, {}).get("version") == version, f"uploads does not map {key} to {version}: {states.get(key)}"

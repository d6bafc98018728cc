"""Registration reconciles: a launch plan deleted from its file stops firing, is reported and listed as removed,
other files' launch plans are untouched, and adding it back registers it again. `register --stage local` works
from any folder against a running local server, whose task runner imports only registered modules. One
declaration per artifact name."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import main
from tests.integration.conftest import FLOWS, register, run, runs_of, stage_of, without_launch_plans


def _load(*paths: Path):
    from chalicelib.runtime import loader

    return loader.load_paths(list(paths))


def _source(folder: Path, version: str) -> Path:
    """reg_plans.py (version "") or reg_plans_v2.py ("_v2") as the one file `folder/reg_source.py`."""
    folder.mkdir(exist_ok=True)
    target = folder / "reg_source.py"
    shutil.copyfile(FLOWS / f"reg_plans{version}.py", target)
    return target


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _consumed(rep, lp):
    return sorted(r["outputs"]["o0"] for r in runs_of(rep, lp))


def test_a_launch_plan_deleted_from_its_file_stops_firing_and_comes_back(cloud, tmp_path):
    source = _source(tmp_path / "flows", "")
    defs = _load(source)
    rep = run(cloud, defs, "emit", source="a", n=1)
    assert _consumed(rep, "reg_keep") == [1] and _consumed(rep, "reg_drop") == [1]
    other = register(cloud, _load(FLOWS / "reg_other.py"))  # another file, on the same artifact
    assert other.removed == []

    _source(tmp_path / "flows", "_v2")  # the same file, now without reg_drop
    defs2 = _load(source)
    assert sorted(defs2.launch_plans) == ["reg_keep"]
    result = register(cloud, defs2)
    assert result.removed == ["reg_drop"]
    assert any(line.startswith("removed launch plan reg_drop (no longer defined in ") for line in result.changed)
    subs = {s.launch_plan for s in stage_of(cloud).registry.subscriptions_for("reg_events")}
    assert subs == {"reg_keep", "reg_other"}, "the removed plan's subscription is gone, the other file's stays"

    rep = run(cloud, without_launch_plans(defs2), "emit", source="a", n=2)
    assert _consumed(rep, "reg_drop") == [1], "removed: it no longer fires"
    assert _consumed(rep, "reg_keep") == [1, 2] and _consumed(rep, "reg_other") == [2]

    rows = {p["name"]: p for p in _cli("launchplan", "list")["launch_plans"]}
    assert rows["reg_drop"]["status"] == "removed" and rows["reg_drop"]["removed"] is True
    assert rows["reg_drop"]["module"] == "reg_source" and rows["reg_drop"]["source"] == source.resolve().as_posix()
    assert rows["reg_keep"]["status"] == "active" and rows["reg_other"]["status"] == "active"
    assert rows["reg_other"]["module"] == "reg_other"
    table = CliRunner().invoke(main, ["launchplan", "list"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "removed" in table.output, table.output
    refused = CliRunner().invoke(main, ["launchplan", "activate", "reg_drop"])
    assert refused.exit_code == 1 and "launch plan 'reg_drop' was removed" in refused.output
    assert register(cloud, defs2).removed == [], "registering the same file again removes nothing more"

    _source(tmp_path / "flows", "")  # added back: registered again, as declared
    result = register(cloud, _load(source))
    assert result.removed == [] and "reg_drop" in result.launch_plans
    rep = run(cloud, without_launch_plans(defs2), "emit", source="a", n=3)
    assert _consumed(rep, "reg_drop") == [1, 3]
    assert _cli("launchplan", "list", "reg_drop")["launch_plan"]["status"] == "active"


def test_registering_a_folder_reconciles_every_file_in_it_and_only_that(cloud, tmp_path):
    folder = tmp_path / "wf"
    folder.mkdir()
    shutil.copyfile(FLOWS / "reg_other.py", folder / "reg_other.py")
    _source(folder, "")
    register(cloud, _load(folder))
    (folder / "reg_other.py").unlink()
    assert register(cloud, _load(FLOWS / "sem_activation.py")).removed == [], "another file: nothing removed"
    assert register(cloud, _load(folder / "reg_source.py")).removed == [], "one file: only its own module"
    result = register(cloud, _load(folder))  # the folder: reg_other.py is gone, reg_source.py defines both
    assert result.removed == ["reg_other"]
    rows = {p["name"]: p["status"] for p in _cli("launchplan", "list")["launch_plans"]}
    assert rows == {"reg_keep": "active", "reg_drop": "active", "reg_other": "removed",
                    "act_on_event": "active", "act_dormant": "inactive"}


def test_register_stage_local_from_any_folder_fires_in_the_running_server(tmp_path):
    from chalicelib.local.server import LocalServer

    file = tmp_path / "anywhere" / "reg_late.py"
    file.parent.mkdir()
    shutil.copyfile(FLOWS / "reg_late.py", file)
    with LocalServer(port=0) as server:
        out = CliRunner().invoke(main, ["register", "--stage", "local", str(file), "--endpoint-url", server.endpoint_url])
        assert out.exit_code == 0, out.output
        assert "launch plan reg_late_lp" in out.output and f"recorded module reg_late from {file.resolve().as_posix()}" in out.output
        # the server's task runner must import the file itself, as a server in another process does
        sys.modules.pop("reg_late", None)
        sys.path[:] = [p for p in sys.path if p != str(file.parent)]
        data = tmp_path / "late.csv"
        data.write_text("sku,units\na,1\nb,2\nc,3\n")
        up = CliRunner().invoke(main, ["upload", str(data), "--artifact", "reg_late_in", "--partition", "region=emea",
                                       "--json", "--endpoint-url", server.endpoint_url])
        assert up.exit_code == 0, up.output
        [execution] = json.loads(up.stdout)["executions"]
        assert execution["launch_plan"] == "reg_late_lp" and execution["status"] == "SUCCEEDED", execution
        assert execution["logs"] == ["late rows: 3"]
        assert Path(sys.modules["reg_late"].__file__).resolve() == file.resolve()

        source = _source(tmp_path / "flows", "")
        args = ["register", "--stage", "local", str(source), "--endpoint-url", server.endpoint_url]
        assert CliRunner().invoke(main, args).exit_code == 0
        _source(tmp_path / "flows", "_v2")
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 0, out.output
        assert "launch plan reg_drop removed (no longer defined; it fires no more)" in out.output
        assert "launch plan reg_late_lp" not in out.output, "only what this registration covers"
        assert server.errors == []


def test_the_task_runner_refuses_a_module_nothing_registered_before_importing_it(cloud, tmp_path):
    from chalicelib import aws
    from tests.integration.support import executions

    marker = tmp_path / "imported"
    (tmp_path / "reg_never.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(tmp_path))  # importable by name: only the allow-list stands in the way
    try:
        run(cloud, _load(FLOWS / "reg_other.py"), "on_event_other", n=1)
        [ex] = executions(cloud)
        sfn = aws.client("stepfunctions", cloud.settings.region)
        [scheduled] = [e for e in sfn.get_execution_history(executionArn=ex["arn"])["events"]
                       if e["type"] == "LambdaFunctionScheduled"]
        payload = json.loads(scheduled["lambdaFunctionScheduledEventDetails"]["input"])
        payload["task"]["module"] = "reg_never"
        resp = aws.client("lambda", cloud.settings.region).invoke(
            FunctionName=f"{cloud.settings.prefix}task_runner", Payload=json.dumps(payload).encode())
        body = json.loads(resp["Payload"].read())
        assert resp.get("FunctionError") and body["errorType"] == "UnregisteredModuleError", body
        assert "refusing to import module 'reg_never'" in body["errorMessage"]
        assert "allowed: reg_other" in body["errorMessage"]
        assert not marker.exists() and "reg_never" not in sys.modules, "refused before any import"
    finally:
        sys.path.remove(str(tmp_path))


def test_a_deployed_task_runner_allows_only_the_packaged_workflow_modules(tmp_path, monkeypatch):
    from chalicelib.runtime import loader

    marker = tmp_path / "imported"
    (tmp_path / "reg_never.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "cascade-dev-task_runner")  # what the Lambda runtime sets
    assert isinstance(loader.default_sources(), loader.PackagedModules)
    with pytest.raises(loader.UnregisteredModuleError, match="refusing to import module 'reg_never'.*trigger_on_artifact"):
        loader.import_module("reg_never")
    assert not marker.exists() and "reg_never" not in sys.modules
    with pytest.raises(loader.UnregisteredModuleError, match="'os'"):
        loader.import_module("os")
    module = loader.import_module("trigger_on_artifact")
    assert Path(module.__file__).resolve() == (loader.PACKAGED_WORKFLOWS / "trigger_on_artifact.py").resolve()


def test_one_artifact_name_declared_twice_differently_fails_run():
    result = CliRunner().invoke(main, ["run", str(FLOWS / "reg_dup_artifact.py"), "dup_wf"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "artifact 'reg_dup' is declared twice with different settings" in text
    assert "reg_dup_artifact.ByRegion" in text and "reg_dup_artifact.ByCountry" in text
    assert "partition_keys ['region'] vs ['country']" in text


def test_another_file_may_not_redeclare_a_registered_artifact_but_its_own_file_may(cloud, tmp_path):
    from chalicelib.errors import DefinitionError

    source = _source(tmp_path / "flows", "")
    register(cloud, _load(source))
    with pytest.raises(DefinitionError) as refused:
        register(cloud, _load(FLOWS / "reg_artifact_changed.py"))
    message = str(refused.value)
    assert "artifact 'reg_events' is declared by module reg_artifact_changed" in message
    assert "declaration by module reg_source" in message and "partition_keys ['kind'] vs ['source']" in message
    assert "reg_changed" not in {p.name for p in stage_of(cloud).plans.all()}, "refused before any change"

    changed = source.read_text().replace('partition_keys=["source"]', 'partition_keys=["source", "kind"]')
    changed = changed.replace("Events(source=Inputs.source)", "Events(source=Inputs.source, kind=Inputs.source)")
    source.write_text(changed)  # the declaring file changes its own declaration: it replaces the stored one
    result = register(cloud, _load(source))
    assert "declared artifact reg_events" in result.changed
    from chalicelib.store.declarations import Declarations

    stored = Declarations(cloud.settings.registry_table, stage_of(cloud).dynamodb).get("reg_events")
    assert stored is not None and stored.partition_keys == ["source", "kind"] and stored.module == "reg_source"

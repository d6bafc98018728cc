"""What each Lambda handler imports on a cold start (what it costs is measured in benchmarks/cold_start.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import ROOT

TRIGGER = "import app, chalicelib.trigger.handler"
# The authoring SDK, pandas, powertools' batch utility (which, when pydantic is already loaded, also builds
# every pydantic event model powertools has) and powertools' event data classes (whose package imports every
# event class it has; chalicelib.events.stream reads the records) have no business on the trigger's cold path.
NOT_ON_TRIGGER_PATH = [
    "pandas",
    "chalicelib.sdk.artifact",
    "chalicelib.sdk.task",
    "chalicelib.sdk.workflow",
    "chalicelib.sdk.launch_plan",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.data_classes",
]


def after(statement: str, expression: str = "sorted(sys.modules)") -> Any:
    """`expression`, evaluated in a fresh interpreter once `statement` ran (JSON in between)."""
    code = f"import json, sys\n{statement}\nprint(json.dumps({expression}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def loaded_after(statement: str) -> set[str]:
    return set(after(statement))


def test_the_trigger_path_stays_light():
    modules = loaded_after(TRIGGER)
    assert [m for m in NOT_ON_TRIGGER_PATH if m in modules] == []


def test_the_trigger_path_never_imports_pydantic_or_pandas():
    # pydantic's import, its core schemas and its plugin scan would be most of the trigger's cold start: the
    # trigger's classes are checked msgspec Structs (chalicelib.checks), pydantic stays at the other boundaries
    modules = loaded_after(TRIGGER)
    assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core", "pandas")) == []


def test_what_a_trigger_invocation_runs_imports_no_pydantic_either():
    # past the import: settings from the environment, a version read from its stream record, a decision, and
    # the run request as a start claim records it and reads it back
    modules = loaded_after(
        f"{TRIGGER}; import os; "
        "os.environ.update(CASCADE_BUCKET='b', CASCADE_ARTIFACTS_TABLE='a', CASCADE_REGISTRY_TABLE='r', "
        "CASCADE_INDEX_TABLE='i', AWS_REGION='us-east-1'); "
        "from chalicelib.config import Settings; Settings.from_env(); "
        "from chalicelib.events.stream import version_from_record; "
        "from chalicelib.store.dynamo import to_dynamo; "
        "from chalicelib.store.models import ArtifactVersion, Subscription; "
        "from chalicelib.trigger.decide import RunRequest, decide; "
        "v = ArtifactVersion(name='a', version='v1', uri='s3://b/k', format='json', partitions={'k': 'x'}, "
        "created_at='2026-11-24T00:00:00.123Z', "
        "produced_by='arn:aws:states:us-east-1:1:execution:sm:x'); "
        "record = {'eventID': '1', 'eventName': 'INSERT', 'dynamodb': {'NewImage': to_dynamo(v.to_item())}}; "
        "assert version_from_record(record) == v; "
        "s = Subscription(artifact='a', launch_plan='lp', lp_version='1', workflow='m.w', state_machine_arn='arn'); "
        "[r] = decide(v, [s]); assert RunRequest.from_dict(r.to_dict()) == r")
    assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core", "pandas")) == []


def test_the_trigger_path_stays_light_when_pydantic_is_loaded_first():
    modules = loaded_after(f"import pydantic; {TRIGGER}")
    assert [m for m in NOT_ON_TRIGGER_PATH if m in modules] == []


def test_the_task_runner_path_does_not_import_pandas_until_a_frame_is_read():
    assert "pandas" not in loaded_after("import app, chalicelib.runtime.runner")


def test_every_public_sdk_name_resolves():
    import chalicelib

    missing = [name for name in chalicelib.__all__ if getattr(chalicelib, name, None) is None]
    assert missing == []
    assert sorted(chalicelib.__all__) == sorted(n for n in dir(chalicelib) if n in chalicelib.__all__)


def test_every_function_skips_pydantics_plugin_scan():
    # the stage's environment goes to every function, in `.chalice/config.json` and in the stack template
    # (chalicelib.deploy.stage_config, chalicelib.deploy.template); the scan reads every installed distribution
    from chalicelib.deploy.template import symbolic_stage

    assert symbolic_stage("dev").environment()["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


def test_the_task_runner_path_never_imports_pydantic_or_pandas():
    # the runner's payloads (chalicelib.events.task), gates, map specs, gate records and lineage edges are
    # checked Structs too: pydantic's import and schema building would be most of the runner's cold start
    modules = loaded_after("import app, chalicelib.runtime.runner")
    assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core", "pandas")) == []


def test_what_a_task_runner_invocation_reads_imports_no_pydantic_either():
    # past the import: a Task state's payload, an item of a mapped task, a Collect state's spec, a gate's
    # payload and record, a lineage edge read back from its item
    modules = loaded_after(
        "import app, chalicelib.runtime.runner; "
        "from chalicelib.events.task import parse_runner_event; "
        "from chalicelib.runtime import gates, mapping; "
        "from chalicelib.store.gates import GateRecord; "
        "from chalicelib.store.lineage import Edge; "
        "raw = {'workflow': 'm.wf', 'node': 'n0', 'task': {'module': 'm', 'name': 't'}, 'bindings': {}, "
        "'meta': {}, 'inputs': {}, 'results': {}, 'execution_id': 'arn:x', 'execution_start': '2026-11-24T00:00:00Z'}; "
        "e = parse_runner_event(raw); e.with_node('n0-1'); "
        "mapping.parse({**raw, 'mode': 'map_collect', 'count': 2, 'map': {'label': 'l', 'outputs': ['o0']}}); "
        "g = gates.GateEvent.from_dict({'mode': 'gate', 'gate': {'name': 'g', 'kind': 'approve'}, 'workflow': 'm.wf', "
        "'node': 'n1', 'execution_id': 'arn:x', 'token': 't'}); "
        "r = GateRecord(execution='arn:x', name='g', kind='approve', token='t', waiting_since=1); "
        "assert GateRecord.from_item(r.to_item()) == r; "
        "edge = Edge(kind='input', execution='arn:x', artifact='a', version='v1', via='query'); "
        "assert Edge.from_item(edge.items()[0]) == edge")
    assert sorted(m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core", "pandas")) == []


def dataclasses_defined_after(statement: str) -> list[str]:
    """The project's classes built by stdlib dataclasses once `statement` ran (each compiles about six methods
    at import, about 1 ms a class: the Lambda paths define msgspec Structs instead)."""
    return after(statement, "sorted(f'{m}.{k}' for m, mod in list(sys.modules.items())\n"
                            "       if m.split('.')[0] in ('app', 'chalicelib') for k, v in vars(mod).items()\n"
                            "       if isinstance(v, type) and v.__module__ == m and '__dataclass_fields__' in v.__dict__)")


def test_neither_lambda_path_builds_dataclasses():
    assert dataclasses_defined_after(TRIGGER) == []
    assert dataclasses_defined_after("import app, chalicelib.runtime.runner") == []

"""The stage template's generated parts (chalicelib/deploy/template.py) and the stack states a deploy refuses
or recovers from (chalicelib/deploy/stack.py), without AWS."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.deploy import stack
from chalicelib.deploy.appinfo import AppInfo, S3Handler
from chalicelib.deploy.build import load_infra, normalized_zip, stage_options
from chalicelib.deploy.errors import DeployError, StackError
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS
from chalicelib.deploy.template import (
    StageOptions, bootstrap_template, function_id, merge_template, sub, symbolic_stage,
)
from chalicelib.deploy.workspace import copy_project

ROOT = Path(__file__).resolve().parents[2]
APP = AppInfo(app_name="cascade", functions=["api_handler", "on_artifact_event", "on_upload", "task_runner"],
              s3_handlers=[S3Handler(function="on_upload", bucket="b", prefix="uploads/", events=["s3:ObjectCreated:*"])])


def test_sub_wraps_references_and_leaves_intrinsics_and_plain_strings():
    assert sub({"a": "x-${AWS::Region}", "b": "plain", "c": {"Ref": "X"}, "d": ["${T.Arn}", 3]}) == {
        "a": {"Fn::Sub": "x-${AWS::Region}"}, "b": "plain", "c": {"Ref": "X"}, "d": [{"Fn::Sub": "${T.Arn}"}, 3]}


def test_symbolic_stage_names_no_account():
    env = json.dumps(symbolic_stage("dev").environment())
    assert "123456789012" not in env and "${AWS::AccountId}" in env and "${ArtifactsTable.StreamArn}" in env


def test_merge_template_wires_the_stream_upload_layer_and_options():
    infra = load_infra(ROOT)
    merged = merge_template(infra, "dev", APP, StageOptions(parallelization_factor=4), "deploy/layers/x.zip",
                            functions_layer_key="deploy/layers/f.zip")
    res = merged["Resources"]
    event = res["OnArtifactEvent"]["Properties"]["Events"]["OnArtifactEventDynamodbEventSource"]["Properties"]
    assert event["ParallelizationFactor"] == 4 and event["Stream"] == {"Fn::GetAtt": ["ArtifactsTable", "StreamArn"]}
    # every function's dependencies come from the functions layer, listed first; task code adds the tasks layer
    for fn in APP.functions:
        layers = res[function_id(fn)]["Properties"]["Layers"]
        assert layers == [{"Ref": "FunctionsLayer"}] + ([{"Ref": "TasksLayer"}] if fn in TASK_CODE_FUNCTIONS else [])
    assert res["TaskRunner"]["Properties"]["Layers"] == [{"Ref": "FunctionsLayer"}, {"Ref": "TasksLayer"}]
    assert res["OnArtifactEvent"]["Properties"]["Layers"] == [{"Ref": "FunctionsLayer"}]
    functions_layer = res["FunctionsLayer"]
    assert functions_layer["Type"] == "AWS::Lambda::LayerVersion"
    assert functions_layer["Properties"]["Content"]["S3Key"] == "deploy/layers/f.zip"
    assert functions_layer["Properties"]["LayerName"] == "cascade-dev-functions"
    assert res["TaskRunner"]["Properties"]["FunctionName"] == "cascade-dev-task_runner"
    assert res["APIHandler"]["Properties"]["FunctionName"] == "cascade-dev"
    assert res["ArtifactBucket"]["DependsOn"] == ["OnUploadS3Permission"]
    assert res["TasksLayer"]["Properties"]["Content"]["S3Key"] == "deploy/layers/x.zip"
    # the bucket is named, not referenced, by the functions: no dependency cycle through its notification
    for name in ("TaskRunner", "OnUpload", "OnUploadRole", "TasksLayer", "FunctionsLayer", "OnUploadS3Permission"):
        assert "ArtifactBucket" not in json.dumps(res[name]), name
    assert "NotificationConfiguration" not in bootstrap_template(merged)["Resources"]["ArtifactBucket"]["Properties"]
    assert "NotificationConfiguration" not in infra["Resources"]["ArtifactBucket"]["Properties"]  # input untouched
    # the stack's first version already has the accepted findings' Metadata: adding the functions changes no table
    from chalicelib.deploy.hardening import justify

    first = bootstrap_template(infra)["Resources"]
    assert first["ArtifactsTable"] == justify(infra)["Resources"]["ArtifactsTable"] != infra["Resources"]["ArtifactsTable"]


def test_without_the_functions_layer_only_task_code_lists_a_layer():
    merged = merge_template(load_infra(ROOT), "dev", APP, StageOptions(), "deploy/layers/x.zip")
    res = merged["Resources"]
    assert "FunctionsLayer" not in res and "Layers" not in res["OnArtifactEvent"]["Properties"]
    assert res["TaskRunner"]["Properties"]["Layers"] == [{"Ref": "TasksLayer"}]


def test_stage_options_come_from_the_stage_config_and_bad_ones_name_the_key(tmp_path: Path):
    project = copy_project(ROOT, tmp_path / "p")
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["cascade"] = {"uploads_expiration_days": 3}
    config_path.write_text(json.dumps(config))
    assert stage_options(project, "dev").parameters()["UploadsExpirationDays"] == "3"
    assert stage_options(project, "prod").parameters()["UploadsExpirationDays"] == "7"
    config["stages"]["dev"]["cascade"] = {"parallelization_factor": 11, "typo": 1}
    config_path.write_text(json.dumps(config))
    with pytest.raises(DeployError, match=r"stages\.dev\.cascade: parallelization_factor: .*typo"):
        stage_options(project, "dev")


class _Cfn:
    """A CloudFormation client holding one stack in a given status (the states moto cannot produce)."""

    def __init__(self, status: str) -> None:
        self.status, self.calls = status, []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"Stacks": [{"StackStatus": self.status, "Parameters": [], "Outputs": []}]}

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"StackEvents": [{"LogicalResourceId": "TaskRunner", "ResourceStatus": "UPDATE_FAILED",
                                 "ResourceStatusReason": "role missing"}]}

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            raise AssertionError(f"unexpected {name}")
        return call


@pytest.mark.parametrize("status, fix", [
    ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name cascade-dev-infra"),
    ("DELETE_FAILED", "python -m chalicelib destroy --stage dev"),
])
def test_a_broken_stack_is_one_line_naming_the_fix_and_nothing_is_changed(status: str, fix: str):
    cfn = _Cfn(status)
    with pytest.raises(StackError) as info:
        stack.deploy_change_set(cfn, "cascade-dev-infra", "dev", "{}", {})
    message = str(info.value)
    assert status in message and fix in message and "role missing" in message and "\n" not in message
    assert cfn.calls == []


# -- the workflows' resources (chalicelib/deploy/workflow_stack.py) --------------------------------------------

SCHED = ROOT / "tests" / "integration" / "flows" / "sched_basic.py"
ALIAS = "arn:aws:lambda:eu-west-1:123456789012:function:cascade-dev-task_runner:live"


def _substituted(definition: dict[str, str]) -> Any:
    """What CloudFormation's Fn::Sub makes of a DefinitionString in account 123456789012, eu-west-1."""
    text = definition["Fn::Sub"]
    for name, value in (("AWS::Partition", "aws"), ("AWS::Region", "eu-west-1"), ("AWS::AccountId", "123456789012")):
        text = text.replace("${%s}" % name, value)
    assert "${" not in text.replace("${!", "")
    return json.loads(text.replace("${!", "${"))


def _by_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_state_machines_are_what_registration_compiles_against_the_alias():
    from chalicelib.compile import compile_workflow
    from chalicelib.deploy import workflow_stack
    from chalicelib.runtime import loader

    defs = loader.load_paths([SCHED, ROOT / "chalicelib" / "workflows"])
    res = workflow_stack.resources(defs, "dev")
    machines = _by_type(res, "AWS::StepFunctions::StateMachine")
    assert sorted(m["Properties"]["StateMachineName"] for m in machines.values()) == sorted(
        f"cascade-dev-{name.replace('.', '-')}" for name in defs.workflows)
    for lid, machine in machines.items():
        props = machine["Properties"]
        (name,) = [n for n in defs.workflows if props["StateMachineName"].endswith(n.replace(".", "-"))]
        assert _substituted(props["DefinitionString"]) == compile_workflow(defs.workflows[name], ALIAS)
        assert props["RoleArn"] == {"Fn::GetAtt": ["StatesRole", "Arn"]} and lid.isalnum()
    assert json.dumps(res, sort_keys=True) == json.dumps(workflow_stack.resources(loader.load_paths(
        [SCHED, ROOT / "chalicelib" / "workflows"]), "dev"), sort_keys=True)  # deterministic


def test_a_literal_dollar_brace_in_a_workflow_survives_fn_sub():
    from chalicelib.deploy.workflow_stack import definition_string

    definition = {"States": {"A": {"Type": "Pass", "Result": "${not-a-reference}"}}}
    assert definition_string(definition)["Fn::Sub"].count("${!not-a-reference}") == 1
    assert _substituted(definition_string(definition)) == definition


def test_schedules_and_notifications_are_stack_resources():
    from chalicelib.deploy import workflow_stack
    from chalicelib.ops.notify import filter_policy
    from chalicelib.runtime import loader

    res = workflow_stack.resources(loader.load_paths([SCHED]), "dev")
    assert res["ScheduleGroup"]["Properties"] == {"Name": "cascade-dev-schedules"}
    schedules = {s["Properties"]["Name"]: s["Properties"] for s in _by_type(res, "AWS::Scheduler::Schedule").values()}
    assert sorted(schedules) == ["broken", "hourly"]
    hourly = schedules["hourly"]
    assert hourly["ScheduleExpression"] == "cron(0 * * * ? *)" and hourly["State"] == "ENABLED"
    assert hourly["GroupName"] == {"Ref": "ScheduleGroup"}
    assert hourly["Target"]["Arn"] == {"Fn::GetAtt": ["OnSchedule", "Arn"]}
    assert hourly["Target"]["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert json.loads(hourly["Target"]["Input"])["launch_plan"] == "hourly"
    rules = {r["Properties"]["Name"]: r["Properties"] for r in _by_type(res, "AWS::Events::Rule").values()}
    rule = rules["cascade-dev-notify-hourly"]
    (machine,) = [k for k, v in res.items() if v["Type"] == "AWS::StepFunctions::StateMachine"]
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [{"Ref": machine}]
    (topic_id,) = [k for k, v in res.items() if v["Type"] == "AWS::SNS::Topic"
                   and v["Properties"]["TopicName"] == "cascade-dev-notify-hourly"]
    assert rule["Targets"] == [{"Id": "topic", "Arn": {"Ref": topic_id}}]
    subs = {s["Properties"]["Endpoint"]: s["Properties"] for s in _by_type(res, "AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == {"Ref": topic_id}}
    assert subs["ops@example.com"]["FilterPolicy"] == json.loads(filter_policy(["FAILED"]))
    assert subs["chan@example.slack.com"]["FilterPolicy"] == json.loads(filter_policy(["FAILED", "SUCCEEDED"]))
    policies = [p["Properties"] for p in _by_type(res, "AWS::SNS::TopicPolicy").values()
                if p["Properties"]["Topics"] == [{"Ref": topic_id}]]
    (statement,) = policies[0]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][1] == "Arn"


def test_registration_finds_what_differs_from_the_stack():
    from chalicelib.deploy import workflow_stack
    from chalicelib.runtime import loader

    res = workflow_stack.resources(loader.load_paths([SCHED]), "dev")
    deployed = {"Resources": json.loads(json.dumps(res))}
    deployed["Resources"]["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}  # infra's, not a workflow's
    assert workflow_stack.differences(res, deployed, complete=True) == []
    assert workflow_stack.owned(deployed).stack and not workflow_stack.owned({"Resources": {}}).stack
    (schedule,) = [k for k, v in res.items() if v["Properties"].get("Name") == "hourly"]
    deployed["Resources"][schedule]["Properties"]["ScheduleExpression"] = "rate(1 hour)"
    deployed["Resources"]["StateMachineGone12345678"] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}}
    (machine,) = [k for k, v in res.items() if v["Type"] == "AWS::StepFunctions::StateMachine"]
    del deployed["Resources"][machine]
    problems = workflow_stack.differences(res, deployed, complete=True)
    assert "Schedule hourly differs from the stack's" in problems
    assert "StateMachine cascade-dev-sched_basic-daily is not in the stack" in problems
    assert "StateMachine StateMachineGone12345678 is in the stack but no longer defined" in problems
    assert not any("Gone" in p for p in workflow_stack.differences(res, deployed, complete=False))


def test_alarms_notify_the_alarm_topic_and_the_email_is_a_stage_option(tmp_path: Path):
    res = load_infra(ROOT)["Resources"]
    alarms = [r["Properties"] for r in res.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(a["AlarmActions"] == a["OKActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    (statement,) = res["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert StageOptions().parameters()["AlarmEmail"] == ""
    assert StageOptions(alarm_email="ops@example.com").parameters()["AlarmEmail"] == "ops@example.com"
    with pytest.raises(ValueError, match="alarm_email"):
        StageOptions(alarm_email="not an address")


# -- the whole stage template: cfn-lint and checkov ---------------------------------------------------------------

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def stage_template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stage's template as `deploy --template-only` builds it (without the tasks layer), with the resources of
    a workflow file that has schedules and notifications added, so every kind of resource is checked."""
    from chalicelib.deploy import hardening, workflow_stack
    from chalicelib.deploy.build import build_stage
    from chalicelib.runtime import loader

    project = copy_project(ROOT, tmp_path_factory.mktemp("stage") / "p")
    built = build_stage(project, "dev", "us-east-1", echo=None, with_layer=False)
    template = json.loads(built.path.read_text())
    template["Resources"].update(workflow_stack.resources(loader.load_paths([SCHED]), "dev"))
    path = built.path.with_name("checked.json")
    path.write_text(json.dumps(hardening.justify(template), indent=2, sort_keys=True))
    return path


@pytest.mark.slow
def test_the_stage_template_passes_cfn_lint(stage_template_file: Path):
    from cfnlint.api import lint_file

    matches = lint_file(stage_template_file)
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
    kinds = {r["Type"] for r in json.loads(stage_template_file.read_text())["Resources"].values()}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Scheduler::Schedule", "AWS::SNS::Subscription"} <= kinds


@pytest.mark.slow
@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is not installed: `make checkov` creates .venv-checkov "
                                                 "from requirements-checkov.txt")
def test_checkov_finds_nothing_but_the_accepted_findings(stage_template_file: Path):
    import subprocess

    from chalicelib.deploy.hardening import ACCEPTED
    proc = subprocess.run([str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--compact",
                           "-f", str(stage_template_file)], capture_output=True, text=True)
    report = json.loads(proc.stdout)
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']}" for c in results["failed_checks"]]
    assert failed == [] and proc.returncode == 0
    skipped = {c["check_id"] for c in results["skipped_checks"]}
    assert skipped == {a.check for a in ACCEPTED}  # every accepted finding still arises: none is stale
    assert all(c["check_result"].get("suppress_comment") for c in results["skipped_checks"])


# -- registration and the deploy beside a stack that holds the workflows (the local cloud: moto) -----------------

def test_registration_of_a_stack_owned_stage_stores_plans_and_schedule_specs_only(cloud: Any):
    from chalicelib.ops.register import Registrar, StackOwned
    from chalicelib.ops.stage import Stage
    from chalicelib.runtime import loader
    from chalicelib.store.schedules import ScheduleStore

    stage = Stage(cloud.settings)
    defs = loader.load_paths([SCHED])
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:cascade-local-sched_basic-daily"
    owned = StackOwned(stack="cascade-local-infra", state_machines={"sched_basic.daily": arn})
    registered = Registrar(cloud.settings, stage.sfn, stage.registry, cloud.states_role_arn, owned=owned).register(defs)
    assert registered.owner == "cascade-local-infra" and registered.state_machines == {"sched_basic.daily": arn}
    assert not any("state machine" in c or "schedule group" in c or "rule" in c for c in registered.changed)
    assert stage.sfn.list_state_machines()["stateMachines"] == []
    scheduler = stage.client("scheduler")
    assert "cascade-local-schedules" not in [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert stage.client("events").list_rules(NamePrefix="cascade-local-notify-")["Rules"] == []
    specs = {s.launch_plan: s for s in ScheduleStore(cloud.settings.registry_table, stage.dynamodb).all()}
    assert sorted(specs) == ["broken", "hourly"] and specs["hourly"].state_machine_arn == arn
    assert stage.plans.get("hourly").state_machine_arn == arn  # launch plans point at the stack's state machine


def test_a_deploy_over_a_stack_without_the_workflows_deletes_what_registration_made(cloud: Any):
    from chalicelib.deploy import workflow_stack
    from chalicelib.deploy.build import Built
    from chalicelib.deploy.sequence import Deployment
    from chalicelib.ops.stage import Stage
    from chalicelib.runtime import loader
    from tests.integration.conftest import register

    defs = loader.load_paths([SCHED])
    register(cloud, defs)  # as registration did before the stack held the workflows
    stage = Stage(cloud.settings)
    assert [m["name"] for m in stage.sfn.list_state_machines()["stateMachines"]] == ["cascade-local-sched_basic-daily"]
    template = {"Resources": workflow_stack.resources(defs, "local")}
    built = Built(stage="local", template=template, parameters={}, code=ROOT, code_key="k", layer=None,
                  layer_key=None, path=ROOT)
    step = Deployment(ROOT, "local", cloud.settings.region, echo=lambda line: None).hand_over(built)
    assert step is not None and "cascade-local-sched_basic-daily" in step.detail
    assert "schedule group cascade-local-schedules" in step.detail
    assert stage.sfn.list_state_machines()["stateMachines"] == []
    assert stage.client("events").list_rules(NamePrefix="cascade-local-notify-")["Rules"] == []


def test_the_function_zip_gets_checked_hash_bytecode_of_its_modules(tmp_path: Path):
    source = tmp_path / "deployment.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("app.py", "import pkg.mod\n")
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/mod.py", "VALUE = 1\n")
        zf.writestr("pkg/data.json", "{}")
        zf.writestr(f"pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc", b"timestamp-based, replaced")
    digests = {normalized_zip(source, tmp_path / f"{n}.zip", compile_code=True) for n in ("a", "b")}
    assert len(digests) == 1  # deterministic: the same code is the same content-addressed key
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        names = set(zf.namelist())
        pyc = zf.read(f"pkg/__pycache__/mod.{tag}.pyc")
        zf.extractall(tmp_path / "task")
    assert {f"__pycache__/app.{tag}.pyc", f"pkg/__pycache__/__init__.{tag}.pyc"} <= names
    assert not any("data" in n and n.endswith(".pyc") for n in names)
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked against the source
    assert marshal.loads(pyc[16:]).co_filename == "/var/task/pkg/mod.py"  # where Lambda unpacks the zip

    def value() -> str:
        proc = subprocess.run([sys.executable, "-S", "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
                              cwd=tmp_path / "task", env={"PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True,
                              text=True, check=True)
        return proc.stdout.strip()

    assert value() == "1"
    (tmp_path / "task" / "pkg" / "mod.py").write_text("VALUE = 2\n")  # edited after packaging (the console)
    assert value() == "2"

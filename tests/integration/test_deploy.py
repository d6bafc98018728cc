"""The real deploy sequence against moto in server mode: `python -m chalicelib deploy` (what `make deploy`
runs) on a clean copy of the project, with AWS_ENDPOINT_URL pointing at `moto_server` on 127.0.0.1.

One deployment is shared by the module: deployed twice (the second must change nothing), inspected, packaged
for cfn-lint, then destroyed. moto cannot run Lambda code without Docker, so nothing is invoked here; the
functions' behaviour is covered by the local-cloud tests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from cfnlint.api import lint_file

from chalicelib.naming import state_machine_name
from chalicelib.deploy.appinfo import app_info
from chalicelib.deploy.policies import policy_for
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import API, TASK_RUNNER, TRIGGER
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS
from chalicelib.naming import StackOutputs
from chalicelib.deploy.wiring import desired_settings
from chalicelib.deploy.workspace import copy_project
from chalicelib.runtime import loader
from chalicelib.store.registry import Registry
from tests.unit.test_policies import wildcard_problems

ROOT = Path(__file__).resolve().parents[2]
STAGE = "ci"
PREFIX = f"cascade-{STAGE}-"
REGION = "us-east-1"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def aws_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": endpoint})
    return env


@pytest.fixture(scope="module")
def clients(endpoint: str) -> dict[str, Any]:
    kw = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}
    return {s: boto3.client(s, **kw) for s in
            ("lambda", "iam", "cloudformation", "stepfunctions", "dynamodb", "s3", "sqs")}


def run_cli(project: Path, env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "chalicelib", *args], cwd=project, env=env, capture_output=True,
                          text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def snapshot(c: dict[str, Any]) -> dict[str, Any]:
    """Everything the deploy makes, minus timestamps."""
    lam, sfn = c["lambda"], c["stepfunctions"]
    functions = {}
    for f in lam.list_functions()["Functions"]:
        if f["FunctionName"].startswith(PREFIX) or f["FunctionName"] == PREFIX.rstrip("-"):
            functions[f["FunctionName"]] = {k: f.get(k) for k in (
                "FunctionArn", "CodeSha256", "Role", "Handler", "Runtime", "Timeout", "MemorySize", "Environment")}
            functions[f["FunctionName"]]["Layers"] = [layer["Arn"] for layer in f.get("Layers", [])]
    roles = {}
    for r in c["iam"].list_roles()["Roles"]:
        if r["RoleName"].startswith(PREFIX):
            names = c["iam"].list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
            roles[r["RoleName"]] = {n: c["iam"].get_role_policy(RoleName=r["RoleName"], PolicyName=n)["PolicyDocument"]
                                    for n in names}
    mappings = [{k: v for k, v in m.items() if k not in ("LastModified", "ResponseMetadata")}
                for m in lam.list_event_source_mappings()["EventSourceMappings"]]
    machines = {}
    for sm in sfn.list_state_machines()["stateMachines"]:
        d = sfn.describe_state_machine(stateMachineArn=sm["stateMachineArn"])
        machines[sm["name"]] = {"arn": sm["stateMachineArn"], "definition": json.loads(d["definition"]),
                                "role": d["roleArn"]}
    layers = lam.list_layer_versions(LayerName=f"{PREFIX}tasks")["LayerVersions"]
    stack = c["cloudformation"].describe_stacks(StackName=f"{PREFIX}infra")["Stacks"][0]
    registry = c["dynamodb"].scan(TableName=f"{PREFIX}registry")["Items"]
    return {"functions": functions, "roles": roles, "mappings": mappings, "state_machines": machines,
            "layers": [v["LayerVersionArn"] for v in layers], "stack_status": stack["StackStatus"],
            "outputs": stack["Outputs"], "registry": sorted(registry, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, aws_env: dict[str, str], clients: dict[str, Any]) -> dict:
    project = copy_project(ROOT, tmp_path_factory.mktemp("deploy") / "project")
    first_run = run_cli(project, aws_env, "deploy", "--stage", STAGE)
    first = snapshot(clients)
    second_run = run_cli(project, aws_env, "deploy", "--stage", STAGE)
    second = snapshot(clients)
    outputs = StackOutputs.model_validate({o["OutputKey"]: o["OutputValue"] for o in first["outputs"]})
    info = StageArns.from_outputs("cascade", STAGE, REGION, outputs)
    return {"project": project, "first": first, "second": second, "first_log": first_run.stdout,
            "second_log": second_run.stdout, "info": info, "app": app_info(project)}


def test_functions_are_deployed_with_stage_settings_and_own_roles(deployed: dict):
    info, fns = deployed["info"], deployed["first"]["functions"]
    assert sorted(fns) == sorted(info.function_name(f) for f in deployed["app"].functions)
    for short in deployed["app"].functions:
        fn = fns[info.function_name(short)]
        env = fn["Environment"]["Variables"]
        assert env["CASCADE_BUCKET"] == info.outputs.bucket
        assert env["CASCADE_ARTIFACTS_TABLE"] == info.outputs.artifacts_table
        assert env["CASCADE_REGISTRY_TABLE"] == info.outputs.registry_table
        assert env["CASCADE_INDEX_TABLE"] == info.outputs.index_table
        assert env["CASCADE_ARTIFACTS_STREAM_ARN"] == info.outputs.artifacts_stream_arn
        assert env["CASCADE_TASK_RUNNER_ARN"] == fns[PREFIX + TASK_RUNNER]["FunctionArn"]
        assert fn["Role"].endswith(f":role/{PREFIX}{short}")
        assert fn["Handler"] == ("app.app" if short == API else f"app.{short}") and fn["Runtime"] == "python3.11"
        assert fn["Layers"] == (deployed["first"]["layers"][:1] if short in TASK_CODE_FUNCTIONS else [])
    assert fns[PREFIX + TASK_RUNNER]["Timeout"] == 900


def test_each_role_holds_exactly_its_generated_policy(deployed: dict):
    roles = deployed["first"]["roles"]
    for short in deployed["app"].functions:
        (doc,) = roles[PREFIX + short].values()
        assert doc == policy_for(short, deployed["info"])
        assert wildcard_problems(doc) == []


def test_stream_mapping_reaches_the_trigger_with_failure_settings(deployed: dict):
    info = deployed["info"]
    mappings = [m for m in deployed["first"]["mappings"] if m["EventSourceArn"] == info.outputs.artifacts_stream_arn]
    assert len(mappings) == 1
    (mapping,) = mappings
    assert mapping["FunctionArn"] == deployed["first"]["functions"][PREFIX + TRIGGER]["FunctionArn"]
    assert mapping["BatchSize"] == 100 and mapping["StartingPosition"] == "TRIM_HORIZON"
    for key, value in desired_settings(info.outputs.trigger_dlq_arn).items():
        assert mapping[key] == value, key


def test_s3_notifications_reach_the_upload_handlers(deployed: dict, clients: dict[str, Any]):
    handlers = deployed["app"].s3_handlers
    config = clients["s3"].get_bucket_notification_configuration(Bucket=deployed["info"].outputs.bucket)
    if not handlers:
        assert not config.get("LambdaFunctionConfigurations")
        pytest.skip("app.py declares no @app.on_s3_event handler yet")
    fns = deployed["first"]["functions"]
    for h in handlers:
        matching = [n for n in config.get("LambdaFunctionConfigurations", [])
                    if n["LambdaFunctionArn"] == fns[PREFIX + h.function]["FunctionArn"]]
        assert matching, h.function
        rules = {r["Name"].lower(): r["Value"] for r in matching[0]["Filter"]["Key"]["FilterRules"]}
        assert rules.get("prefix") == h.prefix


def test_one_state_machine_per_workflow_invoking_the_deployed_task_runner(deployed: dict):
    machines = deployed["first"]["state_machines"]
    runner = deployed["first"]["functions"][PREFIX + TASK_RUNNER]["FunctionArn"]
    workflows = loader.load_paths([ROOT / "chalicelib" / "workflows"]).workflows
    assert sorted(machines) == sorted(state_machine_name(name, PREFIX) for name in workflows)
    for sm in machines.values():
        assert sm["role"] == deployed["info"].outputs.states_role_arn
        tasks = [s for s in sm["definition"]["States"].values() if s["Type"] == "Task"]
        assert tasks and all(s["Resource"] == runner for s in tasks)


def test_subscriptions_point_at_the_registered_state_machine(deployed: dict, clients: dict[str, Any]):
    registry = Registry(deployed["info"].settings(), clients["dynamodb"])
    subs = registry.subscriptions_for("my_upstream_artifact")
    downstream = deployed["first"]["state_machines"][state_machine_name("trigger_on_artifact.downstream_wf", PREFIX)]
    assert [(s.launch_plan, s.state_machine_arn, s.active) for s in subs] == [
        ("downstream_with_trigger_lp", downstream["arn"], True)]


def test_second_deploy_changes_nothing(deployed: dict):
    assert deployed["second"] == deployed["first"]
    log = deployed["second_log"]
    for step in ("infra", "tasks layer", "stage config", "stream mapping", "register"):
        assert f"== {step}: unchanged" in log, step
    assert "== register: updated" in deployed["first_log"]


def test_register_against_a_missing_stage_names_the_fix(deployed: dict, aws_env: dict[str, str]):
    proc = run_cli(deployed["project"], aws_env, "register", "--stage", "nope", "chalicelib/workflows", check=False)
    assert proc.returncode == 1
    assert "stack 'cascade-nope-infra' does not exist" in proc.stderr and "make deploy" in proc.stderr


def test_chalice_package_passes_cfn_lint(deployed: dict, aws_env: dict[str, str], tmp_path: Path):
    # CloudFormation cannot attach notifications to an existing bucket, so chalice refuses to package
    # @app.on_s3_event; the template is generated without them (the deploy above covers them).
    script = ("import sys\nimport chalice.package as p\n"
              "p.SAMTemplateGenerator._generate_s3bucketnotification = lambda self, resource, template: None\n"
              "from chalice.cli import main\nsys.exit(main())")
    out = tmp_path / "cfn"
    proc = subprocess.run([sys.executable, "-c", script, "package", "--pkg-format", "cloudformation", "--stage",
                           STAGE, str(out)], cwd=deployed["project"], env=aws_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Could not install dependencies" not in proc.stdout + proc.stderr
    matches = lint_file(out / "sam.json")
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
    template = json.loads((out / "sam.json").read_text())
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == len(deployed["app"].functions)
    for role in roles:
        for policy in role["Properties"]["Policies"]:
            assert wildcard_problems(policy["PolicyDocument"]) == []


def test_destroy_removes_everything(deployed: dict, aws_env: dict[str, str], clients: dict[str, Any]):
    run_cli(deployed["project"], aws_env, "destroy", "--stage", STAGE)
    again = run_cli(deployed["project"], aws_env, "destroy", "--stage", STAGE)  # idempotent
    assert "== infra: absent" in again.stdout
    c = clients
    assert [f for f in c["lambda"].list_functions()["Functions"] if f["FunctionName"].startswith(PREFIX.rstrip("-"))] == []
    assert [r for r in c["iam"].list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)] == []
    assert c["lambda"].list_event_source_mappings()["EventSourceMappings"] == []
    assert c["lambda"].list_layer_versions(LayerName=f"{PREFIX}tasks")["LayerVersions"] == []
    assert c["stepfunctions"].list_state_machines()["stateMachines"] == []
    assert [b for b in c["s3"].list_buckets()["Buckets"] if b["Name"].startswith(PREFIX)] == []
    assert [t for t in c["dynamodb"].list_tables()["TableNames"] if t.startswith(PREFIX)] == []
    assert not c["sqs"].list_queues().get("QueueUrls")

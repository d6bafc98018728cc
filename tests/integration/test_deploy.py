"""The real deploy against moto in server mode: `python -m chalicelib deploy` (what `make deploy` runs) from a
git clone of the project, with AWS_ENDPOINT_URL pointing at `moto_server` on 127.0.0.1.

One stage is shared by the module: deployed from one clone, deployed again from a second fresh clone (which
must change nothing), inspected, then destroyed from the second clone. moto cannot run Lambda code without
Docker, so nothing is invoked here; the functions' behaviour is covered by the local-cloud tests. What moto's
CloudFormation does not apply (bucket notification and lifecycle, alarms, EventInvokeConfig, the schedule group and
schedules, SNS subscriptions and topic policies) is checked on the generated template, which cfn-lint checks too.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from cfnlint.api import lint_file

from chalicelib.naming import state_machine_name
from chalicelib.deploy.appinfo import app_info
from chalicelib.deploy.policies import policy_for
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import API, TASK_RUNNER, TASK_RUNNER_ALIAS, TRIGGER, task_runner_functions
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS
from chalicelib.deploy.template import function_id
from chalicelib.naming import StackOutputs
from chalicelib.deploy.wiring import desired_invoke_config, desired_settings
from chalicelib.deploy.workspace import copy_project
from chalicelib.runtime import loader
from chalicelib.store.registry import Registry
from tests.unit.test_policies import wildcard_problems

ROOT = Path(__file__).resolve().parents[2]
STAGE = "ci"
PREFIX = f"cascade-{STAGE}-"
REGION = "us-east-1"
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]

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
                "AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": endpoint.rsplit(":", 1)[1]})
    return env


@pytest.fixture(scope="module")
def clients(endpoint: str) -> dict[str, Any]:
    kw = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}
    return {s: boto3.client(s, **kw) for s in
            ("lambda", "iam", "cloudformation", "stepfunctions", "dynamodb", "s3", "sqs", "apigateway", "sns")}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_origin(dest: Path) -> Path:
    """A git repository holding the project as committed (what a clone of it gets)."""
    copy_project(ROOT, dest)
    for name in (".gitignore", "Makefile"):
        shutil.copy2(ROOT / name, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "project")
    return dest


def clone(origin: Path, dest: Path, caches_from: Path | None = None) -> Path:
    """A fresh clone. Build caches (the tasks layer, chalice's dependency zip: gitignored, keyed by the
    requirement files) may be seeded from another copy to keep the test short; the stack template, the
    function zip and the stage config are built from the clone's own files either way."""
    git(dest.parent, "clone", "-q", str(origin), dest.name)
    if caches_from is not None:
        for rel in ("build/layers", f"build/stages/{STAGE}/project/.chalice/deployments"):
            if (caches_from / rel).is_dir():
                shutil.copytree(caches_from / rel, dest / rel)
    return dest


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
    layers = [v for name in ("functions", "tasks")
              for v in lam.list_layer_versions(LayerName=PREFIX + name)["LayerVersions"]]
    apis = sorted(a["name"] for a in c["apigateway"].get_rest_apis()["items"])
    stack = c["cloudformation"].describe_stacks(StackName=f"{PREFIX}infra")["Stacks"][0]
    registry = c["dynamodb"].scan(TableName=f"{PREFIX}registry")["Items"]
    return {"functions": functions, "roles": roles, "mappings": mappings, "state_machines": machines,
            "layers": [v["LayerVersionArn"] for v in layers], "stack_status": stack["StackStatus"], "apis": apis,
            "outputs": stack["Outputs"], "parameters": sorted(stack.get("Parameters", []), key=lambda p: p["ParameterKey"]),
            "registry": sorted(registry, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))}


def assert_plain_chalice_stops(project: Path, env: dict[str, str], c: dict[str, Any]) -> None:
    before = c["lambda"].list_functions()["Functions"], c["iam"].list_roles()["Roles"]
    for args in (["deploy", "--stage", STAGE], ["package", "--stage", STAGE, str(project / "build" / "plain")]):
        proc = subprocess.run([sys.executable, "-c", "import sys\nfrom chalice.cli import main\nsys.exit(main())",
                               *args], cwd=project, env=env, capture_output=True, text=True)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        assert proc.returncode != 0 and len(lines) == 1, (args, lines)
        assert "python -m chalicelib deploy --stage" in lines[0]
    assert (c["lambda"].list_functions()["Functions"], c["iam"].list_roles()["Roles"]) == before
    assert not (project / "build" / "plain").exists()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, aws_env: dict[str, str], clients: dict[str, Any]) -> dict:
    base = tmp_path_factory.mktemp("deploy")
    origin = make_origin(base / "origin")
    first = clone(origin, base / "first", caches_from=ROOT)
    assert_plain_chalice_stops(first, aws_env, clients)
    first_run = run_cli(first, aws_env, "deploy", "--stage", STAGE)
    first_state = snapshot(clients)
    second = clone(origin, base / "second", caches_from=first)
    second_run = run_cli(second, aws_env, "deploy", "--stage", STAGE)
    second_state = snapshot(clients)
    outputs = StackOutputs.from_outputs({o["OutputKey"]: o["OutputValue"] for o in first_state["outputs"]})
    info = StageArns.from_outputs("cascade", STAGE, REGION, outputs)
    template = json.loads((first / "build" / "stages" / STAGE / "template.json").read_text())
    return {"project": first, "second_project": second, "first": first_state, "second": second_state,
            "first_log": first_run.stdout, "second_log": second_run.stdout, "info": info, "app": app_info(first),
            "template": template, "template_path": first / "build" / "stages" / STAGE / "template.json"}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


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
        assert env["CASCADE_TRIGGER_DLQ_URL"] == info.outputs.trigger_dlq_url
        assert env["CASCADE_TASK_RUNNER_ARN"] == fns[PREFIX + TASK_RUNNER]["FunctionArn"]
        assert "CASCADE_UNBUILT_CONFIG" not in env
        assert fn["Role"].endswith(f":role/{PREFIX}{short}")
        assert fn["Handler"] == ("app.app" if short == API else f"app.{short}") and fn["Runtime"] == "python3.11"
        # moto's CloudFormation does not attach Layers: checked on the template, the layer itself in moto
        props = deployed["template"]["Resources"][function_id(short)]["Properties"]
        # every function's dependencies come from the functions layer, first; task code adds the tasks layer
        tasks = [{"Ref": "TasksLayer"}] if short in TASK_CODE_FUNCTIONS else []
        assert props.get("Layers") == [{"Ref": "FunctionsLayer"}, *tasks]
    assert len(deployed["first"]["layers"]) == 2
    assert fns[PREFIX + TASK_RUNNER]["Timeout"] == 900
    assert deployed["first"]["apis"] == [PREFIX.rstrip("-")]


def test_the_function_zip_holds_only_the_projects_code_and_the_layers_are_in_the_bucket(deployed: dict,
                                                                                    clients: dict[str, Any]):
    work = deployed["project"] / "build" / "stages" / STAGE
    with zipfile.ZipFile(work / "code.zip") as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
        assert f"chalicelib/trigger/__pycache__/handler.{sys.implementation.cache_tag}.pyc" in zf.namelist()
    assert {"app.py", "chalicelib", "chalice"} <= tops
    assert tops & {"boto3", "botocore", "pydantic", "pydantic_core", "aws_lambda_powertools", "urllib3"} == set()
    resources = deployed["template"]["Resources"]
    for logical in ("FunctionsLayer", "TasksLayer"):
        key = resources[logical]["Properties"]["Content"]["S3Key"]
        assert key.startswith("deploy/layers/") and key.endswith(".zip")
        clients["s3"].head_object(Bucket=deployed["info"].outputs.bucket, Key=key)  # uploaded before the stack


def test_each_role_holds_exactly_its_generated_policy(deployed: dict):
    roles = deployed["first"]["roles"]
    for short in deployed["app"].functions:
        (doc,) = roles[PREFIX + short].values()
        if isinstance(doc, str):  # moto keeps a CloudFormation inline policy as the repr of its dict
            doc = ast.literal_eval(doc)
        assert doc == policy_for(short, deployed["info"])
        assert wildcard_problems(doc) == []


def test_stream_mapping_reaches_the_trigger_with_failure_settings(deployed: dict):
    info = deployed["info"]
    mappings = [m for m in deployed["first"]["mappings"] if m["EventSourceArn"] == info.outputs.artifacts_stream_arn]
    assert len(mappings) == 1
    (mapping,) = mappings
    assert mapping["FunctionArn"] == deployed["first"]["functions"][PREFIX + TRIGGER]["FunctionArn"]
    assert mapping["BatchSize"] == 100 and mapping["StartingPosition"] == "TRIM_HORIZON"
    (resource,) = resources_of(deployed["template"], "AWS::Lambda::EventSourceMapping").values()
    props = resource["Properties"]
    for key, value in desired_settings("x").items():
        if key != "DestinationConfig":
            assert props[key] == value, key
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::Sub": "${TriggerDeadLetterQueue.Arn}"}
    assert props["ParallelizationFactor"] == 1


def test_upload_notification_and_its_failure_destination_are_in_the_stack(deployed: dict):
    template, handlers = deployed["template"], deployed["app"].s3_handlers
    bucket = template["Resources"]["ArtifactBucket"]
    configs = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert [(c["Function"]["Fn::GetAtt"][0], c["Filter"]["S3Key"]["Rules"]) for c in configs] == [
        ("OnUpload", [{"Name": "prefix", "Value": h.prefix}]) for h in handlers]
    permission = template["Resources"]["OnUploadS3Permission"]
    assert permission["Properties"]["Principal"] == "s3.amazonaws.com" and "OnUploadS3Permission" in bucket["DependsOn"]
    (config,) = resources_of(template, "AWS::Lambda::EventInvokeConfig").values()
    desired = desired_invoke_config("x")
    assert config["Properties"]["MaximumRetryAttempts"] == desired["MaximumRetryAttempts"]
    assert config["Properties"]["MaximumEventAgeInSeconds"] == desired["MaximumEventAgeInSeconds"]
    assert config["Properties"]["FunctionName"] == {"Ref": "OnUpload"}


def test_bucket_lifecycle_alarms_and_task_runner_alias_are_in_the_stack(deployed: dict):
    template = deployed["template"]
    rules = {r["Id"]: r for r in template["Resources"]["ArtifactBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-quarantine"]["Prefix"] == "quarantine/"
    assert "NoncurrentVersionExpiration" in rules["expire-noncurrent-versions"]
    alarms = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in
              resources_of(template, "AWS::CloudWatch::Alarm").values()}
    assert alarms == {("AWS/Lambda", "IteratorAge"), ("AWS/Lambda", "Errors"),
                      ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    dlq_alarms = [a for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
                  if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(dlq_alarms) == len(resources_of(template, "AWS::SQS::Queue"))
    aliases = resources_of(template, "AWS::Lambda::Alias").values()
    assert len(aliases) == len(task_runner_functions())  # every task-runner size is called through its alias
    assert {a["Properties"]["Name"] for a in aliases} == {TASK_RUNNER_ALIAS}
    assert deployed["info"].task_runner_alias_arn.endswith(f":function:{PREFIX}{TASK_RUNNER}:{TASK_RUNNER_ALIAS}")
    assert "Transform" not in template
    assert {o["ParameterKey"]: o["ParameterValue"] for o in
            deployed["first"]["parameters"]}["UploadsExpirationDays"] == "7"


def test_the_stack_makes_one_state_machine_per_workflow_invoking_the_task_runner_alias(deployed: dict):
    machines = deployed["first"]["state_machines"]
    runner = deployed["first"]["functions"][PREFIX + TASK_RUNNER]["FunctionArn"]
    workflows = loader.load_paths([ROOT / "chalicelib" / "workflows"]).workflows
    assert sorted(machines) == sorted(state_machine_name(name, PREFIX) for name in workflows)
    in_stack = resources_of(deployed["template"], "AWS::StepFunctions::StateMachine").values()
    assert sorted(r["Properties"]["StateMachineName"] for r in in_stack) == sorted(machines)
    for sm in machines.values():
        assert sm["role"] == deployed["info"].outputs.states_role_arn
        tasks = [s for s in sm["definition"]["States"].values() if s["Type"] == "Task"]
        assert tasks and all(s["Resource"] == f"{runner}:{TASK_RUNNER_ALIAS}" for s in tasks)
    # moto's CloudFormation does not apply the schedule group (nor schedules, subscriptions, topic policies)
    assert resources_of(deployed["template"], "AWS::Scheduler::ScheduleGroup")["ScheduleGroup"]["Properties"] == {
        "Name": f"{PREFIX}schedules"}


def test_subscriptions_point_at_the_registered_state_machine(deployed: dict, clients: dict[str, Any]):
    registry = Registry(deployed["info"].settings(), clients["dynamodb"])
    subs = registry.subscriptions_for("my_upstream_artifact")
    downstream = deployed["first"]["state_machines"][state_machine_name("trigger_on_artifact.downstream_wf", PREFIX)]
    assert [(s.launch_plan, s.state_machine_arn, s.active) for s in subs] == [
        ("downstream_with_trigger_lp", downstream["arn"], True)]


def test_first_deploy_prints_each_change(deployed: dict):
    log = deployed["first_log"]
    for line in ("Add    ArtifactBucket (AWS::S3::Bucket)", "Add    TaskRunner (AWS::Lambda::Function)",
                 "Modify ArtifactBucket (AWS::S3::Bucket)", "Add    TasksLayer (AWS::Lambda::LayerVersion)",
                 "Add    AlarmTopic (AWS::SNS::Topic)", "(AWS::StepFunctions::StateMachine)",
                 "Add    FunctionsLayer (AWS::Lambda::LayerVersion)"):
        assert line in log, line
    assert "== register: updated" in log and "created state machine" not in log


def test_second_fresh_clone_changes_nothing_and_no_copy_is_dirty(deployed: dict):
    assert deployed["second"] == deployed["first"]
    log = deployed["second_log"]
    assert "== stack: no changes" in log and "== packages: unchanged" in log and "== register: unchanged" in log
    assert "Add " not in log and "Modify " not in log
    for project in (deployed["project"], deployed["second_project"]):
        assert git(project, "status", "--porcelain") == ""


def test_register_against_a_missing_stage_names_the_fix(deployed: dict, aws_env: dict[str, str]):
    proc = run_cli(deployed["project"], aws_env, "register", "--stage", "nope", "chalicelib/workflows", check=False)
    assert proc.returncode == 1
    assert "stack 'cascade-nope-infra' does not exist" in proc.stderr and "make deploy" in proc.stderr


def test_register_leaves_the_stacks_state_machines_to_the_deploy(deployed: dict, aws_env: dict[str, str],
                                                                clients: dict[str, Any]):
    project = deployed["second_project"]
    same = run_cli(project, aws_env, "register", "--stage", STAGE, "chalicelib/workflows")
    assert f"stack {PREFIX}infra's: they change through `make deploy STAGE={STAGE}`" in same.stdout
    flow = project / "chalicelib" / "workflows" / "trigger_on_artifact.py"
    flow.write_text(flow.read_text() + "\n\n@workflow\ndef extra_wf():\n    downstream_t1()\n")
    before = snapshot(clients)
    proc = run_cli(project, aws_env, "register", "--stage", STAGE, "chalicelib/workflows", check=False)
    git(project, "checkout", "--", "chalicelib/workflows")
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f"StateMachine {PREFIX}trigger_on_artifact-extra_wf is not in the stack" in proc.stderr
    assert f"run `make deploy STAGE={STAGE}`" in proc.stderr
    assert snapshot(clients) == before


@pytest.mark.parametrize("stage", ["Dev", "a_b", "-x", "x" * 21, "a--b"])
def test_a_stage_name_aws_would_reject_is_one_line(deployed: dict, aws_env: dict[str, str], stage: str):
    proc = run_cli(deployed["project"], aws_env, "deploy", "--stage", stage, check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert f"stage {stage!r} must be" in proc.stderr and "--stage dev" in proc.stderr


def test_missing_credentials_are_one_line_before_anything_is_built(deployed: dict, aws_env: dict[str, str],
                                                                   tmp_path: Path):
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none")})
    proc = run_cli(deployed["second_project"], env, "deploy", "--stage", "other", check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "credentials" in proc.stderr
    assert not (deployed["second_project"] / "build" / "stages" / "other").exists()


def test_stack_template_passes_cfn_lint(deployed: dict):
    matches = lint_file(deployed["template_path"])
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")] == []
    roles = resources_of(deployed["template"], "AWS::IAM::Role")
    assert len(roles) == len(deployed["app"].functions) + 2  # and the Step Functions and Scheduler roles


def test_after_an_interrupted_deploy_a_stage_setting_change_updates_the_stack(deployed: dict, aws_env: dict[str, str],
                                                                               clients: dict[str, Any]):
    cfn, project = clients["cloudformation"], deployed["second_project"]
    stack_name = f"{PREFIX}infra"
    # a deploy interrupted after making its change set: never executed
    body = cfn.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    cfn.create_change_set(StackName=stack_name, ChangeSetName="deploy-interrupted", ChangeSetType="UPDATE",
                          TemplateBody=body if isinstance(body, str) else json.dumps(body),
                          Capabilities=["CAPABILITY_NAMED_IAM"])
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"][STAGE] = {"cascade": {"uploads_expiration_days": 3, "parallelization_factor": 2},
                               "lambda_functions": {"task_runner": {"reserved_concurrency": 5}}}
    config_path.write_text(json.dumps(config, indent=2))
    log = run_cli(project, aws_env, "deploy", "--stage", STAGE).stdout
    assert "== stack: updated" in log
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["UploadsExpirationDays"] == "3"
    names = [c["ChangeSetName"] for c in cfn.list_change_sets(StackName=stack_name)["Summaries"]
             if c["ExecutionStatus"] != "EXECUTE_COMPLETE"]
    assert names == []
    template = json.loads((project / "build" / "stages" / STAGE / "template.json").read_text())
    assert template["Resources"]["TaskRunner"]["Properties"]["ReservedConcurrentExecutions"] == 5
    (mapping,) = resources_of(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["ParallelizationFactor"] == 2
    git(project, "checkout", "--", ".chalice/config.json")


def test_destroy_from_another_clone_removes_everything(deployed: dict, aws_env: dict[str, str],
                                                       clients: dict[str, Any]):
    info, sfn = deployed["info"], clients["stepfunctions"]
    runner = deployed["first"]["functions"][PREFIX + TASK_RUNNER]["FunctionArn"]
    dynamic = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": runner, "End": True}}}
    sfn.create_state_machine(name=f"{PREFIX}dynamic-abc", definition=json.dumps(dynamic),  # as `@dynamic` does
                             roleArn=info.outputs.states_role_arn)
    assert clients["sns"].list_topics()["Topics"]  # the alarms topic
    run_cli(deployed["second_project"], aws_env, "destroy", "--stage", STAGE)
    again = run_cli(deployed["second_project"], aws_env, "destroy", "--stage", STAGE)  # idempotent
    assert "== stack: absent" in again.stdout
    c = clients
    assert [f for f in c["lambda"].list_functions()["Functions"] if f["FunctionName"].startswith(PREFIX.rstrip("-"))] == []
    assert [r for r in c["iam"].list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)] == []
    assert c["lambda"].list_event_source_mappings()["EventSourceMappings"] == []
    assert c["lambda"].list_layers()["Layers"] == []
    assert c["stepfunctions"].list_state_machines()["stateMachines"] == []
    assert c["sns"].list_topics()["Topics"] == []
    assert [b for b in c["s3"].list_buckets()["Buckets"] if b["Name"].startswith(PREFIX)] == []
    assert [t for t in c["dynamodb"].list_tables()["TableNames"] if t.startswith(PREFIX)] == []
    assert not c["sqs"].list_queues().get("QueueUrls")
    assert c["apigateway"].get_rest_apis()["items"] == []
    assert c["cloudformation"].list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])["StackSummaries"] == []

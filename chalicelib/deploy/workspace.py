"""Packaging without deploying: a clean copy of the project, its stage config from example stack outputs, and
`chalice package`. Used by benchmarks/ and the tests to measure and lint exactly what `chalice deploy` ships."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from chalicelib.deploy.appinfo import app_info
from chalicelib.deploy.chalice_cli import run_chalice
from chalicelib.naming import StackOutputs
from chalicelib.deploy.arns import StageArns
from chalicelib import naming
from chalicelib.naming import APP_NAME
from chalicelib.deploy.stage_config import write_stage_config

# What a deployment is made of; everything else (tests, docs, build output, chalice state) stays behind.
PROJECT_FILES = ("app.py", "requirements.txt", "requirements-tasks.txt", ".chalice/config.json")
PROJECT_DIRS = ("chalicelib", "infra")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def copy_project(source: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, dest / name)
    for name in PROJECT_DIRS:
        shutil.copytree(source / name, dest / name, ignore=IGNORE, dirs_exist_ok=True)
    return dest


def example_stage(stage: str, region: str = "us-east-1", account: str = "123456789012") -> StageArns:
    """The StageArns a deploy of `stage` would read from its stack, for an example account."""
    prefix = naming.prefix(stage).rstrip("-")
    outputs = StackOutputs.from_outputs(dict(
        BucketName=f"{prefix}-{account}-{region}",
        ArtifactsTable=f"{prefix}-artifacts",
        ArtifactsStreamArn=f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-artifacts/stream/2026-01-01T00:00:00.000",
        RegistryTable=f"{prefix}-registry",
        IndexTable=f"{prefix}-index",
        StatesRoleArn=f"arn:aws:iam::{account}:role/{prefix}-states",
        TriggerDlqArn=f"arn:aws:sqs:{region}:{account}:{prefix}-trigger-dlq",
        TriggerDlqUrl=f"https://sqs.{region}.amazonaws.com/{account}/{prefix}-trigger-dlq",
        UploadDlqArn=f"arn:aws:sqs:{region}:{account}:{prefix}-upload-dlq",
        UploadDlqUrl=f"https://sqs.{region}.amazonaws.com/{account}/{prefix}-upload-dlq",
    ))
    return StageArns.from_outputs(APP_NAME, stage, region, outputs)


def example_layer_arn(stage: StageArns) -> str:
    return stage.arn("lambda", f"layer:{stage.tasks_layer_name}:1")


def configure_offline(project: Path, stage: StageArns, tasks_layer_arn: str | None) -> list[str]:
    """Write the stage config a deploy would write, without AWS. Returns the app's function names."""
    functions = app_info(project).functions
    write_stage_config(project, stage, functions, tasks_layer_arn)
    return functions


def package(project: Path, stage: str, out: Path, fmt: str = "terraform", region: str = "us-east-1",
            echo: bool = False) -> Path:
    """`chalice package` into `out`. Terraform by default: it produces the same zips as CloudFormation and,
    unlike CloudFormation, can express `@app.on_s3_event`. chalice wants a region even to package."""
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or region}
    run_chalice(["package", "--pkg-format", fmt, "--stage", stage, str(out)], project,
                echo=print if echo else None, env=env)
    return out


def zip_sizes(path: Path) -> tuple[int, int]:
    """(zipped bytes, unzipped bytes) of a zip file."""
    with zipfile.ZipFile(path) as zf:
        return path.stat().st_size, sum(i.file_size for i in zf.infolist())

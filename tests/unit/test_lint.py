"""The infra template passes cfn-lint and keeps the security properties moto does not apply; the Lambda
packages stay lean (the trigger never loads pandas); the layer targets the runtime's glibc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cfnlint.api import lint_file

from chalicelib.deploy.layer import platform_args
from chalicelib.naming import StackOutputs
from tests.unit.test_policies import template

ROOT = Path(__file__).resolve().parents[2]


def test_infra_template_passes_cfn_lint():
    matches = lint_file(ROOT / "infra" / "template.yaml")
    errors = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    for m in matches:  # warnings are shown, not fatal
        print(f"cfn-lint {m.rule.id}: {m.message}")


def test_template_security_properties():
    # moto skips these (see the moto notes), so they are checked on the template itself
    res = template()["Resources"]
    bucket = res["ArtifactBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    deny = res["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for table in ("ArtifactsTable", "RegistryTable"):
        props = res[table]["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
    assert res["ArtifactsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert res["TriggerDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True


def test_template_outputs_what_deploy_reads():
    outputs = set(template()["Outputs"])
    assert set(StackOutputs.KEYS.values()) <= outputs


def test_importing_app_loads_neither_pandas_nor_numpy():
    code = ("import sys; import app; import chalicelib.trigger.handler; "
            "sys.exit(1 if {'pandas', 'numpy', 'fastparquet'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_function_requirements_leave_task_packages_to_the_layer():
    lines = (ROOT / "requirements.txt").read_text().lower().splitlines()
    shipped = [line.split("==")[0].strip() for line in lines if line.strip() and not line.startswith("#")]
    assert shipped and not {"pandas", "numpy", "fastparquet", "pyarrow"} & set(shipped)


def test_layer_wheels_are_capped_at_the_runtime_glibc():
    args311 = platform_args("python3.11")
    assert "manylinux_2_26_x86_64" in args311 and "manylinux_2_27_x86_64" not in args311
    assert "manylinux2014_x86_64" in args311 and args311[args311.index("--abi") + 1] == "cp311"
    args312 = platform_args("python3.12")
    assert "manylinux_2_34_x86_64" in args312 and "manylinux_2_35_x86_64" not in args312

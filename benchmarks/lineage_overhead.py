"""What recording lineage costs: DynamoDB calls and wall time (start → every execution finished) of the
three-level cascade in examples/order_cascade.py, with lineage edges written (as shipped) and, as the
baseline in the same run, with the edge writes skipped. Rounds alternate between the two.

    python benchmarks/lineage_overhead.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(rounds: int) -> None:
    from chalicelib import aws
    from chalicelib.ops.register import Registrar
    from chalicelib.runtime import loader
    from chalicelib.ops.launch import check_inputs, start_workflow
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.store.lineage import LineageStore
    from chalicelib.store.registry import Registry

    defs = loader.load_paths([ROOT / "examples" / "order_cascade.py"])
    wf = defs.workflow("ingest")
    with LocalCloud() as cloud:
        settings = cloud.settings
        ddb, sfn = aws.client("dynamodb", settings.region), aws.client("stepfunctions", settings.region)
        Registrar(settings, sfn, Registry(settings, ddb), cloud.states_role_arn).register(defs)
        calls: Counter[str] = Counter()
        ddb.meta.events.register("before-call.dynamodb", lambda event_name, **_: calls.update([event_name.rsplit(".", 1)[-1]]))

        def cascade(region: str) -> tuple[float, Counter[str]]:
            calls.clear()
            t0 = time.perf_counter()
            start_workflow(sfn, settings, wf, check_inputs(wf, {"region": region, "note": ""}))
            cloud.wait_quiet(120)
            elapsed = time.perf_counter() - t0
            assert not cloud.errors, cloud.errors
            return elapsed, Counter(calls)

        cascade("warmup")  # imports (pandas) and first-use costs
        results: dict[str, list[tuple[float, Counter[str]]]] = {"baseline (no edges)": [], "lineage": []}
        for i in range(rounds):  # alternate, so load on the machine hits both alike
            with mock.patch.object(LineageStore, "put", lambda self, edges: None):
                results["baseline (no edges)"].append(cascade(f"b{i}"))
            results["lineage"].append(cascade(f"l{i}"))
        for mode, runs in results.items():
            times = [t for t, _ in runs]
            print(f"{mode:20s} start → quiet: median {statistics.median(times) * 1000:6.1f} ms, "
                  f"min {min(times) * 1000:6.1f} ms ({rounds} rounds); DynamoDB calls per cascade: {dict(runs[-1][1])}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

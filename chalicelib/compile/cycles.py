"""Trigger cycles: an artifact that (through launch plans and the workflows they start) produces itself.

The graph: launch plan P → launch plan Q when P's workflow produces an artifact (known from its tasks'
output annotations) that Q's trigger listens to, unless the partition values fixed in the annotation
fall outside Q's trigger filter (`Raw.query(stage="raw")` is not triggered by `Raw(stage="clean")`).
Pure: the caller passes both the launch plans being registered and those already registered.
"""

from __future__ import annotations


from msgspec import Struct, field

from chalicelib.errors import TriggerCycleError


class PlanNode(Struct, frozen=True):
    name: str
    workflow: str
    triggers: dict[str, dict[str, str]]  # artifact → partition filter
    produces: dict[str, dict[str, str]] = field(default_factory=dict)  # artifact → fixed partition values


def _feeds(producer: PlanNode, consumer: PlanNode) -> list[str]:
    """Artifacts by which `producer`'s runs can trigger `consumer`."""
    out = []
    for artifact, fixed in sorted(producer.produces.items()):
        flt = consumer.triggers.get(artifact)
        if flt is None:
            continue
        if any(key in fixed and fixed[key] != value for key, value in flt.items()):
            continue
        out.append(artifact)
    return out


def find_cycle(plans: list[PlanNode], starts: list[str]) -> list[tuple[str, PlanNode]] | None:
    """A cycle through one of `starts`, as [(artifact that triggers, plan), ...], or None."""
    by_name = {p.name: p for p in plans}
    edges: dict[str, list[tuple[str, str]]] = {
        p.name: [(a, q.name) for q in sorted(plans, key=lambda q: q.name) for a in _feeds(p, q)] for p in plans
    }
    for start in sorted(starts):
        # depth-first search for a way from start back to start; `path` holds the hops below start
        stack = [(start, iter(edges[start]))]
        path: list[tuple[str, str]] = []  # (artifact into plan, plan)
        seen = {start}
        while stack:
            _, it = stack[-1]
            step = next(it, None)
            if step is None:
                stack.pop()
                if path:
                    path.pop()
                continue
            artifact, nxt = step
            if nxt == start:
                return [(artifact, by_name[start])] + [(a, by_name[p]) for a, p in path]
            if nxt in seen:
                continue
            seen.add(nxt)
            path.append((artifact, nxt))
            stack.append((nxt, iter(edges[nxt])))
    return None


def describe_cycle(cycle: list[tuple[str, PlanNode]]) -> str:
    parts = []
    for artifact, plan in cycle:
        parts.append(f"artifact {artifact!r} → launch plan {plan.name!r} (workflow {plan.workflow})")
    parts.append(f"artifact {cycle[0][0]!r}")
    return " → ".join(parts)


def check_no_cycle(plans: list[PlanNode], starts: list[str]) -> None:
    """Raise TriggerCycleError if a launch plan in `starts` is on a trigger cycle."""
    cycle = find_cycle(plans, starts)
    if cycle is not None:
        raise TriggerCycleError(
            f"trigger cycle: {describe_cycle(cycle)}. Each run would trigger the next forever; remove one of "
            f"these triggers, or filter it (OnArtifact(trigger_on=A.query(key='value'))) so the produced "
            f"partitions do not match"
        )

"""A node's inputs, from its bindings to values: literals, workflow inputs (and their defaults), upstream
results, artifact versions and queries. Shared by task nodes and the workflow-output state."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import DefinitionError
from chalicelib.events.task import TaskEvent
from chalicelib.runtime import loader
from chalicelib.sdk import literals
from chalicelib.sdk.artifact import ArtifactQuery
from chalicelib.sdk.query import QuerySpec, query_literal
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ArtifactVersion


class Binder:
    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    def literal(self, event: TaskEvent, binding: dict[str, Any]) -> Any:
        """The JSON literal a binding gives (a reference for artifacts and large values)."""
        if "const" in binding:
            return binding["const"]
        if "list" in binding:  # fan-in
            return [self.literal(event, b) for b in binding["list"]]
        if "map" in binding:  # a mapped input: this item's element
            if event.map_index is None:
                raise DefinitionError(f"node {event.node}: a mapped input outside a map item; register and deploy "
                                      f"the same files")
            return self.items(event, binding["map"])[event.map_index]
        if "node" in binding:
            return event.results[binding["node"]]["outputs"][binding["output"]]
        wf_input = binding["input"]
        if wf_input in event.inputs:
            return event.inputs[wf_input]
        module, _, attr = event.workflow.rpartition(".")
        wf = getattr(loader.import_module(module), attr)
        for spec in wf.inputs:
            if spec.name == wf_input and spec.has_default:
                if isinstance(spec.default, ArtifactQuery):
                    return query_literal(spec.default)
                return literals.encode(spec.default)
        raise DefinitionError(f"workflow {event.workflow!r} was started without input {wf_input!r}")

    def items(self, event: TaskEvent, binding: dict[str, Any]) -> list[Any]:
        """The list a mapped input maps over (read from S3 when it travelled by reference)."""
        literal = self.literal(event, binding)
        values = literal if isinstance(literal, list) else self.materialize(literal)
        if not isinstance(values, list):
            raise DefinitionError(f"node {event.node}: map_task maps over a list; got {type(values).__name__}")
        return values

    def materialize(self, literal: Any) -> Any:
        """A literal's value: references are read from S3 (files stay there, as lazy objects)."""
        if isinstance(literal, list):
            return [self.materialize(v) for v in literal]
        value = literals.decode(literal)
        if isinstance(value, dict) and len(value) == 1:
            tag, body = next(iter(value.items()))
            if tag in ("$ref", "$artifact"):
                loaded = self.store.load_uri(body["uri"], body["format"])
                # a list stored by reference (a mapped task's outputs) holds literals of its own
                return self.materialize(loaded) if tag == "$ref" and isinstance(loaded, list) else loaded
            if tag == "$query":
                return self.materialize(self.resolve_query(body).reference())
        return value

    def resolve_query(self, body: dict[str, Any]) -> ArtifactVersion:
        return self.store.index.find(QuerySpec.from_literal(body))

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

    def materialize(self, literal: Any) -> Any:
        """A literal's value: references are read from S3 (files stay there, as lazy objects)."""
        if isinstance(literal, list):
            return [self.materialize(v) for v in literal]
        value = literals.decode(literal)
        if isinstance(value, dict) and len(value) == 1:
            tag, body = next(iter(value.items()))
            if tag in ("$ref", "$artifact"):
                return self.store.load_uri(body["uri"], body["format"])
            if tag == "$query":
                return self.materialize(self.resolve_query(body).reference())
        return value

    def resolve_query(self, body: dict[str, Any]) -> ArtifactVersion:
        return self.store.index.find(QuerySpec.from_literal(body))

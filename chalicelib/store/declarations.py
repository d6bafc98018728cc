"""What registration declares in the registry table: artifacts and workflow modules, each read with one GetItem.

    pk = "ARTIFACT#<name>"   sk = "DECLARATION"        an artifact's settings, and the module that declared it
    pk = "MODULES"           sk = "MODULE#<module>"    a workflow module the task runner may import, and its file

Artifact declarations let code that must not import user workflow files (the upload handler) know an
artifact's partition keys, time partitioning and whether it accepts uploads. One name has one declaration
per stage: another module declaring it with different settings is refused at registration
(`Declarations.conflict`); the module that declared it may change it.

Module sources are the task runner's allow-list (`chalicelib.runtime.loader.import_module`): the modules
of every registered task and workflow, with the file each came from (relative to the project root when
inside it, as in the deployed code; else absolute, for the local cloud, which runs user code in-process).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.sdk.artifact import Artifact
from chalicelib.store.dynamo import from_dynamo, paginate, to_dynamo

SORT_KEY = "DECLARATION"
MODULES = "MODULES"
SETTINGS = ("partition_keys", "time_partitioned", "granularity", "accepts_uploads")



def put_if_changed(dynamodb: Any, table: str, item: dict[str, Any]) -> bool:
    """Put an item holding a `doc` unless the stored one has the same doc; returns whether it was written."""
    try:
        dynamodb.put_item(TableName=table, Item=to_dynamo(item),
                          ConditionExpression="attribute_not_exists(pk) OR doc <> :doc",
                          ExpressionAttributeValues={":doc": {"S": item["doc"]}})
    except Exception as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False
    return True

class ArtifactDeclaration(BaseModel):
    name: str
    partition_keys: list[str]
    time_partitioned: bool
    granularity: str
    accepts_uploads: bool
    description: str | None = None
    module: str | None = None  # the module that declared it (None: registered before modules were recorded)

    @classmethod
    def of(cls, artifact: Artifact, module: str | None = None) -> ArtifactDeclaration:
        return cls(
            name=artifact.name,
            partition_keys=list(artifact.partition_keys),
            time_partitioned=artifact.time_partitioned,
            granularity=artifact.granularity.value,
            accepts_uploads=artifact.accepts_uploads,
            description=artifact.description,
            module=module,
        )

    def settings(self) -> dict[str, Any]:
        values = {k: getattr(self, k) for k in SETTINGS}
        values["partition_keys"] = sorted(self.partition_keys)
        if not self.time_partitioned:
            values["granularity"] = None
        return values

    def difference(self, other: ArtifactDeclaration) -> str:
        ours, theirs = self.settings(), other.settings()
        return "; ".join(f"{k} {ours[k]!r} vs {theirs[k]!r}" for k in SETTINGS if ours[k] != theirs[k])

    def to_item(self) -> dict[str, Any]:
        return {"pk": f"ARTIFACT#{self.name}", "sk": SORT_KEY, "name": self.name,
                "accepts_uploads": self.accepts_uploads, "doc": self.model_dump_json()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ArtifactDeclaration:
        return cls.model_validate(json.loads(item["doc"]))


class Declarations:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    @staticmethod
    def conflict(stored: ArtifactDeclaration | None, new: ArtifactDeclaration) -> str | None:
        """Why `new` may not replace `stored` (decided, not acted on): another module declared the name with
        other settings. The declaring module may change its own declaration; equal settings are no conflict."""
        if stored is None or stored.settings() == new.settings():
            return None
        if stored.module is None or stored.module == new.module:
            return None
        return (f"artifact {new.name!r} is declared by module {new.module} with settings that differ from its "
                f"declaration by module {stored.module}, registered in this stage ({new.difference(stored)}). "
                f"Use the same declaration (import it from {stored.module}), give the new one another name, "
                f"or change it in {stored.module} and register that file")

    def keep_owner(self, stored: ArtifactDeclaration | None, new: ArtifactDeclaration) -> ArtifactDeclaration:
        """The declaration to store: an equal declaration from another module keeps the first declarer."""
        if stored is not None and stored.module and stored.module != new.module and stored.settings() == new.settings():
            return new.model_copy(update={"module": stored.module})
        return new

    def put(self, declaration: ArtifactDeclaration) -> bool:
        """Store a declaration; returns False (and writes nothing) when the stored one is the same."""
        return put_if_changed(self.dynamodb, self.table, declaration.to_item())

    def get(self, name: str) -> ArtifactDeclaration | None:
        resp = self.dynamodb.get_item(
            TableName=self.table,
            Key=to_dynamo({"pk": f"ARTIFACT#{name}", "sk": SORT_KEY}),
            ConsistentRead=True,
        )
        return ArtifactDeclaration.from_item(from_dynamo(resp["Item"])) if "Item" in resp else None


class ModuleSource(BaseModel):
    module: str
    path: str  # relative to the project root when inside it, else absolute
    sha256: str

    def to_item(self) -> dict[str, Any]:
        return {"pk": MODULES, "sk": f"MODULE#{self.module}", "module": self.module, "doc": self.model_dump_json()}


class ModuleSources:
    """The workflow modules registered in a stage: what the task runner may import, and from which file."""

    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def put(self, source: ModuleSource) -> bool:
        """Record a module's file; returns False (and writes nothing) when it is recorded the same."""
        return put_if_changed(self.dynamodb, self.table, source.to_item())

    def get(self, module: str) -> ModuleSource | None:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo({"pk": MODULES, "sk": f"MODULE#{module}"}),
                                      ConsistentRead=True)
        return ModuleSource.model_validate_json(from_dynamo(resp["Item"])["doc"]) if "Item" in resp else None

    def all(self) -> list[ModuleSource]:
        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": MODULES}}, "ConsistentRead": True})
        return sorted((ModuleSource.model_validate_json(i["doc"]) for i in items), key=lambda s: s.module)

"""`moto.server` with two corrections, for the deploy tests (both moto 5.2.5 bugs, answered with HTTP 500):

* AWS reads S3 notification filter rule names case-insensitively and chalice sends `Prefix`; moto accepts
  only `prefix`/`suffix`. They are lower-cased before moto parses them.
* moto's CloudFormation RestApi ignores `Body` (the API gets no methods, so its Deployment fails) and requires
  `Name`; the Body is put on the new API as PutRestApi would. Deleting the stack leaves the API behind.
* moto's CloudFormation LayerVersion ignores `LayerName` (it names the layer after the logical id), its `Ref`
  is the model object rather than the version's ARN (a function update with `Layers` fails), and deleting the
  stack leaves the layer version behind.
* moto's ImportRestApi reads only OpenAPI 3 documents and requires `info.description`; chalice sends a
  Swagger 2.0 document without one. The paths and their `x-amazon-apigateway-integration` read the same in
  both versions, so the document is passed on marked as OpenAPI 3, with an empty description.
"""

from __future__ import annotations

import sys

from moto.apigateway.models import APIGatewayBackend, RestAPI, apigateway_backends
from moto.awslambda.models import LayerVersion, lambda_backends
from moto.s3.responses import S3Response
from moto.server import main

_parse = S3Response._notification_config_from_body


def _case_insensitive_rule_names(self):  # type: ignore[no-untyped-def]
    body = self.body.decode() if isinstance(self.body, bytes) else self.body
    for word in ("Prefix", "Suffix"):
        body = body.replace(f"<Name>{word}</Name>", f"<Name>{word.lower()}</Name>")
    self.body = body
    return _parse(self)


S3Response._notification_config_from_body = _case_insensitive_rule_names

_import = APIGatewayBackend.import_rest_api


def _as_openapi3(api_doc):  # type: ignore[no-untyped-def]
    if "swagger" in api_doc:
        api_doc.pop("swagger")
        api_doc["openapi"] = "3.0.1"
    api_doc.setdefault("info", {}).setdefault("description", "")
    return api_doc


def _import_swagger(self, api_doc, fail_on_warnings):  # type: ignore[no-untyped-def]
    return _import(self, _as_openapi3(api_doc), False)


_put = APIGatewayBackend.put_rest_api


def _put_swagger(self, function_id, api_doc, *args, **kwargs):  # type: ignore[no-untyped-def]
    return _put(self, function_id, _as_openapi3(api_doc), *args, **kwargs)


APIGatewayBackend.import_rest_api = _import_swagger
APIGatewayBackend.put_rest_api = _put_swagger

_create_api = RestAPI.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_api_with_body(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
    api = _create_api(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    body = cloudformation_json["Properties"].get("Body")
    if body:
        apigateway_backends[account_id][region_name].put_rest_api(api.id, dict(body), False, mode="overwrite")
    return api


RestAPI.create_from_cloudformation_json = classmethod(_create_api_with_body)  # type: ignore[assignment]

RestAPI.delete = lambda self, account_id, region_name: (  # type: ignore[attr-defined]
    apigateway_backends[account_id][region_name].delete_rest_api(self.id))
LayerVersion.cloudformation_name_type = staticmethod(lambda: "LayerName")  # type: ignore[method-assign]
LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]
LayerVersion.delete = lambda self, account_id, region_name: (  # type: ignore[attr-defined]
    lambda_backends[account_id][region_name].delete_layer_version(self.name, str(self.version)))


if __name__ == "__main__":
    main(sys.argv[1:])

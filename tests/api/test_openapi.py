"""The OpenAPI document is a valid contract, and says what the API answers (docs/api.md)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from openapi_spec_validator import validate

OPERATION_METHODS = ("get", "put", "post", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in OPERATION_METHODS
    ]


def test_the_document_is_valid_openapi(client: FlaskClient) -> None:
    validate(client.get("/api/v1/openapi.json").json)


def test_every_operation_documents_its_errors_as_problems(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    responses = spec["components"]["responses"]
    for method, path, operation in operations(spec):
        errors = {status: ref for status, ref in operation["responses"].items() if not status.startswith(("2", "3"))}
        assert {"default", "429"} <= set(errors), (method, path)
        if operation.get("security") != []:
            assert {"401", "403"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if "requestBody" in operation:
            assert {"400", "415", "422"} <= set(errors), (method, path)
        for ref in errors.values():
            content = responses[ref["$ref"].rsplit("/", 1)[-1]]["content"]
            assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_operation_ids_are_unique_and_read_as_function_names(client: FlaskClient) -> None:
    ids = [operation["operationId"] for _method, _path, operation in operations(client.get("/api/v1/openapi.json").json)]
    assert len(ids) == len(set(ids))
    assert all(operation_id.isidentifier() and operation_id.islower() for operation_id in ids)


def test_decimals_are_strings_with_a_pattern_and_no_numeric_bounds(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    purchase = schemas["PurchaseCreate"]["properties"]["total"]
    assert purchase["type"] == "string" and purchase["format"] == "decimal"
    assert purchase["pattern"] == r"^[0-9]+(\.[0-9]{1,2})?$"
    assert "maximum" not in purchase and "from 0 to 10000000" in purchase["description"]
    decimals = [
        (name, field)
        for schema in schemas.values()
        for name, field in schema.get("properties", {}).items()
        if field.get("format") == "decimal"
    ]
    assert len(decimals) > 20
    for name, field in decimals:
        assert field["type"] == "string" and "pattern" in field, name
        assert not {"minimum", "maximum"} & set(field), name


def test_the_tour_requests_carry_examples(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/auth/token", "/api/v1/auth/login", "/api/v1/members", "/api/v1/purchases",
                 "/api/v1/purchases/{purchase_id}/returns", "/api/v1/members/{member_id}/redemptions",
                 "/api/v1/engagements", "/api/v1/vouchers/{code}/redeem"):  # fmt: skip
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert "example" in body, path


def schema_of(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    node = node.get("items", node)
    return spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node


def test_every_field_of_an_answer_is_required_and_requests_keep_their_own(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    answered = 0
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json") if status.startswith("2") else None
            if content:
                schema = schema_of(spec, content["schema"])
                properties = schema.get("properties", {}).items()
                answered_fields = {name for name, field in properties if not field.get("writeOnly") and "x-answered-to" not in field}
                assert set(schema.get("required", [])) == answered_fields, (method, path, status)
                answered += 1
    assert answered > 100
    # Enrolment sends consents without all of them; the member answered has them all.
    enrol = spec["paths"]["/api/v1/members"]["post"]
    body = schema_of(spec, enrol["requestBody"]["content"]["application/json"]["schema"])
    consents_sent = schema_of(spec, body["properties"]["consents"])
    answer = schema_of(spec, enrol["responses"]["201"]["content"]["application/json"]["schema"])
    consents_answered = schema_of(spec, answer["properties"]["consents"])
    assert "required" not in consents_sent and consents_answered["required"] == ["email", "sms", "push", "postal"]
    assert answer["properties"]["phone"]["nullable"] is True
    # The engagement score is answered to admin and service callers only: said, and not required.
    member = schema_of(spec, spec["paths"]["/api/v1/members/{member_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert member["properties"]["engagement"]["x-answered-to"] == ["admin", "service"]
    assert "engagement" not in member["required"]

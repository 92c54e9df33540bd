"""The OpenAPI document tells the truth about failures: what each operation may answer besides success.

FastAPI documents only the success response and a 422 shaped like its own validation error. Here,
once for every operation, the document gains the bearer sign-in (on operations that need it) and
the error responses the error handlers of app/core/api.py actually send, with their JSON shape:
{"detail": "what is wrong and what to do", ...}, or for an invalid request the list of fields.
Which codes apply is read from the operation itself (does it need a token, take parameters, a
body, an If-Match header; does it change anything), so a new router is covered without listing it.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI
from fastapi import routing
from fastapi.dependencies.models import Dependant

BEARER = "bearer"
JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "title": "Error",
        "type": "object",
        "description": "Every refusal: detail says what is wrong and what to do. Some add facts, e.g. a refused "
        "event adds state, allowed_events and failed_guards; a stale If-Match adds version.",
        "required": ["detail"],
        "properties": {"detail": {"type": "string", "title": "Detail"}},
    },
    "InvalidField": {
        "title": "InvalidField",
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "title": "Location"},
            "msg": {"type": "string", "title": "Message"},
            "type": {"type": "string", "title": "Error Type"},
        },
    },
    "InvalidRequest": {
        "title": "InvalidRequest",
        "type": "object",
        "description": "The request does not fit the operation: one entry per field, and a sentence for people.",
        "required": ["detail", "message"],
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/InvalidField"}, "title": "Detail"},
            "message": {"type": "string", "title": "Message"},
        },
    },
}

DESCRIPTIONS = {
    400: "The body could not be read: it is not valid JSON or form data.",
    401: "Not signed in, or the token is unknown, expired or revoked.",
    403: "Signed in, but your role may not do this.",
    404: "Not found, or outside what you may see.",
    409: "Not allowed now: the state does not allow it, or it would duplicate something. The detail says why.",
    412: "The If-Match ETag is stale: someone changed this since you loaded it. Reload and reapply.",
    422: "The request is not valid: the detail says which field and why.",
    428: "If-Match is missing: send the ETag from GET.",
    503: "The database (or LibreOffice, for a PDF) is not available just now: nothing was changed; try again.",
}
WRITES = {"post", "put", "patch", "delete"}


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def _codes(operation: dict[str, Any], method: str, signed_in: bool) -> set[int]:
    parameters = operation.get("parameters", [])
    has_input = bool(parameters) or "requestBody" in operation
    codes = {503}
    if signed_in:
        codes |= {401, 403}
    if has_input:
        codes.add(422)
    # Ids in the path, and for a signed-in caller ids in a query or body, are looked up within what
    # the caller may see: anything else is 404.
    if any(p.get("in") == "path" for p in parameters) or (signed_in and has_input):
        codes.add(404)
    if "requestBody" in operation:
        codes.add(400)
    if method in WRITES:
        codes.add(409)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parameters):
        codes |= {412, 428}
    return codes


def _error_content(code: int) -> dict[str, Any]:
    if code == 422:  # a field that does not fit, or a value the service refuses, with its reason
        return {JSON: {"schema": {"anyOf": [{"$ref": "#/components/schemas/InvalidRequest"}, ERROR_REF]}}}
    return {JSON: {"schema": ERROR_REF}}


def _declare(schema: dict[str, Any], app: FastAPI, sign_in: Callable[..., Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(SCHEMAS)
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/auth/token, sent as 'Authorization: Bearer <token>'.",
    }
    signed_in = {
        (route.path_format, method.lower()): _depends_on(route.dependant, sign_in)
        for route in routing.iter_route_contexts(app.routes)  # routes of included routers too, as mounted
        if isinstance(route.original_route, routing.APIRoute)
        for method in route.methods or ()
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            needs_token = signed_in.get((path, method), False)
            if needs_token:
                operation["security"] = [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            for code in sorted(_codes(operation, method, needs_token)):
                declared = responses.setdefault(str(code), {})
                declared.setdefault("description", DESCRIPTIONS[code])
                if code == 422 or not declared.get("content"):
                    declared["content"] = _error_content(code)
            for response in responses.values():  # files: their bytes, whatever the media type
                for media_type, body in response.get("content", {}).items():
                    if media_type != JSON and not body.get("schema"):
                        body["schema"] = {"type": "string", "format": "binary"}


def document_responses(app: FastAPI, *, sign_in: Callable[..., Any]) -> None:
    """Make app.openapi() declare the bearer scheme and every error response (sign_in: the dependency
    that resolves the caller's token; an operation that depends on it needs a token)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's own, cached until the routes change
        if BEARER not in schema.get("components", {}).get("securitySchemes", {}):
            _declare(schema, app, sign_in)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

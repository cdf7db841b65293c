"""Checking exchanges against Discourse's OpenAPI document (JSON Schema 2020-12 inside).

For a request: the operation exists, required header parameters are present, path
parameters match their schemas, the JSON body matches ``requestBody`` (for the GET whose
document lists ``post_ids[]`` as a body, as rswag writes it, the query values are checked
against that property). For an answer: a 200 matches the operation's response schema; an
error matches Discourse's error body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tests.fakes.discourse import Exchange

OPENAPI = Path(__file__).resolve().parents[1] / "fixtures" / "discourse" / "openapi.json"

ERROR_BODY = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "error_type": {"enum": ["invalid_access", "not_found", "rate_limit", "invalid_parameters"]},
        "extras": {
            "type": "object",
            "properties": {"wait_seconds": {"type": "number", "minimum": 0}},
        },
        "action": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]


# Where the document is narrower than Discourse itself, each widening with its evidence.
KNOWN_GAPS = [
    (
        # generated from a category with one page of topics, the listing's schema forbids
        # the link to the next page, which real listings carry: discourse_api's fixture
        # latest.json has topic_list.more_topics_url = "/latest.json?page=1"
        ("/c/{slug}/{id}.json", "get", "200"),
        ("properties", "topic_list", "properties"),
        {"more_topics_url": {"type": "string"}},
    ),
]


@cache
def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    for (path, method, status), where, properties in KNOWN_GAPS:
        schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]
        node = schema["schema"]
        for key in where:
            node = node[key]
        node.update(properties)
    return doc


@cache
def _routes() -> list[tuple[re.Pattern[str], str, str]]:
    routes = []
    for template, ops in document()["paths"].items():
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        pattern = re.compile(
            "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        )
        for method in ops:
            routes.append((literal, pattern, method.upper(), template))
    routes.sort(key=lambda r: -r[0])  # the most literal template first: /c/{id}/show.json
    return [(p, m, t) for _, p, m, t in routes]


def operation_of(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    for pattern, op_method, template in _routes():
        match = pattern.match(path)
        if match and op_method == method:
            spec = document()["paths"][template][method.lower()]
            return Operation(method, template, spec), match.groupdict()
    raise AssertionError(f"{method} {path} is not an operation of Discourse's API")


def _errors(schema: dict[str, Any], value: Any) -> list[str]:
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


def _coerce(schema: dict[str, Any], text: str) -> Any:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def check_request(exchange: Exchange) -> list[str]:
    op, path_params = operation_of(exchange.method, exchange.path)
    problems = []
    headers = {k.lower() for k in exchange.headers}
    for param in op.spec.get("parameters") or []:
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        if where == "header" and param.get("required") and name.lower() not in headers:
            problems.append(f"header {name} is required")
        if where == "path":
            problems += [
                f"path {name}: {e}" for e in _errors(schema, _coerce(schema, path_params[name]))
            ]
    body_schema = (
        (op.spec.get("requestBody") or {}).get("content", {}).get("application/json", {})
    ).get("schema")
    if exchange.method in ("POST", "PUT") and body_schema is not None:
        problems += [f"body {e}" for e in _errors(body_schema, exchange.body)]
    elif exchange.method == "GET" and body_schema is not None:  # rswag's GET "body"
        for key, value in exchange.query:
            prop = body_schema.get("properties", {}).get(key)
            if prop is None:
                problems.append(f"query {key} is not a documented parameter")
            else:
                problems += [f"query {key}: {e}" for e in _errors(prop, _coerce(prop, value))]
    return [f"{exchange.method} {exchange.path}: {p}" for p in problems]


def check_answer(exchange: Exchange) -> list[str]:
    op, _ = operation_of(exchange.method, exchange.path)
    where = f"{exchange.method} {exchange.path} -> {exchange.status}"
    if exchange.status >= 400:
        return [f"{where}: {e}" for e in _errors(ERROR_BODY, exchange.answer)]
    response = op.spec["responses"].get(str(exchange.status))
    if response is None:
        return [f"{where}: status not documented"]
    schema = (response.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    return [f"{where}: {e}" for e in _errors(schema, exchange.answer)]

"""Engine API request bodies checked against the API's types before anything is done.

Each body has a JSON Schema (schemas/<name>.json, the Engine API v1.41 types) checked
with jsonschema. A body of the wrong type is refused with 400 and dockerd's words, which
are Go's encoding/json words about the struct it decodes into — the schema names those
(`x-go-struct`, `x-go-type`): `json: cannot unmarshal number into Go struct field
ContainerConfigWrapper.User of type string`. (dockerd 20.10 answers these with 500,
later versions with 400; the words are the same.)
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from reference_impl.api.common import ApiError

SCHEMAS = Path(__file__).parent / "schemas"
_PORT_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def check(name: str, body) -> None:
    """Refuse `body` (400, dockerd's words) unless it fits schema `name`."""
    validator = _validator(name)
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ApiError(400, _words(validator.schema, errors[0], body))


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("host-port", raises=ValueError)
def _host_port(value) -> bool:
    """nat.ParsePortSpec: empty, a port or a range of ports, each 0-65535."""
    if not isinstance(value, str) or value == "":
        return True
    match = _PORT_RANGE.match(value)
    if not match or any(int(p) > 65535 for p in match.groups() if p):
        raise ValueError(f'invalid port specification: "{value}"')
    return True


@functools.cache
def _validator(name: str) -> Draft7Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return Draft7Validator(schema, format_checker=_FORMATS)


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number" if isinstance(value, int) or value.is_integer() else f"number {value}"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "null")


def _words(schema: dict, error: ValidationError, body) -> str:
    if error.validator == "format":
        return str(error.cause or error.message)
    if not error.absolute_path:
        return f"json: cannot unmarshal {_json_type(body)} into Go value of type runconfig.{schema['x-go-struct']}"
    node, value, struct, fields = schema, body, schema["x-go-struct"], []
    for key in error.absolute_path:
        if node.get("x-go-strslice"):
            break  # a string or a list of strings: Go reports the field, as a string
        if key in node.get("properties", {}):
            struct = node.get("x-go-struct", struct)
            fields.append(key)
            node = node["properties"][key]
        else:  # a map's key or a list's index: not part of Go's field path
            node = node.get("additionalProperties") or node.get("items") or {}
        value = value[key]
    return (f"json: cannot unmarshal {_json_type(value)} into Go struct field {struct}.{'.'.join(fields)} "
            f"of type {node.get('x-go-type', 'string')}")

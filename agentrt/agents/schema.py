"""JSON-schema function declarations built from Python signatures, type hints and docstrings.

This is agentrt's own builder (no ADK import), so that the tool surface that goes into a
replay-cache key can be computed without touching Google ADK. It understands ``str``,
``int``, ``float``, ``bool``, ``None``, ``Optional``/``X | None``/``Union``, ``Literal``,
``Enum`` subclasses, ``list``/``tuple``/``set``/``Sequence``, ``dict``/``Mapping``,
``datetime``/``date``, ``Annotated[T, "description"]`` and pydantic models (inlined, no
``$ref``), plus parameter defaults and the "Args:" section of Google-style or the
"Parameters" section of NumPy-style docstrings (``:param x:`` Sphinx fields too).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["ParsedDocstring", "function_schema", "parse_docstring", "type_schema"]

_NONE_TYPE = type(None)
_PRIMITIVES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SKIPPED_PARAMS = frozenset({"self", "cls"})


@dataclasses.dataclass(frozen=True)
class ParsedDocstring:
    """A docstring split into its free text and its per-parameter descriptions."""

    summary: str
    """The docstring without its parameter section (may hold Returns:/Raises: text)."""
    params: dict[str, str]


_GOOGLE_HEADERS = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$")
_ANY_GOOGLE_HEADER = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns|Return|Yields|"
    r"Raises|Examples?|Notes?|Attributes|See Also|Warnings?|Todo)\s*:\s*$"
)
_NUMPY_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_SPHINX_PARAM = re.compile(r"^\s*:param\s+(?:[^:]+\s+)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Split ``doc`` into free text and ``{param: description}`` (Google, NumPy or Sphinx)."""
    if not doc:
        return ParsedDocstring("", {})
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _GOOGLE_HEADERS.match(line):
            i = _parse_google_args(lines, i + 1, params)
            continue
        if (
            line.strip() in ("Parameters", "Other Parameters", "Arguments")
            and i + 1 < len(lines)
            and _NUMPY_UNDERLINE.match(lines[i + 1])
        ):
            i = _parse_numpy_params(lines, i + 2, params)
            continue
        sphinx = _SPHINX_PARAM.match(line)
        if sphinx:
            name, text = sphinx.group(1), [sphinx.group(2).strip()]
            i += 1
            while i < len(lines) and lines[i].startswith((" ", "\t")) and not _SPHINX_PARAM.match(lines[i]):
                text.append(lines[i].strip())
                i += 1
            params[name] = " ".join(t for t in text if t)
            continue
        kept.append(line)
        i += 1
    return ParsedDocstring("\n".join(kept).strip(), params)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parse_google_args(lines: list[str], i: int, params: dict[str, str]) -> int:
    base: int | None = None
    current: str | None = None
    entry = re.compile(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        if base is None:
            if indent == 0 or _ANY_GOOGLE_HEADER.match(line):
                return i
            base = indent
        if indent < base or (indent == 0 and _ANY_GOOGLE_HEADER.match(line)):
            return i
        match = entry.match(line.strip()) if indent == base else None
        if match:
            current = match.group(1).lstrip("*")
            params[current] = match.group(3).strip()
        elif current is not None:
            params[current] = (params[current] + " " + line.strip()).strip()
        i += 1
    return i


def _parse_numpy_params(lines: list[str], i: int, params: dict[str, str]) -> int:
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and _NUMPY_UNDERLINE.match(lines[i + 1]):
            return i  # the next section starts here
        if not line.strip():
            i += 1
            continue
        if _indent(line) == 0:
            current = line.split(":", 1)[0].strip().lstrip("*")
            params[current] = ""
        elif current is not None:
            params[current] = (params[current] + " " + line.strip()).strip()
        i += 1
    return i


def _inline_refs(schema: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    if depth > 32:
        return {}
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.split("/")[-1], {})
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return _inline_refs(merged, defs, depth + 1)
        return {
            k: _inline_refs(v, defs, depth + 1)
            for k, v in schema.items()
            if k not in ("$defs", "title")
        }
    if isinstance(schema, list):
        return [_inline_refs(v, defs, depth + 1) for v in schema]
    return schema


def _pydantic_schema(tp: Any) -> dict[str, Any]:
    import pydantic

    raw = pydantic.TypeAdapter(tp).json_schema()
    return _inline_refs(raw, raw.get("$defs", {}))


def _literal_schema(values: tuple[Any, ...]) -> dict[str, Any]:
    plain = [v.value if isinstance(v, enum.Enum) else v for v in values]
    kinds = {_PRIMITIVES.get(type(v)) for v in plain}
    schema: dict[str, Any] = {"enum": plain}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), "enum": plain}
    return schema


def type_schema(tp: Any) -> dict[str, Any]:
    """Return the JSON schema of one Python type annotation (``{}`` means "any value")."""
    if tp is inspect.Parameter.empty or tp is Any or tp is object:
        return {}
    if tp is None or tp is _NONE_TYPE:
        return {"type": "null"}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        schema = dict(type_schema(args[0]))
        notes = [a for a in args[1:] if isinstance(a, str)]
        for meta in args[1:]:
            description = getattr(meta, "description", None)
            if isinstance(description, str):
                notes.append(description)
        if notes:
            schema["description"] = " ".join(notes)
        return schema
    if origin is typing.Literal:
        return _literal_schema(args)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in args if a is not _NONE_TYPE]
        nullable = len(members) != len(args)
        if len(members) == 1:
            inner = type_schema(members[0])
            if not nullable:
                return inner
            if isinstance(inner.get("type"), str) and set(inner) <= {"type", "format", "description"}:
                return {**inner, "type": [inner["type"], "null"]}
            return {"anyOf": [inner, {"type": "null"}]}
        options = [type_schema(m) for m in members]
        if nullable:
            options.append({"type": "null"})
        return {"anyOf": options}
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return _literal_schema(tuple(tp))
        if tp is bool:
            return {"type": "boolean"}
        if issubclass(tp, (str, int, float)) and tp in _PRIMITIVES:
            return {"type": _PRIMITIVES[tp]}
        if issubclass(tp, _dt.datetime):
            return {"type": "string", "format": "date-time"}
        if issubclass(tp, _dt.date):
            return {"type": "string", "format": "date"}
        if issubclass(tp, decimal.Decimal):
            return {"type": "number"}
        if issubclass(tp, bytes):
            return {"type": "string"}
        if tp in (list, tuple, set, frozenset):
            return {"type": "array", "items": {}}
        if tp is dict:
            return {"type": "object"}
    if origin in (list, set, frozenset, Sequence) or (
        isinstance(origin, type) and origin is not tuple and issubclass(origin, Sequence) and origin is not str
    ):
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0])}
        if not args:
            return {"type": "array", "items": {}}
        item_schemas = [type_schema(a) for a in args]
        return {
            "type": "array",
            "prefixItems": item_schemas,
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin in (dict, Mapping) or (
        isinstance(origin, type) and issubclass(origin, Mapping)
    ):
        value = type_schema(args[1]) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value} if value else {"type": "object"}
    try:
        return _pydantic_schema(tp)
    except Exception:  # an exotic annotation: accept any value rather than refuse the tool
        return {}


def _jsonable_default(value: Any) -> tuple[bool, Any]:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return True, value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) or v is None for v in value):
        return True, list(value)
    return False, None


def function_schema(
    fn: Callable[..., Any],
    *,
    skip: frozenset[str] = frozenset(),
    localns: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], ParsedDocstring]:
    """Return ``(parameters_schema, parsed_docstring)`` for ``fn``.

    ``self``/``cls``, ``*args``/``**kwargs`` and names in ``skip`` are left out. The schema
    is an ``{"type": "object", "properties": ..., "required": [...]}`` JSON schema;
    parameters without a default are required. ``localns`` resolves string annotations
    that name classes local to the scope the function was defined in.
    """
    target = inspect.unwrap(fn)
    signature = inspect.signature(target)
    try:
        hints = typing.get_type_hints(target, localns=dict(localns) if localns else None, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = {}
    doc = parse_docstring(inspect.getdoc(target))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in signature.parameters.items():
        if name in _SKIPPED_PARAMS or name in skip:
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(name, param.annotation)
        if isinstance(annotation, str):
            annotation = inspect.Parameter.empty
        schema = dict(type_schema(annotation))
        if name in doc.params and doc.params[name] and "description" not in schema:
            schema["description"] = doc.params[name]
        if param.default is inspect.Parameter.empty:
            required.append(name)
        else:
            ok, default = _jsonable_default(param.default)
            if ok:
                schema["default"] = default
        properties[name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return parameters, doc

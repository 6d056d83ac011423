"""`@agent_tool`: turning Python functions and strategy methods into validated agent tools.

A tool is declared to the model as a JSON-schema function declaration built by
:mod:`agentrt.agents.schema` (no ADK needed, so cache keys can be computed without it).
The description the model sees is the decorator's ``description``, then the docstring,
then the function's source code, so the model knows exactly what a tool does.

Calls are validated against the signature with pydantic: malformed arguments and
exceptions raised by the tool come back to the model as a tool error
(``{"error": "...", "type": "ToolArgumentError"}``) that it can correct; they never
raise into the backtest.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import inspect
import re
import sys
import textwrap
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal

from agentrt.agents._jsonable import to_jsonable
from agentrt.agents.schema import function_schema

__all__ = [
    "AgentTool",
    "ToolArgumentError",
    "ToolOutcome",
    "ToolRunContext",
    "ToolSpec",
    "agent_tool",
    "current_tool_context",
    "make_tool",
    "source_hash",
]

ToolKind = Literal["builtin", "custom", "mcp"]
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MARKER = "__agent_tool__"


class ToolArgumentError(ValueError):
    """Arguments a model sent do not fit the tool's schema (returned to the model)."""


@dataclasses.dataclass(frozen=True)
class ToolSpec:
    """What the model is told about one tool; part of the replay-cache key."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    """JSON schema of the arguments (``{"type": "object", "properties": ...}``)."""
    source_hash: str
    """``"sha256:<hex>"`` of the implementation's source (MCP: of the server's declaration)."""
    kind: ToolKind = "custom"
    mutates_trading: bool = False
    server: str | None = None
    """For MCP tools: the server's identity string; ``None`` otherwise."""
    cacheable: bool = True
    """Whether single calls may be served from the replay cache (not part of the key)."""

    def key_material(self) -> dict[str, Any]:
        """The entry of this tool in a run key's ``"tools"`` list."""
        return {
            "name": self.name,
            "kind": self.kind,
            "schema": dict(self.parameters),
            "source_hash": self.source_hash,
            "server": self.server,
        }

    def declaration(self) -> dict[str, Any]:
        """``{"name", "description", "parameters"}`` as sent to the model."""
        return {"name": self.name, "description": self.description, "parameters": dict(self.parameters)}


@dataclasses.dataclass(frozen=True)
class ToolOutcome:
    """The result of one tool invocation: a JSON value, or an error for the model."""

    result: Any = None
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_response(self) -> dict[str, Any]:
        """The dict handed back to the model as the function response."""
        if self.error is not None:
            return {"error": self.error, "type": self.error_type or "Error"}
        if isinstance(self.result, dict):
            return self.result
        return {"result": self.result}


@dataclasses.dataclass(frozen=True)
class ToolRunContext:
    """What a running tool may know about the run that called it (see :func:`current_tool_context`)."""

    agent_name: str
    sim_time: Any
    """The simulated ``datetime`` of the run: use it, never the wall clock."""
    host: Any
    """The strategy running the agent."""
    is_backtesting: bool = True


_CURRENT: contextvars.ContextVar[ToolRunContext | None] = contextvars.ContextVar(
    "agentrt_tool_context", default=None
)


def current_tool_context() -> ToolRunContext:
    """Return the context of the agent run whose tool is executing now.

    Tool packs that are plain functions use it to learn the simulated time
    (``current_tool_context().sim_time``) instead of the wall clock.
    """
    ctx = _CURRENT.get()
    if ctx is None:
        raise RuntimeError(
            "current_tool_context() was called outside an agent tool call; it is only "
            "available while an agent run executes a tool. Pass the time explicitly when "
            "calling the function yourself"
        )
    return ctx


def set_tool_context(ctx: ToolRunContext | None) -> contextvars.Token[ToolRunContext | None]:
    return _CURRENT.set(ctx)


def reset_tool_context(token: contextvars.Token[ToolRunContext | None]) -> None:
    _CURRENT.reset(token)


@dataclasses.dataclass(frozen=True)
class _Marker:
    name: str | None
    description: str | None
    mutates_trading: bool
    cache: bool = True
    localns: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, repr=False)


def agent_tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    mutates_trading: bool = False,
    cache: bool = True,
) -> Any:
    """Mark a function or strategy method as an agent tool.

    Use as ``@agent_tool`` or ``@agent_tool(name=..., description=..., mutates_trading=...)``.
    The function is returned unchanged (still callable by your own code). Pass it to
    ``self.agents.create(..., tools=[self.my_tool])``; methods are bound to the strategy.
    ``mutates_trading=True`` tools are withheld from agents created with
    ``allow_trading=False``. The replay cache may serve a single call of the tool again
    for the same arguments at the same simulated time; pass ``cache=False`` for a tool
    whose answer depends on something else (the account, a random draw).
    """

    if name is not None:
        _check_name(name)

    def mark(target: Callable[..., Any]) -> Callable[..., Any]:
        func = target.__func__ if isinstance(target, (staticmethod, classmethod)) else target
        if not callable(func):
            raise TypeError(f"@agent_tool decorates functions, got {type(target).__name__}")
        # annotations naming classes local to the defining scope resolve through its locals
        frame = sys._getframe(1)
        if frame.f_code is agent_tool.__code__ and frame.f_back is not None:
            frame = frame.f_back
        localns = dict(frame.f_locals) if frame.f_code.co_name != "<module>" else None
        setattr(func, _MARKER, _Marker(name, description, mutates_trading, cache, localns))
        return target

    if fn is not None:
        return mark(fn)
    return mark


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        suggestion = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "my_tool"
        if suggestion[0].isdigit():
            suggestion = "t_" + suggestion
        raise ValueError(
            f"tool name {name!r} is not valid: names must start with a letter or underscore "
            f"and hold only letters, digits and underscores (at most 64). Try {suggestion[:64]!r}"
        )


def source_hash(fn: Callable[..., Any]) -> str:
    """``"sha256:<hex>"`` of ``fn``'s source text (of its bytecode when no source is available)."""
    source = _source_text(fn)
    if source is not None:
        data = source.encode("utf-8")
    else:
        code = getattr(inspect.unwrap(fn), "__code__", None)
        data = repr((getattr(fn, "__qualname__", repr(fn)), code.co_code if code else b"", code.co_consts if code else ())).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _source_text(fn: Callable[..., Any]) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(inspect.unwrap(fn)))
    except (OSError, TypeError):
        return None


def _model_description(fn: Callable[..., Any], description: str | None, doc_text: str) -> str:
    parts = []
    if description:
        parts.append(description.strip())
    raw_doc = inspect.getdoc(inspect.unwrap(fn))
    if raw_doc:
        parts.append(raw_doc.strip())
    source = _source_text(fn)
    if source:
        parts.append("Source code:\n```python\n" + source.rstrip() + "\n```")
    return "\n\n".join(parts) if parts else (doc_text or getattr(fn, "__name__", "tool"))


_ERROR_TEMPLATES = {
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "int_type": "must be an integer",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be a boolean (true or false)",
    "bool_type": "must be a boolean (true or false)",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "datetime_parsing": "must be an ISO date-time such as '2020-01-31T16:00:00'",
    "datetime_from_date_parsing": "must be an ISO date-time such as '2020-01-31T16:00:00'",
    "date_parsing": "must be an ISO date such as '2020-01-31'",
    "date_from_datetime_parsing": "must be an ISO date such as '2020-01-31'",
    "none_required": "must be null",
}


_UNION_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict", "none", "null", "bytes"})


def _format_loc(loc: tuple[Any, ...], alias_of: Mapping[str, str]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        # pydantic names union members and validators in the location; they mean nothing to a model
        if i > 0 and (text in _UNION_TAGS or "[" in text or "-" in text):
            continue
        if i == 0:
            text = alias_of.get(text, text)
        out += ("." if out else "") + text
    return out or "arguments"


def _describe_errors(exc: Any, alias_of: Mapping[str, str], valid: list[str]) -> str:
    messages = []
    for err in exc.errors():
        where = _format_loc(err.get("loc", ()), alias_of)
        kind = err.get("type", "")
        got = err.get("input")
        if kind == "missing":
            messages.append(f"missing required argument '{where}'")
        elif kind == "extra_forbidden":
            messages.append(f"unknown argument '{where}'; this tool takes: {', '.join(valid) or 'no arguments'}")
        elif kind in ("literal_error", "enum"):
            expected = (err.get("ctx") or {}).get("expected", "")
            messages.append(f"argument '{where}' must be one of {expected}, got {got!r}")
        elif kind in _ERROR_TEMPLATES:
            messages.append(f"argument '{where}' {_ERROR_TEMPLATES[kind]}, got {got!r}")
        else:
            messages.append(f"argument '{where}': {err.get('msg', 'invalid value')}, got {got!r}")
    # a union reports one error per member; keep each message once, in order
    return "; ".join(dict.fromkeys(messages))


class AgentTool:
    """A tool ready to be called: its :class:`ToolSpec`, the callable and its validator."""

    __slots__ = (
        "_accepts",
        "_alias_of",
        "_localns",
        "_params",
        "_positional_only",
        "_validator",
        "func",
        "is_async",
        "spec",
    )

    def __init__(self, spec: ToolSpec, func: Callable[..., Any], *, localns: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.func = func
        self._localns = localns
        self.is_async = inspect.iscoroutinefunction(inspect.unwrap(func)) or inspect.iscoroutinefunction(func)
        self._validator: Any = None
        self._alias_of: dict[str, str] = {}
        self._params: list[str] = list(spec.parameters.get("properties", {}))
        self._positional_only: list[str] = []
        self._accepts: frozenset[str] = frozenset(self._params)

    @property
    def name(self) -> str:
        return self.spec.name

    def _build_validator(self) -> Any:
        import pydantic

        target = self.func
        signature = inspect.signature(target)
        try:
            hints = typing.get_type_hints(inspect.unwrap(target), localns=self._localns, include_extras=True)
        except Exception:
            hints = {}
        fields: dict[str, Any] = {}
        for i, (pname, param) in enumerate(signature.parameters.items()):
            if pname not in self._accepts:
                continue
            annotation = hints.get(pname, param.annotation)
            if annotation is inspect.Parameter.empty or isinstance(annotation, str):
                annotation = Any
            default = ... if param.default is inspect.Parameter.empty else param.default
            field_name = f"a{i}"
            self._alias_of[pname] = pname
            fields[field_name] = (annotation, pydantic.Field(default, alias=pname))
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                self._positional_only.append(pname)
        config = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=False)
        model = pydantic.create_model(f"{self.spec.name}_args", __config__=config, **fields)
        alias_to_field = {info.alias: fname for fname, info in model.model_fields.items()}
        return model, alias_to_field

    def validate(self, args: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return keyword arguments for the callable, or raise :class:`ToolArgumentError`."""
        import pydantic

        if args is None:
            args = {}
        if not isinstance(args, Mapping):
            raise ToolArgumentError(f"arguments must be a JSON object, got {type(args).__name__}")
        if self._validator is None:
            self._validator = self._build_validator()
        model, alias_to_field = self._validator
        try:
            parsed = model.model_validate(dict(args))
        except pydantic.ValidationError as exc:
            raise ToolArgumentError(_describe_errors(exc, self._alias_of, self._params)) from None
        return {alias: getattr(parsed, field) for alias, field in alias_to_field.items()}

    def _call_args(self, kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        positional = [kwargs.pop(p) for p in self._positional_only if p in kwargs]
        return positional, kwargs

    def invoke(self, args: Mapping[str, Any] | None) -> ToolOutcome:
        """Validate and call (sync tools only); never raises."""
        try:
            kwargs = self.validate(args)
        except ToolArgumentError as exc:
            return ToolOutcome(error=str(exc), error_type="ToolArgumentError")
        try:
            positional, kwargs = self._call_args(kwargs)
            value = self.func(*positional, **kwargs)
            if inspect.isawaitable(value):
                raise TypeError(f"tool {self.name!r} is async; call invoke_async")
            return ToolOutcome(result=_bounded(self.name, to_jsonable(value)))
        except Exception as exc:  # the model gets the error and may correct itself
            return ToolOutcome(error=str(exc) or repr(exc), error_type=type(exc).__name__)

    async def invoke_async(self, args: Mapping[str, Any] | None) -> ToolOutcome:
        """Validate and call (sync or async tools); never raises."""
        try:
            kwargs = self.validate(args)
        except ToolArgumentError as exc:
            return ToolOutcome(error=str(exc), error_type="ToolArgumentError")
        try:
            positional, kwargs = self._call_args(kwargs)
            value = self.func(*positional, **kwargs)
            if inspect.isawaitable(value):
                value = await value
            return ToolOutcome(result=_bounded(self.name, to_jsonable(value)))
        except Exception as exc:
            return ToolOutcome(error=str(exc) or repr(exc), error_type=type(exc).__name__)

    def __repr__(self) -> str:
        return f"AgentTool({self.spec.name!r}, kind={self.spec.kind!r}, mutates_trading={self.spec.mutates_trading})"


MAX_TOOL_RESULT_CHARS = 200_000
"""A tool result longer than this (as JSON) goes back to the model as an error asking for less data:
it would swamp the model's context, the trace and the replay cache."""


def _bounded(name: str, result: Any) -> Any:
    import json

    size = len(json.dumps(result, default=str))
    if size > MAX_TOOL_RESULT_CHARS:
        raise ValueError(f"tool {name!r} returned {size:,} characters of JSON, more than the "
                         f"{MAX_TOOL_RESULT_CHARS:,} an agent run accepts; ask for fewer rows or a narrower range")
    return result


def make_tool(
    obj: Any,
    *,
    host: Any = None,
    kind: ToolKind = "custom",
    name: str | None = None,
    description: str | None = None,
    mutates_trading: bool | None = None,
    include_source: bool = True,
    extra_hash: str = "",
) -> AgentTool:
    """Build an :class:`AgentTool` from a decorated (or plain) function or method.

    ``obj`` may be a bound method (``self.my_tool``), a function defined on the host's
    class (bound to ``host``), a plain function, the name of a host method, or an
    :class:`AgentTool` (returned as is).
    """
    if isinstance(obj, AgentTool):
        return obj
    if isinstance(obj, str):
        if host is None or not callable(getattr(host, obj, None)):
            raise ValueError(f"tool {obj!r} is not a method of the strategy; pass the function itself")
        obj = getattr(host, obj)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__ if isinstance(obj, staticmethod) else obj.__get__(None, type(host))
    if not callable(obj):
        raise TypeError(f"a tool must be a function or method, got {type(obj).__name__}: {obj!r}")
    func = obj
    underlying = getattr(obj, "__func__", obj)
    if host is not None and not inspect.ismethod(obj) and inspect.isfunction(obj):
        owner_attr = getattr(type(host), getattr(obj, "__name__", ""), None)
        params = list(inspect.signature(obj).parameters)
        if owner_attr is obj or (params and params[0] == "self"):
            func = obj.__get__(host, type(host))
    marker: _Marker | None = getattr(underlying, _MARKER, None)
    tool_name = name or (marker.name if marker and marker.name else None) or getattr(underlying, "__name__", None)
    if not tool_name:
        raise ValueError(f"cannot name tool {obj!r}; pass name=...")
    _check_name(tool_name)
    desc = description if description is not None else (marker.description if marker else None)
    mutates = mutates_trading if mutates_trading is not None else bool(marker and marker.mutates_trading)
    localns = marker.localns if marker else None
    parameters, doc = function_schema(func, localns=localns)
    if include_source:
        model_desc = _model_description(underlying, desc, doc.summary)
    else:
        model_desc = (desc or doc.summary or tool_name).strip()
    digest = source_hash(underlying)
    if extra_hash:
        digest = "sha256:" + hashlib.sha256((digest + extra_hash).encode()).hexdigest()
    spec = ToolSpec(
        name=tool_name,
        description=model_desc,
        parameters=parameters,
        source_hash=digest,
        kind=kind,
        mutates_trading=mutates,
        cacheable=(marker.cache if marker else True) and not mutates,
    )
    return AgentTool(spec, func, localns=localns)

"""Adapters between agentrt and Google ADK: the instrumented model wrapper and the tool adapter.

Importing this module imports Google ADK; only the runtime does, and only when a run is
not served whole from the replay cache.

:class:`RecordingLlm` wraps the agent's model (an offline model, Gemini, LiteLLM, or a
user's ``BaseLlm``) — instrumentation as a wrapper around the model, not code woven
through the agent loop. Each call: enforce ``max_steps``; look the exact request
(contents, tool declarations, config) up in the replay cache's ``calls`` table; else call
the model; record request summary, response, tokens, latency and cost; open a ``chat``
span. :class:`AdkTool` hands every tool call to the framework-neutral
:class:`~agentrt.agents.execution.ToolExecutor`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from agentrt._env import ensure_offline_safe_env

ensure_offline_safe_env()

from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_response import LlmResponse
from google.adk.tools.base_tool import BaseTool
from google.genai import types
from pydantic import PrivateAttr

from agentrt.agents.models import Message, ModelRequest, ModelResponse, ToolCall, ToolResult
from agentrt.telemetry.spans import model_call_span, record_model_usage
from agentrt.telemetry.warnings import AgentWarning

__all__ = ["AdkTool", "OfflineLlm", "RecordingLlm", "install_adk_guards", "model_call_material", "mute_adk_tracers"]

MODEL_CALL_KEY_VERSION = 1
_GUARDED = False


def install_adk_guards() -> None:
    """Once per process: cache ADK's failing optional a2a import; mute ADK's own spans.

    ADK's workflow graph builder tries ``from google.adk.agents.remote_a2a_agent import
    RemoteA2aAgent`` on every run; without the optional ``a2a`` package that import
    fails *after* loading several modules, again and again (~15% of a run). Recording the
    failure in ``sys.modules`` makes later attempts fail at once, exactly as before.

    agentrt emits its own GenAI spans (agent run > model call / tool call); ADK's internal
    spans would duplicate them and cost time, so its tracers become no-ops unless
    ``AGENTRT_ADK_SPANS=1``.
    """
    global _GUARDED
    if _GUARDED:
        return
    _GUARDED = True
    name = "google.adk.agents.remote_a2a_agent"
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = None  # type: ignore[assignment]
    mute_adk_tracers()


def mute_adk_tracers() -> None:
    """Point every loaded ADK module's ``tracer`` at a no-op tracer (unless ``AGENTRT_ADK_SPANS=1``).

    Called again after the runtime imported the rest of ADK, since modules bind their own
    ``tracer`` name when they are first imported.
    """
    if os.environ.get("AGENTRT_ADK_SPANS", "").strip().lower() in ("1", "true", "yes"):
        return
    from opentelemetry import trace

    noop = trace.NoOpTracer()
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("google.adk"):
            continue
        current = getattr(module, "tracer", None)
        if current is not None and current is not noop and isinstance(current, (trace.Tracer, trace.ProxyTracer)):
            module.tracer = noop


# --- request / response conversion -------------------------------------------------------

def _part_json(part: types.Part) -> dict[str, Any] | None:
    if part.function_call is not None:
        return {"function_call": {"name": part.function_call.name, "args": dict(part.function_call.args or {})}}
    if part.function_response is not None:
        return {"function_response": {"name": part.function_response.name, "response": part.function_response.response}}
    if part.text is not None:
        return {"thought": part.text} if part.thought else {"text": part.text}
    if part.inline_data is not None:
        return {"inline_data": {"mime_type": part.inline_data.mime_type, "size": len(part.inline_data.data or b"")}}
    return None


def _contents_json(contents: list[types.Content]) -> list[dict[str, Any]]:
    out = []
    for content in contents:
        parts = [p for p in (_part_json(part) for part in content.parts or []) if p is not None]
        out.append({"role": content.role, "parts": parts})
    return out


def _declarations(llm_request: Any) -> list[dict[str, Any]]:
    decls = []
    for tool in llm_request.config.tools or []:
        for fd in getattr(tool, "function_declarations", None) or []:
            if fd.parameters_json_schema is not None:
                params = fd.parameters_json_schema
            elif fd.parameters is not None:
                params = fd.parameters.model_dump(mode="json", exclude_none=True)
            else:
                params = {"type": "object", "properties": {}}
            decls.append({"name": fd.name, "description": fd.description or "", "parameters": params})
    return decls


def _system_text(llm_request: Any) -> str:
    si = llm_request.config.system_instruction
    if si is None:
        return ""
    if isinstance(si, str):
        return si
    parts = getattr(si, "parts", None) or []
    return "\n".join(p.text for p in parts if getattr(p, "text", None))


def _schema_json(schema: Any) -> Any:
    if schema is None:
        return None
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return schema.model_json_schema()
    if hasattr(schema, "model_dump"):
        return schema.model_dump(mode="json", exclude_none=True)
    if isinstance(schema, Mapping):
        return dict(schema)
    try:
        import pydantic

        return pydantic.TypeAdapter(schema).json_schema()
    except Exception:
        return repr(schema)


def model_call_material(identity: Mapping[str, Any], llm_request: Any) -> dict[str, Any]:
    """Key material of one model call: the exact request, function-call ids left out."""
    config = llm_request.config
    return {
        "v": MODEL_CALL_KEY_VERSION,
        "type": "model_call",
        "model": dict(identity),
        "system": _system_text(llm_request),
        "contents": _contents_json(llm_request.contents),
        "tools": _declarations(llm_request),
        "config": {
            "temperature": config.temperature,
            "response_schema": _schema_json(config.response_schema),
            "response_mime_type": config.response_mime_type,
        },
    }


def to_model_request(llm_request: Any, settings: Mapping[str, Any]) -> ModelRequest:
    """The :class:`ModelRequest` an offline model sees for an ADK request."""
    messages: list[Message] = []
    for content in llm_request.contents:
        texts: list[str] = []
        calls: list[ToolCall] = []
        results: list[ToolResult] = []
        for part in content.parts or []:
            if part.function_call is not None:
                calls.append(ToolCall(part.function_call.name or "", dict(part.function_call.args or {}), part.function_call.id))
            elif part.function_response is not None:
                results.append(ToolResult(part.function_response.name or "", dict(part.function_response.response or {}), part.function_response.id))
            elif part.text is not None and not part.thought:
                texts.append(part.text)
        if results:
            messages.append(Message("tool", "\n".join(texts), (), tuple(results)))
        elif content.role == "model":
            messages.append(Message("model", "\n".join(texts), tuple(calls)))
        else:
            messages.append(Message("user", "\n".join(texts)))
    return ModelRequest(
        messages=tuple(messages),
        tools=tuple(_declarations(llm_request)),
        system_prompt=_system_text(llm_request),
        settings=dict(settings),
    )


def to_llm_response(response: ModelResponse) -> LlmResponse:
    parts: list[types.Part] = []
    if response.text:
        parts.append(types.Part(text=response.text))
    for call in response.tool_calls:
        parts.append(types.Part(function_call=types.FunctionCall(name=call.name, args=dict(call.args), id=call.id)))
    if not parts:
        parts.append(types.Part(text=""))
    usage = response.usage or {}
    prompt = int(usage.get("input_tokens", 0))
    completion = int(usage.get("output_tokens", 0))
    return LlmResponse(
        content=types.Content(role="model", parts=parts),
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=prompt, candidates_token_count=completion, total_token_count=prompt + completion
        ),
        finish_reason=types.FinishReason.STOP,
    )


def _response_record(response: LlmResponse) -> dict[str, Any]:
    record: dict[str, Any] = {"text": "", "tool_calls": []}
    content = response.content
    for part in (content.parts or []) if content is not None else []:
        if part.function_call is not None:
            record["tool_calls"].append({"name": part.function_call.name, "args": dict(part.function_call.args or {})})
        elif part.text and not part.thought:
            record["text"] += part.text
    if response.error_code or response.error_message:
        record["error"] = f"{response.error_code}: {response.error_message}"
    return record


def _request_summary(llm_request: Any) -> dict[str, Any]:
    contents = llm_request.contents
    last = _contents_json(contents[-1:])[0] if contents else {}
    names = [fd.name for tool in llm_request.config.tools or [] for fd in getattr(tool, "function_declarations", None) or []]
    return {
        "messages": len(contents),
        "last_role": last.get("role"),
        "last_parts": last.get("parts", [])[-3:],
        "tools": names,
        "system_chars": len(_system_text(llm_request)),
        "temperature": llm_request.config.temperature,
    }


def _usage(response: LlmResponse) -> tuple[int, int]:
    usage = response.usage_metadata
    if usage is None:
        return 0, 0
    return int(usage.prompt_token_count or 0), int(usage.candidates_token_count or 0)


class RecordingLlm(BaseLlm):
    """The agent's model, wrapped: step limit, call cache, usage, spans, trace records."""

    _inner: Any = PrivateAttr(default=None)
    _offline: Any = PrivateAttr(default=None)
    _runtime: Any = PrivateAttr(default=None)

    @classmethod
    def wrap(cls, *, name: str, inner: Any, offline: Any, runtime: Any) -> RecordingLlm:
        llm = cls(model=name)
        llm._inner = inner
        llm._offline = offline
        llm._runtime = runtime
        return llm

    @property
    def capabilities(self) -> Any:
        if self._inner is not None:
            return self._inner.capabilities
        from google.adk.models._capabilities import LlmCapabilities

        return LlmCapabilities(output_schema_and_tools=True)

    async def _call_model(self, llm_request: Any) -> LlmResponse:
        if self._offline is not None:
            settings = {"temperature": llm_request.config.temperature}
            return to_llm_response(self._offline(to_model_request(llm_request, settings)))
        final: LlmResponse | None = None
        async for response in self._inner.generate_content_async(llm_request, stream=False):
            if not response.partial:
                final = response
        if final is None:
            raise RuntimeError(f"model {self.model!r} returned no response")
        return final

    async def generate_content_async(self, llm_request: Any, stream: bool = False) -> AsyncGenerator[LlmResponse, None]:
        runtime = self._runtime
        run = runtime.current_run
        recorder = run.recorder
        services = run.services
        if len(recorder.model_calls) >= recorder.max_steps:
            recorder.stopped = "max_steps"
            recorder.warn(AgentWarning(
                "max_steps_exceeded",
                f"agent {recorder.agent!r} reached max_steps={recorder.max_steps} model calls; the run was "
                "stopped before the model finished (raise max_steps or simplify the task)",
                {"max_steps": recorder.max_steps},
            ))
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(
                text=f"Stopped after {recorder.max_steps} model calls (max_steps) without a final answer."
            )]))
            return
        store = services.replay_store
        material: dict[str, Any] | None = None
        key: str | None = None
        if store is not None and (services.reads_calls() or services.writes_cache()):
            material = model_call_material(runtime.model_identity, llm_request)
            key = store.call_key(material)
        summary = _request_summary(llm_request)
        started = time.perf_counter()
        cache_hit = False
        response: LlmResponse | None = None
        with model_call_span(self.model) as span:
            if key is not None and services.reads_calls():
                entry = store.get_call(key)
                if entry is not None:
                    try:
                        response = LlmResponse.model_validate(entry.response)
                        cache_hit = True
                    except Exception:
                        response = None
            if response is None:
                timeout = services.model_timeout_s
                try:
                    response = await asyncio.wait_for(self._call_model(llm_request), timeout)
                except TimeoutError:
                    raise TimeoutError(f"model {self.model!r} did not answer within {timeout:g} s") from None
                if response.error_code and not (response.content and response.content.parts):
                    raise RuntimeError(f"model {self.model!r} answered with an error: {response.error_code} {response.error_message}")
                if key is not None and services.writes_cache():
                    store.put_call(
                        key, kind="model", name=self.model, sim_time=run.sim_time, request=material,
                        response=response.model_dump(mode="json", exclude_none=True),
                    )
            input_tokens, output_tokens = _usage(response)
            record_model_usage(span, input_tokens=input_tokens, output_tokens=output_tokens, cache_hit=cache_hit)
        cost = 0.0 if self._offline is not None else runtime.cost_of(input_tokens, output_tokens)
        if services.counters is not None and store is not None and services.mode_value != "off":
            services.counters.record_model_call(reused=cache_hit, tokens=input_tokens + output_tokens, cost_usd=cost)
        recorder.add_model_call(
            request_summary=summary,
            response=_response_record(response),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cache_hit=cache_hit,
            cost_usd=cost,
        )
        yield response


class OfflineLlm(BaseLlm):
    """An agentrt offline model as a plain ADK ``BaseLlm``, for ADK code outside agentrt."""

    _offline: Any = PrivateAttr(default=None)

    @property
    def capabilities(self) -> Any:
        from google.adk.models._capabilities import LlmCapabilities

        return LlmCapabilities(output_schema_and_tools=True)

    async def generate_content_async(self, llm_request: Any, stream: bool = False) -> AsyncGenerator[LlmResponse, None]:
        settings = {"temperature": llm_request.config.temperature}
        yield to_llm_response(self._offline(to_model_request(llm_request, settings)))


class AdkTool(BaseTool):
    """An agentrt tool (custom, built-in or MCP) as an ADK tool with an exact JSON schema."""

    def __init__(self, executable: Any, runtime: Any) -> None:
        spec = executable.spec
        super().__init__(name=spec.name, description=spec.description)
        self._executable = executable
        self._runtime = runtime
        self._declaration = types.FunctionDeclaration(
            name=spec.name, description=spec.description, parameters_json_schema=dict(spec.parameters)
        )

    def _get_declaration(self) -> types.FunctionDeclaration:
        return self._declaration

    async def run_async(self, *, args: dict[str, Any], tool_context: Any) -> Any:
        runtime = self._runtime
        return await runtime.executor.execute(
            self._executable, args, getattr(tool_context, "function_call_id", None), runtime.current_run,
            adk_context=tool_context,
        )

"""Model choice for agents: offline models that ship in the package, and model-string routing.

Offline models (no network, deterministic) let tests, CI and key-less demos run agents:

- :class:`ScriptedModel` plays a fixed list of steps (tool calls, parallel tool calls,
  a final text). The script restarts at each agent run: step *i* of a run is the *i*-th
  model turn of that run.
- :class:`FunctionModel` lets a Python function play the model: it receives a
  :class:`ModelRequest` (messages, tool schemas, system prompt) and returns tool calls or
  text.

Both count their invocations in ``.calls`` so tests can assert that a cached rerun made
none. They are plain Python objects; the runtime adapts them to an ADK ``BaseLlm`` when a
run actually needs the model, so constructing one never imports Google ADK.

:func:`resolve_model` routes strings: ``"gemini-*"`` runs natively in ADK (needs
``GOOGLE_API_KEY`` or ``GEMINI_API_KEY``), ``"provider/model"`` goes through LiteLLM (with
``api_base`` for local OpenAI-compatible servers), an ADK ``BaseLlm`` instance is used as is.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "FunctionModel",
    "Message",
    "ModelRequest",
    "ModelResponse",
    "OfflineModel",
    "ResolvedModel",
    "ScriptedModel",
    "ToolCall",
    "ToolResult",
    "resolve_model",
]


@dataclasses.dataclass(frozen=True)
class ToolCall:
    """A tool call requested by a model."""

    name: str
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    id: str | None = None


@dataclasses.dataclass(frozen=True)
class ToolResult:
    """The response a tool gave to a call (``response`` holds ``"error"`` on failure)."""

    name: str
    response: Mapping[str, Any]
    id: str | None = None

    @property
    def is_error(self) -> bool:
        return isinstance(self.response, Mapping) and "error" in self.response

    @property
    def value(self) -> Any:
        """The tool's return value (``response["result"]`` when it was wrapped)."""
        if isinstance(self.response, Mapping) and set(self.response) == {"result"}:
            return self.response["result"]
        return self.response


@dataclasses.dataclass(frozen=True)
class Message:
    """One turn of the conversation as an offline model sees it."""

    role: str
    """``"user"`` (prompt), ``"model"`` (an earlier answer) or ``"tool"`` (tool results)."""
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelRequest:
    """Everything a model is asked in one call."""

    messages: tuple[Message, ...]
    tools: tuple[Mapping[str, Any], ...]
    """Tool declarations: ``{"name", "description", "parameters"}`` (JSON schema)."""
    system_prompt: str = ""
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def step(self) -> int:
        """How many model turns this run already had (0 on the first call)."""
        return sum(1 for m in self.messages if m.role == "model")

    @property
    def prompt(self) -> str:
        """The text of the first user message (the run prompt)."""
        for m in self.messages:
            if m.role == "user" and m.text:
                return m.text
        return ""

    @property
    def tool_names(self) -> list[str]:
        return [str(t.get("name")) for t in self.tools]

    def last_tool_results(self) -> list[ToolResult]:
        """Results of the most recent tool turn (empty before any tool ran)."""
        for m in reversed(self.messages):
            if m.role == "tool":
                return list(m.tool_results)
            if m.role == "model":
                return []
        return []

    def tool_results(self, name: str | None = None) -> list[ToolResult]:
        """Every tool result of this run so far, optionally only those of tool ``name``."""
        out = [r for m in self.messages for r in m.tool_results]
        return [r for r in out if name is None or r.name == name]

    def tool_calls(self, name: str | None = None) -> list[ToolCall]:
        """Every tool call the model made so far in this run, optionally only of ``name``."""
        out = [c for m in self.messages for c in m.tool_calls]
        return [c for c in out if name is None or c.name == name]


@dataclasses.dataclass(frozen=True)
class ModelResponse:
    """A model turn: text, tool calls, or both."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Mapping[str, int] | None = None
    """``{"input_tokens", "output_tokens"}``; offline models estimate it (4 chars/token)."""


def _estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _as_tool_call(item: Any) -> ToolCall:
    if isinstance(item, ToolCall):
        return item
    if isinstance(item, Mapping) and "tool" in item:
        extra = set(item) - {"tool", "args", "id"}
        if extra:
            raise ValueError(f"tool call step {dict(item)!r} has unknown keys {sorted(extra)}; use tool, args, id")
        return ToolCall(str(item["tool"]), dict(item.get("args") or {}), item.get("id"))
    raise ValueError(
        f"cannot read {item!r} as a tool call; write {{'tool': 'name', 'args': {{...}}}} or ToolCall(...)"
    )


def coerce_response(value: Any) -> ModelResponse:
    """Read what an offline model returned: a response, text, tool call(s) or a step dict."""
    if isinstance(value, ModelResponse):
        return value
    if value is None:
        return ModelResponse(text="")
    if isinstance(value, str):
        return ModelResponse(text=value)
    if isinstance(value, ToolCall):
        return ModelResponse(tool_calls=(value,))
    if isinstance(value, Mapping):
        if "tool" in value:
            return ModelResponse(tool_calls=(_as_tool_call(value),))
        if set(value) <= {"text", "tool_calls"} and value:
            calls = tuple(_as_tool_call(c) for c in value.get("tool_calls") or ())
            return ModelResponse(text=str(value.get("text") or ""), tool_calls=calls)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return ModelResponse(tool_calls=tuple(_as_tool_call(v) for v in value))
    raise ValueError(
        f"an offline model returned {value!r}; return a ModelResponse, a text, a ToolCall, "
        "a {'tool': name, 'args': {...}} dict or a list of them"
    )


class OfflineModel:
    """Base of the in-package models: counts calls, estimates usage, never touches a network."""

    name: str = "offline"

    def __init__(self) -> None:
        self.calls = 0
        self.requests: list[ModelRequest] = []
        self.keep_requests = False
        self._tool_chars: dict[tuple[str, ...], int] = {}

    def identity(self) -> dict[str, Any]:
        """``{"name", "settings"}`` describing this model for replay-cache keys."""
        raise NotImplementedError

    def respond(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    def as_adk_llm(self) -> Any:
        """This model as a Google ADK ``BaseLlm`` (imports ADK), to drive plain ADK agents with it.

        agentrt's own runtime wraps offline models itself; this is for your ADK code.
        """
        from agentrt.agents.adk_bridge import OfflineLlm

        llm = OfflineLlm(model=self.name)
        llm._offline = self
        return llm

    def __call__(self, request: ModelRequest) -> ModelResponse:
        """Answer one request (counts the call and estimates token usage)."""
        self.calls += 1
        if self.keep_requests:
            self.requests.append(request)
        response = coerce_response(self.respond(request))
        if response.usage is None:
            names = tuple(str(t.get("name")) for t in request.tools)
            tool_chars = self._tool_chars.get(names)
            if tool_chars is None:  # declarations do not change within an agent: measure them once
                tool_chars = sum(len(json.dumps(dict(t), default=str)) for t in request.tools)
                self._tool_chars[names] = tool_chars
            prompt_chars = len(request.system_prompt) + tool_chars + sum(
                len(m.text) + sum(len(json.dumps(dict(r.response), default=str)) for r in m.tool_results)
                for m in request.messages
            )
            out_chars = len(response.text) + sum(len(c.name) + len(json.dumps(dict(c.args), default=str)) for c in response.tool_calls)
            response = dataclasses.replace(
                response,
                usage={"input_tokens": (prompt_chars + 3) // 4, "output_tokens": _estimate_tokens("x" * out_chars)},
            )
        return response


class ScriptedModel(OfflineModel):
    """A model that plays a fixed script; the script restarts at each agent run.

    Each step is one model turn: ``{"tool": "name", "args": {...}}`` (one tool call), a
    list of such dicts (parallel tool calls), or a string (the final text, which ends the
    run). Turn *i* of every run plays step *i*; past the end it answers ``end_text``.

    >>> ScriptedModel([
    ...     {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 30}},
    ...     {"tool": "duckdb_query", "args": {"sql": "SELECT avg(close) FROM aapl_history"}},
    ...     "Holding: price above its 30-day average.",
    ... ])  # doctest: +SKIP
    """

    name = "scripted"

    def __init__(self, steps: Sequence[Any], *, end_text: str = "Script finished.") -> None:
        super().__init__()
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise TypeError("ScriptedModel takes a list of steps, e.g. [{'tool': 'account_positions'}, 'Done.']")
        self.steps = [coerce_response(step) for step in steps]
        self.end_text = end_text

    def identity(self) -> dict[str, Any]:
        script = [
            {"text": s.text, "calls": [{"name": c.name, "args": dict(c.args)} for c in s.tool_calls]}
            for s in self.steps
        ]
        digest = hashlib.sha256(json.dumps(script, sort_keys=True, default=str).encode()).hexdigest()
        return {"name": "scripted", "settings": {"script": "sha256:" + digest, "end_text": self.end_text}}

    def respond(self, request: ModelRequest) -> ModelResponse:
        step = request.step
        if step < len(self.steps):
            return self.steps[step]
        return ModelResponse(text=self.end_text)

    def __repr__(self) -> str:
        return f"ScriptedModel({len(self.steps)} steps, calls={self.calls})"


class FunctionModel(OfflineModel):
    """A model played by a Python function ``fn(request: ModelRequest) -> answer``.

    The answer may be a :class:`ModelResponse`, a string (final text), a :class:`ToolCall`
    or ``{"tool": ..., "args": ...}`` dict, or a list of them (parallel calls). The replay
    cache identifies the model by ``name`` and the source of ``fn``; pass ``version=`` to
    invalidate cached runs when behaviour changes outside ``fn``'s own source.
    """

    def __init__(self, fn: Callable[[ModelRequest], Any], *, name: str | None = None, version: str = "") -> None:
        super().__init__()
        if not callable(fn):
            raise TypeError(f"FunctionModel needs a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or f"function:{getattr(fn, '__qualname__', type(fn).__name__)}"
        self.version = version

    def identity(self) -> dict[str, Any]:
        from agentrt.agents.tool import source_hash

        target = self.fn
        if not (inspect.isfunction(target) or inspect.ismethod(target)):
            target = type(target)
        return {"name": self.name, "settings": {"source_hash": source_hash(target), "version": self.version}}

    def respond(self, request: ModelRequest) -> Any:
        return self.fn(request)

    def __repr__(self) -> str:
        return f"FunctionModel({self.name!r}, calls={self.calls})"


# --- routing -----------------------------------------------------------------------------

_PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "cohere_chat": ("COHERE_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "azure": ("AZURE_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "anyscale": ("ANYSCALE_API_KEY",),
    "nvidia_nim": ("NVIDIA_NIM_API_KEY",),
}
_KEYLESS_PROVIDERS = frozenset({
    "ollama", "ollama_chat", "hosted_vllm", "vllm", "lm_studio", "llamafile", "openai_like",
    "custom_openai", "bedrock", "vertex_ai", "sagemaker", "huggingface", "watsonx", "databricks",
    "cloudflare", "replicate", "ai21", "nlp_cloud", "aleph_alpha", "petals", "palm", "text-completion-openai",
    "azure_ai", "github", "litellm_proxy", "triton", "predibase", "voyage", "friendliai", "sambanova",
})
_KNOWN_PROVIDERS = sorted(set(_PROVIDER_KEYS) | _KEYLESS_PROVIDERS)
_BARE_PREFIXES = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"), ("chatgpt-", "openai"), ("claude-", "anthropic"))


@dataclasses.dataclass(frozen=True)
class ResolvedModel:
    """A model choice, resolved without importing ADK: what it is and how to build it."""

    kind: str
    """``"offline"``, ``"gemini"``, ``"litellm"`` or ``"adk"`` (a user-supplied ``BaseLlm``)."""
    name: str
    instance: Any = None
    """The :class:`OfflineModel` or ADK ``BaseLlm`` passed in, if any."""
    api_base: str | None = None
    provider: str | None = None

    def identity(self) -> dict[str, Any]:
        """``{"name", "settings"}`` of the model itself (agent settings are added by the caller)."""
        if self.kind == "offline":
            return self.instance.identity()
        if self.kind == "adk":
            dump: dict[str, Any] = {}
            try:
                dump = json.loads(self.instance.model_dump_json(exclude_none=True))
            except Exception:
                dump = {"repr": repr(self.instance)}
            return {"name": f"{type(self.instance).__module__}.{type(self.instance).__qualname__}:{self.name}", "settings": dump}
        settings: dict[str, Any] = {}
        if self.api_base:
            settings["api_base"] = self.api_base
        return {"name": self.name, "settings": settings}

    @property
    def call_counter(self) -> Any:
        return self.instance if self.kind == "offline" else None

    def build_adk_llm(self) -> Any:
        """The ADK ``BaseLlm`` for Gemini / LiteLLM / user models (imports ADK; offline → None)."""
        from agentrt._env import ensure_offline_safe_env

        ensure_offline_safe_env()
        if self.kind == "offline":
            return None
        if self.kind == "adk":
            return self.instance
        if self.kind == "gemini":
            from google.adk.models.google_llm import Gemini

            return Gemini(model=self.name, base_url=self.api_base) if self.api_base else Gemini(model=self.name)
        from google.adk.models.lite_llm import LiteLlm

        kwargs: dict[str, Any] = {}
        if self.api_base:
            kwargs["api_base"] = self.api_base
            keys = _PROVIDER_KEYS.get(self.provider or "", ())
            if keys and not any(os.environ.get(k) for k in keys):
                kwargs["api_key"] = "no-key-required"  # local OpenAI-compatible servers ignore it
        return LiteLlm(model=self.name, **kwargs)


def _is_adk_llm(model: Any) -> bool:
    base = sys.modules.get("google.adk.models.base_llm")
    return base is not None and isinstance(model, base.BaseLlm)


def _missing_key_error(model: str, names: Sequence[str], hint: str = "") -> ValueError:
    wanted = " or ".join(names)
    return ValueError(
        f"model {model!r} needs an API key: set the environment variable {wanted} "
        f"(export {names[0]}=...){hint}. For a key-less run use an offline model such as "
        "agentrt.agents.ScriptedModel([...]) or FunctionModel(fn)"
    )


def resolve_model(model: Any, *, api_base: str | None = None) -> ResolvedModel:
    """Resolve ``model`` (a string, an offline model or an ADK ``BaseLlm``) without importing ADK.

    Raises ``ValueError`` naming the environment variable when a provider's API key is
    missing, and "Did you mean ...?" for a model string it cannot route.
    """
    if isinstance(model, OfflineModel):
        return ResolvedModel("offline", model.name, instance=model)
    if _is_adk_llm(model):
        return ResolvedModel("adk", str(getattr(model, "model", type(model).__name__)), instance=model)
    if not isinstance(model, str) or not model.strip():
        raise TypeError(
            f"model must be a model string ('gemini-2.5-flash', 'openai/gpt-4.1-mini', "
            f"'ollama_chat/llama3.1'), an offline model (ScriptedModel/FunctionModel) or an "
            f"ADK BaseLlm, got {type(model).__name__}: {model!r}"
        )
    name = model.strip()
    if name.startswith(("gemini-", "models/gemini-")):
        vertex = os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").lower() in ("1", "true", "yes")
        if not vertex and not (os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")):
            raise _missing_key_error(name, ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
                                     " (or GOOGLE_GENAI_USE_VERTEXAI=true with Vertex AI credentials)")
        return ResolvedModel("gemini", name, api_base=api_base)
    if "/" not in name:
        for prefix, provider in _BARE_PREFIXES:
            if name.startswith(prefix):
                name = f"{provider}/{name}"
                break
    if "/" in name:
        provider = name.split("/", 1)[0].lower()
        if provider not in _PROVIDER_KEYS and provider not in _KEYLESS_PROVIDERS and not _litellm_knows(provider):
            close = difflib.get_close_matches(provider, _KNOWN_PROVIDERS, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0] + '/' + name.split('/', 1)[1]!r}?" if close else ""
            raise ValueError(
                f"unknown model provider {provider!r} in {model!r}.{hint} Use 'gemini-...' for Gemini or "
                f"'<provider>/<model>' with a LiteLLM provider such as openai, anthropic, ollama_chat"
            )
        keys = _PROVIDER_KEYS.get(provider, ())
        if keys and not api_base and not any(os.environ.get(k) for k in keys):
            raise _missing_key_error(name, keys, " (or pass api_base=... for a local OpenAI-compatible server)")
        return ResolvedModel("litellm", name, api_base=api_base, provider=provider)
    candidates = ["gemini-2.5-flash", "gemini-2.5-pro", "openai/" + name, "anthropic/" + name, "ollama_chat/" + name]
    close = difflib.get_close_matches(name, ["gemini-" + name.split("-", 1)[-1], *candidates], n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"cannot route model {model!r}.{hint} Write 'gemini-<version>' for Gemini or "
        "'<provider>/<model>' (openai/..., anthropic/..., ollama_chat/...) for LiteLLM"
    )


def _litellm_knows(provider: str) -> bool:
    try:  # only reached for providers not in our table; importing litellm is slow but rare here
        from agentrt._env import ensure_offline_safe_env

        ensure_offline_safe_env()
        import litellm

        return provider in {str(p.value if hasattr(p, "value") else p) for p in litellm.provider_list}
    except Exception:
        return False

"""Model routing (Gemini native, LiteLLM providers, offline models) and the offline models themselves."""

from __future__ import annotations

import pytest

from agentrt.agents.models import (
    FunctionModel,
    Message,
    ModelRequest,
    ModelResponse,
    ScriptedModel,
    ToolCall,
    ToolResult,
    resolve_model,
)

KEYS = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")


@pytest.fixture
def no_keys(monkeypatch):
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def test_gemini_without_a_key_names_the_variables(no_keys):
    with pytest.raises(ValueError, match="GOOGLE_API_KEY or GEMINI_API_KEY"):
        resolve_model("gemini-2.5-flash")


def test_gemini_with_a_key_runs_natively(no_keys, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "dummy")
    resolved = resolve_model("gemini-2.5-flash")
    assert (resolved.kind, resolved.name) == ("gemini", "gemini-2.5-flash")


def test_provider_strings_go_through_litellm_and_need_their_key(no_keys, monkeypatch):
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        resolve_model("openai/gpt-4.1-mini")
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        resolve_model("anthropic/claude-sonnet-4")
    monkeypatch.setenv("OPENAI_API_KEY", "dummy")
    resolved = resolve_model("openai/gpt-4.1-mini")
    assert (resolved.kind, resolved.provider) == ("litellm", "openai")


def test_local_servers_need_no_key(no_keys):
    assert resolve_model("ollama_chat/llama3.1").kind == "litellm"
    local = resolve_model("openai/my-local-model", api_base="http://127.0.0.1:8000/v1")
    assert local.api_base == "http://127.0.0.1:8000/v1"
    assert local.identity() == {"name": "openai/my-local-model", "settings": {"api_base": "http://127.0.0.1:8000/v1"}}


def test_bare_openai_and_anthropic_names_get_their_provider(no_keys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "dummy")
    assert resolve_model("gpt-4.1-mini").name == "openai/gpt-4.1-mini"


def test_misspelled_models_get_a_suggestion(no_keys):
    with pytest.raises(ValueError, match="Did you mean 'gemini-2.5-flash'"):
        resolve_model("gemni-2.5-flash")
    with pytest.raises(ValueError, match="Did you mean 'openai/gpt-4o'"):
        resolve_model("opnai/gpt-4o")


def test_non_string_models_are_refused():
    with pytest.raises(TypeError, match="model must be a model string"):
        resolve_model(42)


def test_offline_models_resolve_without_adk():
    resolved = resolve_model(ScriptedModel(["done"]))
    assert resolved.kind == "offline" and resolved.identity()["name"] == "scripted"


def _request(*messages: Message) -> ModelRequest:
    return ModelRequest(messages=tuple(messages), tools=({"name": "t", "description": "", "parameters": {}},),
                        system_prompt="sys")


def test_scripted_model_plays_step_i_at_turn_i_and_ends_with_text():
    model = ScriptedModel([{"tool": "a", "args": {"x": 1}}, [{"tool": "b"}, {"tool": "c"}], "final"])
    first = model(_request(Message("user", "go")))
    assert first.tool_calls == (ToolCall("a", {"x": 1}),)
    second = model(_request(Message("user", "go"), Message("model", "", first.tool_calls), Message("tool")))
    assert [c.name for c in second.tool_calls] == ["b", "c"]
    third = model(_request(Message("user", "go"), Message("model"), Message("tool"), Message("model"), Message("tool")))
    assert third.text == "final" and not third.tool_calls
    beyond = model(_request(*([Message("model")] * 5)))
    assert beyond.text == "Script finished."
    assert model.calls == 4
    assert first.usage["input_tokens"] > 0


def test_scripted_model_identity_changes_with_the_script():
    assert ScriptedModel(["a"]).identity() == ScriptedModel(["a"]).identity()
    assert ScriptedModel(["a"]).identity() != ScriptedModel(["b"]).identity()


def test_bad_script_steps_are_explained():
    with pytest.raises(ValueError, match="tool call step"):
        ScriptedModel([{"tool": "a", "argz": {}}])
    with pytest.raises(TypeError, match="list of steps"):
        ScriptedModel("just text")


def test_function_model_sees_messages_tool_results_and_schemas():
    seen = []

    def policy(request: ModelRequest):
        seen.append(request)
        results = request.last_tool_results()
        if not results:
            return {"tool": "t", "args": {}}
        return f"value was {results[0].value}"

    model = FunctionModel(policy)
    assert model(_request(Message("user", "go"))).tool_calls[0].name == "t"
    answer = model(_request(Message("user", "go"), Message("model", "", (ToolCall("t", {}),)),
                            Message("tool", tool_results=(ToolResult("t", {"result": 42}),))))
    assert answer.text == "value was 42"
    assert seen[0].tool_names == ["t"] and seen[0].system_prompt == "sys" and seen[0].prompt == "go"
    assert seen[1].step == 1 and seen[1].tool_results("t")[0].value == 42
    assert model.calls == 2
    assert model.identity()["name"].startswith("function:")


def test_function_model_answers_are_checked():
    model = FunctionModel(lambda r: 3.14)
    with pytest.raises(ValueError, match="return a ModelResponse"):
        model(_request(Message("user", "go")))
    assert FunctionModel(lambda r: ModelResponse(text="x")).respond is not None


def test_offline_models_drive_plain_adk_agents_too():
    import asyncio

    from google.adk.agents.llm_agent import LlmAgent
    from google.adk.runners import Runner
    from google.adk.sessions.in_memory_session_service import InMemorySessionService
    from google.adk.tools.function_tool import FunctionTool
    from google.genai import types

    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    model = ScriptedModel([{"tool": "add", "args": {"a": 2, "b": 3}}, "five"])
    agent = LlmAgent(name="plain", model=model.as_adk_llm(), tools=[FunctionTool(add)])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name="t", session_service=sessions)

    async def go() -> list:
        await sessions.create_session(app_name="t", user_id="u", session_id="s")
        msg = types.Content(role="user", parts=[types.Part(text="add")])
        return [e async for e in runner.run_async(user_id="u", session_id="s", new_message=msg)]

    events = asyncio.run(go())
    responses = [p.function_response.response for e in events for p in e.content.parts if p.function_response]
    assert responses == [{"result": 5}]
    assert events[-1].content.parts[0].text == "five" and model.calls == 2

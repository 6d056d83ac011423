"""docs_search: keyword search over agentrt's own documentation."""

from __future__ import annotations

from pathlib import Path

from agentrt.agents import ScriptedModel
from agentrt.agents.docs_index import DocsIndex, default_index, docs_paths


def test_the_docs_folder_and_readme_are_indexed():
    names = {p.name for p in docs_paths()}
    assert {"agents.md", "README.md"} <= names


def test_bm25_ranks_the_section_that_matches_best():
    hits = default_index().search("duckdb workspace read_csv external access", max_results=3)
    assert hits[0]["file"] == "agents.md" and hits[0]["section"] == "The DuckDB workspace"
    assert default_index().search("zzzz-not-a-word") == []


def test_sections_split_at_headings_but_not_inside_code(tmp_path: Path):
    doc = tmp_path / "x.md"
    doc.write_text("# Title\nintro words\n```python\n# not a heading\nalpha = 1\n```\n## Second\nbeta gamma\n")
    index = DocsIndex.from_files([doc])
    assert [s.title for s in index.sections] == ["Title", "Second"]
    assert index.search("alpha")[0]["section"] == "Title"


def test_agents_can_search_the_docs(host):
    host.agents.create("helper", model=ScriptedModel([{"tool": "docs_search", "args": {"query": "MCPServer stdio timeout"}},
                                                     "found it"]))
    result = host.agents["helper"].run()
    top = result.tool_results[0]["result"]["results"][0]
    assert top["file"] == "agents.md" and top["section"] == "MCP servers"
    assert "future_data" not in result.warning_codes

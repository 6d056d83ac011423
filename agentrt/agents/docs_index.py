"""Keyword search (BM25) over agentrt's own documentation, for the ``docs_search`` tool.

The documents are the Markdown files of the ``docs/`` folder and ``README.md`` next to the
installed package (a source checkout), or ``agentrt/_docs/`` when a wheel ships them, or
the folder named by ``AGENTRT_DOCS_DIR``. Files are split into sections at Markdown
headings; each section is one searchable document.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DocSection", "DocsIndex", "default_index", "docs_paths"]

_WORD = re.compile(r"[a-z0-9_]+")
_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")


@dataclass(frozen=True)
class DocSection:
    path: str
    title: str
    text: str


def docs_paths() -> list[Path]:
    """The Markdown files the docs index reads (may be empty)."""
    import agentrt

    package_dir = Path(next(iter(agentrt.__path__)))
    candidates: list[Path] = []
    env = os.environ.get("AGENTRT_DOCS_DIR")
    if env:
        candidates.append(Path(env))
    candidates += [package_dir / "_docs", package_dir.parent / "docs"]
    files: list[Path] = []
    for folder in candidates:
        if folder.is_dir():
            files += sorted(folder.glob("*.md"))
    readme = package_dir.parent / "README.md"
    if readme.is_file():
        files.append(readme)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", "_"))


def _split(path: Path) -> list[DocSection]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    sections: list[DocSection] = []
    title, buf = path.stem, []
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading:
            if "".join(buf).strip():
                sections.append(DocSection(path.name, title, "\n".join(buf).strip()))
            title, buf = heading.group(2).strip(), []
        else:
            buf.append(line)
    if "".join(buf).strip():
        sections.append(DocSection(path.name, title, "\n".join(buf).strip()))
    return sections


class DocsIndex:
    """A BM25 index over documentation sections."""

    def __init__(self, sections: list[DocSection], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.sections = sections
        self._k1, self._b = k1, b
        self._tf = [Counter(_tokens(s.title + " " + s.title + " " + s.text)) for s in sections]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(sections)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    @property
    def digest(self) -> str:
        """A hash of every section this index searches (what a ``docs_search`` answer depends on)."""
        digest = getattr(self, "_digest", None)
        if digest is None:
            import hashlib

            h = hashlib.sha256()
            for s in self.sections:
                for part in (s.path, s.title, s.text):
                    data = part.encode()
                    h.update(len(data).to_bytes(8, "little") + data)
            digest = self._digest = h.hexdigest()
        return digest

    @classmethod
    def from_files(cls, paths: list[Path]) -> DocsIndex:
        return cls([s for p in paths for s in _split(p)])

    def search(self, query: str, *, max_results: int = 5) -> list[dict[str, object]]:
        terms = _tokens(query)
        scored = []
        for i, tf in enumerate(self._tf):
            score = 0.0
            for t in terms:
                f = tf.get(t)
                if not f:
                    continue
                norm = self._k1 * (1 - self._b + self._b * self._len[i] / (self._avg or 1))
                score += self._idf.get(t, 0.0) * f * (self._k1 + 1) / (f + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(key=lambda x: (-x[0], x[1]))
        out = []
        for score, i in scored[:max_results]:
            s = self.sections[i]
            snippet = s.text if len(s.text) <= 1200 else s.text[:1200] + " ..."
            out.append({"file": s.path, "section": s.title, "score": round(score, 3), "text": snippet})
        return out


_DEFAULT: DocsIndex | None = None


def default_index() -> DocsIndex:
    """The index over :func:`docs_paths`, built once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DocsIndex.from_files(docs_paths())
    return _DEFAULT

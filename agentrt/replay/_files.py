"""Locating replay cache files and telling apart a usable cache from anything else at a path."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrt.replay.migrations import MIGRATIONS_TABLE

if TYPE_CHECKING:
    from sqlite_utils import Database

CACHE_DIR_ENV = "AGENTRT_CACHE_DIR"
CACHE_FILENAME = "replay.sqlite"
_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


class ReplayStoreError(Exception):
    """The cache file cannot be used as it is; the message names the file and the fix."""


def default_cache_dir() -> Path:
    """The cache folder used when none is given: ``$AGENTRT_CACHE_DIR`` or the user cache dir."""
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    try:
        import platformdirs
    except ImportError:
        return Path.home() / ".cache" / "agentrt"
    return Path(platformdirs.user_cache_dir("agentrt", appauthor=False))


def resolve_cache_file(path: str | Path | None = None) -> Path:
    """The SQLite file for ``path``: a folder holds ``replay.sqlite``; a ``.sqlite``/``.db``
    path or an existing file is used as is; None means :func:`default_cache_dir`."""
    folder = default_cache_dir() if path is None else Path(path).expanduser()
    if folder.is_file() or (not folder.is_dir() and folder.suffix in _FILE_SUFFIXES):
        return folder
    return folder / CACHE_FILENAME


def sidecars(path: Path) -> tuple[Path, Path]:
    """SQLite's WAL-mode companion files of ``path``."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def require_agentrt_cache(db: Database, path: Path, *, empty_ok: bool) -> None:
    """Refuse a SQLite file that holds something other than an agentrt replay cache."""
    tables = set(db.table_names())
    if MIGRATIONS_TABLE in tables and {"runs", "calls"} <= tables:
        return
    if empty_ok and not (tables - {MIGRATIONS_TABLE}):
        return
    found = ", ".join(sorted(tables)) or "no tables"
    raise ReplayStoreError(
        f"{path} is a SQLite database but not an agentrt replay cache (found {found}). "
        f"Point the cache at another folder (argument or ${CACHE_DIR_ENV}); "
        "the file was not changed"
    )


def open_error(path: Path, exc: sqlite3.Error) -> ReplayStoreError:
    """The error to raise when SQLite cannot read ``path``: locked, unreadable, or not SQLite."""
    if isinstance(exc, sqlite3.OperationalError):
        return ReplayStoreError(
            f"cannot open replay cache {path}: {exc}. If another process holds it locked, "
            "wait for it to finish; otherwise check that the file and its folder are "
            "readable and writable. The file was not changed"
        )
    return ReplayStoreError(
        f"{path} is not a readable SQLite replay cache ({exc}). The file was not changed. "
        f"Move it away (e.g. `mv {path} {path}.bad`) so a fresh cache is created, or point "
        f"${CACHE_DIR_ENV} at another folder; if it is an agentrt cache that got damaged, "
        "run `agentrt cache verify` to see which rows can be saved"
    )


def iter_rows(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> Iterator[dict[str, Any]]:
    """Stream the rows of ``sql`` as dicts keyed by column name.

    Text that is not valid UTF-8 (a damaged row) comes back with its bad bytes as lone
    surrogates instead of failing the whole scan, so verify can report and keep that row.
    """
    previous = conn.text_factory
    conn.text_factory = _lenient_text
    try:
        cursor = conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))
    finally:
        conn.text_factory = previous


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")

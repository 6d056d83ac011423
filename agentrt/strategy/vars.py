"""`Vars`: the strategy's persistent state (`self.vars.x = 1`), JSON-serialisable for live restarts."""

from __future__ import annotations

from typing import Any


class Vars:
    """Attribute- and dict-style storage that survives iterations (and, live, restarts)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict | None = None) -> None:
        object.__setattr__(self, "_data", dict(data or {}))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            known = ", ".join(sorted(self._data)) or "none yet"
            raise AttributeError(f"self.vars has no {name!r} (set it in initialize(); known: {known})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

    def __delattr__(self, name: str) -> None:
        self._data.pop(name, None)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value

    def keys(self):
        return self._data.keys()

    def items(self):
        return self._data.items()

    def to_dict(self) -> dict:
        return dict(self._data)

    def update(self, data: dict) -> None:
        self._data.update(data)

    def __repr__(self) -> str:
        return f"Vars({self._data!r})"

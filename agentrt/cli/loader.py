"""Load a strategy file: import it as a module and find the `Strategy` subclass it defines."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path


class StrategyFileError(ValueError):
    """The strategy file cannot be used; the message says what is wrong and how to fix it."""


def load_strategy_class(path: str | Path, *, name: str | None = None):
    from agentrt.strategy.strategy import Strategy

    file = Path(path).expanduser()
    if not file.exists():
        raise StrategyFileError(f"strategy file {str(file)!r} does not exist")
    if file.suffix != ".py":
        raise StrategyFileError(f"strategy file {str(file)!r} is not a .py file")
    mod_name = f"agentrt_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    folder = str(file.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise StrategyFileError(
            f"{file}:{exc.lineno}: syntax error: {exc.msg}\n    {(exc.text or '').rstrip()}\nfix the line and run again"
        ) from None
    except Exception as exc:  # noqa: BLE001 - report any import-time failure with its location
        tb = traceback.extract_tb(exc.__traceback__)
        frame = next((f for f in reversed(tb) if Path(f.filename).resolve() == file.resolve()), tb[-1] if tb else None)
        where = f"{frame.filename}:{frame.lineno}" if frame else str(file)
        raise StrategyFileError(f"{where}: importing the strategy file failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if added:
            try:
                sys.path.remove(folder)
            except ValueError:
                pass
    classes = [obj for obj in vars(module).values()
               if isinstance(obj, type) and issubclass(obj, Strategy) and obj is not Strategy
               and obj.__module__ == mod_name]
    if name:
        for cls in classes:
            if cls.__name__ == name:
                return cls
        raise StrategyFileError(f"{file} defines no Strategy named {name!r}; it defines: "
                                f"{', '.join(c.__name__ for c in classes) or 'none'}")
    if not classes:
        raise StrategyFileError(
            f"{file} defines no Strategy subclass; write `class MyStrategy(Strategy):` with an "
            "on_trading_iteration(self) method (from agentrt import Strategy)")
    if len(classes) > 1:
        raise StrategyFileError(
            f"{file} defines several strategies ({', '.join(c.__name__ for c in classes)}); "
            "choose one with --strategy NAME")
    return classes[0]

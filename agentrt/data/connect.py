"""Connections to live venues: credentials from the environment or `.env`, retries, connection errors.

Shared by the live feeds (agentrt.data.live) and the live brokers: a missing or rejected credential
is a clear error naming the variables to set; transient failures (a dropped connection, HTTP
429/5xx, a timeout) are retried with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentrt.data.base import DataError

log = logging.getLogger("agentrt.live")
T = TypeVar("T")


# ---- errors -------------------------------------------------------------------------------
class CredentialsError(RuntimeError):
    """API credentials are missing or were rejected; the message names the variables to set."""


class LiveDataError(DataError):
    """A live data request failed in a way retrying does not fix; the message says why."""


class LiveConnectionError(ConnectionError):
    """A provider stayed unreachable after every retry (the cause is chained)."""


# ---- credentials --------------------------------------------------------------------------
_ENV_LOADED: set[str] = set()


def load_env_file(path: str | os.PathLike | None = None) -> str | None:
    """Load a `.env` file into the environment (variables already set win). Returns the file used.

    Without `path`, the nearest `.env` from the current folder upwards is used, once per process.
    """
    from dotenv import find_dotenv, load_dotenv

    file = str(path) if path is not None else find_dotenv(usecwd=True)
    if not file or file in _ENV_LOADED:
        return file or None
    load_dotenv(file, override=False)
    _ENV_LOADED.add(file)
    return file


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value and value.strip():
            return value.strip()
    return None


def _require_env(groups: list[tuple[str, ...]], *, what: str) -> list[str]:
    load_env_file()
    values, missing = [], []
    for names in groups:
        value = _first_env(names)
        if value is None:
            missing.append(" or ".join(names))
        values.append(value or "")
    if missing:
        raise CredentialsError(
            f"{what} credentials are missing: set {', '.join(missing)} in the environment or in a .env file "
            "in the folder you run from (e.g. a line `" + groups[0][0] + "=...`). Paper keys are free; "
            "or run with --broker paper first")
    return values


def alpaca_credentials() -> tuple[str, str]:
    """(key, secret) from ALPACA_API_KEY / ALPACA_API_SECRET (or APCA_API_KEY_ID / APCA_API_SECRET_KEY)."""
    key, secret = _require_env([("ALPACA_API_KEY", "APCA_API_KEY_ID"), ("ALPACA_API_SECRET", "APCA_API_SECRET_KEY")],
                               what="Alpaca")
    return key, secret


ALPACA_VARIABLES = "ALPACA_API_KEY / ALPACA_API_SECRET (or APCA_API_KEY_ID / APCA_API_SECRET_KEY)"


def exchange_variables(exchange_id: str) -> tuple[str, str, str]:
    prefix = re.sub(r"[^A-Z0-9]", "_", exchange_id.upper())
    return f"{prefix}_API_KEY", f"{prefix}_API_SECRET", f"{prefix}_PASSWORD"


def exchange_credentials(exchange_id: str) -> dict[str, str]:
    """ccxt credentials from `<EXCHANGE>_API_KEY` / `<EXCHANGE>_API_SECRET` (+ optional `_PASSWORD`/`_PASSPHRASE`)."""
    key_var, secret_var, password_var = exchange_variables(exchange_id)
    key, secret = _require_env([(key_var,), (secret_var,)], what=f"{exchange_id} exchange")
    creds = {"apiKey": key, "secret": secret}
    password = _first_env((password_var, password_var.replace("_PASSWORD", "_PASSPHRASE")))
    if password:
        creds["password"] = password
    return creds


def credentials_rejected(exc: BaseException) -> bool:
    """True when a provider answered 401/403 (keys wrong, expired, or for the wrong environment)."""
    status = _status_code(exc)
    if status in (401, 403):
        return True
    name = type(exc).__name__
    return name in ("AuthenticationError", "PermissionDenied", "AccountSuspended")


def _status_code(exc: BaseException) -> int | None:
    for attr in ("status_code", "status", "http_status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


# ---- retries ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a transient failure: `attempts` tries, waits doubling from `initial_seconds`."""

    attempts: int = 5
    initial_seconds: float = 0.5
    max_seconds: float = 8.0


def is_transient(exc: BaseException) -> bool:
    """A failure that a retry may fix: dropped connection, timeout, HTTP 429/5xx, exchange unavailable."""
    if isinstance(exc, (CredentialsError, LiveConnectionError)):
        return False
    if credentials_rejected(exc):
        return False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith("ccxt"):
        import ccxt

        return isinstance(exc, ccxt.NetworkError)
    if module.startswith(("requests", "urllib3", "http.client")):
        return name in ("ConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout", "ChunkedEncodingError",
                        "ProtocolError", "RemoteDisconnected", "IncompleteRead", "ReadTimeoutError")
    status = _status_code(exc)
    return status is not None and (status == 429 or 500 <= status <= 599)


def call_with_retry(fn: Callable[[], T], *, what: str, policy: RetryPolicy | None = None,
                    retry_if: Callable[[BaseException], bool] = is_transient) -> T:
    """Call `fn`, retrying transient failures with exponential backoff (tenacity).

    Gives up with `LiveConnectionError` (naming `what`) once the attempts are spent; errors that
    are not transient propagate at once. A `fn` that submits an order must be idempotent: the
    brokers' submit first looks its client order id up when it runs again.
    """
    from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    policy = policy or RetryPolicy()

    def _log(state) -> None:
        exc = state.outcome.exception()
        log.warning("%s failed (%s: %s); retry %d/%d in %.2fs", what, type(exc).__name__, exc,
                    state.attempt_number, policy.attempts - 1, state.next_action.sleep if state.next_action else 0)

    retrying = Retrying(stop=stop_after_attempt(max(1, policy.attempts)),
                        wait=wait_exponential(multiplier=policy.initial_seconds, max=policy.max_seconds),
                        retry=retry_if_exception(retry_if), before_sleep=_log, reraise=False)
    try:
        return retrying(fn)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise LiveConnectionError(
            f"{what} failed after {policy.attempts} attempts: {type(last).__name__}: {last}; check the network "
            "and the provider's status page") from last



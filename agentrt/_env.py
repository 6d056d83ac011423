"""Environment defaults that keep third-party libraries off the network unless asked.

LiteLLM downloads its model price map from GitHub on import unless
``LITELLM_LOCAL_MODEL_COST_MAP`` is set, and google-auth probes for a client
certificate (a metadata-server round trip) unless ``GOOGLE_API_USE_CLIENT_CERTIFICATE``
is ``false``. Both are set here with ``setdefault`` so a user who sets them keeps
their value; call :func:`ensure_offline_safe_env` before importing litellm or google.adk.
"""

from __future__ import annotations

import os

OFFLINE_SAFE_DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "GOOGLE_API_USE_CLIENT_CERTIFICATE": "false",
}
"""Variables :func:`ensure_offline_safe_env` sets when the user has not."""


def ensure_offline_safe_env() -> None:
    """Set the :data:`OFFLINE_SAFE_DEFAULTS` that the user has not set (idempotent, cheap)."""
    for name, value in OFFLINE_SAFE_DEFAULTS.items():
        os.environ.setdefault(name, value)

"""Real-browser check of a report page: render it in headless Chromium, screenshot it, report errors.

:func:`screenshot_and_check` runs Chromium twice, with the network switched off as far as
flags allow. First ``--dump-dom`` on a copy of the page into which a small probe script is
injected at the top of ``<head>``: it records ``window.onerror`` events (script errors and
failed resource loads), unhandled promise rejections and ``console.error`` calls, and after
``load`` writes ``<pre id="agentrt-check">{json}</pre>`` with the number of plotly chart divs,
the ones that rendered an SVG, and any http(s) resource the page fetched. Second
``--screenshot`` of the original page. Only the standard library is used.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "AGENTRT_CHROMIUM"
"""Environment variable that may name the Chromium/Chrome executable to use."""

CHECK_VERSION = 1

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")
_KNOWN_PATHS = (
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)

_BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-crash-reporter",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
)

_PROBE = """<script id="agentrt-check-probe">
(function () {
  var errors = [], consoleErrors = [];
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { errors.push("failed to load " + (t.src || t.href)); return; }
    errors.push(String(e.message || "error") + (e.filename ? " (" + e.filename.slice(-80) + ":" + e.lineno + ")" : ""));
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    var r = e.reason; errors.push("unhandled rejection: " + String(r && (r.message || r) || r));
  });
  var original = console.error;
  console.error = function () {
    consoleErrors.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  function report() {
    var divs = document.querySelectorAll(".plotly-graph-div"), rendered = [], pending = [], network = [];
    for (var i = 0; i < divs.length; i++) {
      var drawn = divs[i].classList.contains("js-plotly-plot") && divs[i].querySelector(".main-svg");
      (drawn ? rendered : pending).push(divs[i].id);
    }
    try {
      performance.getEntriesByType("resource").forEach(function (r) {
        if (/^(https?|wss?|ftp):/i.test(r.name)) { network.push(r.name); }
      });
    } catch (err) {}
    var result = {version: __VERSION__, errors: errors, console_errors: consoleErrors, plots: divs.length,
      rendered: rendered.length, svg: document.querySelectorAll(".js-plotly-plot .main-svg").length,
      rendered_ids: rendered, pending_ids: pending, network: network,
      plotly_version: window.Plotly ? (window.Plotly.version || "unknown") : null, title: document.title};
    var pre = document.createElement("pre");
    pre.id = "agentrt-check"; pre.style.display = "none"; pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", function () { setTimeout(report, 1500); });
})();
</script>
""".replace("__VERSION__", str(CHECK_VERSION))

_MARKER = re.compile(r'<pre id="agentrt-check"[^>]*>(.*?)</pre>', re.DOTALL)
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: ``$AGENTRT_CHROMIUM``, then PATH, then usual places."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        found = shutil.which(configured)
        if found:
            return found
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    for path in _KNOWN_PATHS:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def screenshot_and_check(html_path: str | Path, png_path: str | Path, *, timeout_s: float = 60) -> dict[str, Any]:
    """Render ``html_path`` in headless Chromium, save a screenshot, and report what happened.

    Args:
        html_path: the page to check (a local file; it is not modified).
        png_path: where to write the 1400x2000 screenshot (parent folders are created).
        timeout_s: limit for each of the two Chromium runs.

    Returns:
        ``{"ok", "problems", "errors", "console_errors", "plots", "rendered", "svg",
        "rendered_ids", "pending_ids", "network", "plotly_version", "title", "png_path",
        "png_bytes", "chromium", "version"}``. ``ok`` is True when no JavaScript error
        happened, at least one chart exists, every chart drew its SVG, nothing was fetched
        over the network and the screenshot was written; ``problems`` says what failed.

    Raises:
        FileNotFoundError: no Chromium found, or ``html_path`` does not exist.
        RuntimeError: Chromium failed, timed out, or the probe result is missing.
    """
    page = Path(html_path).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"report page {str(page)!r} does not exist; write it before checking it")
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError(
            "Chromium not found; install it (Debian: `apt-get install -y chromium`) "
            f"or set {CHROMIUM_ENV}=/path/to/chromium"
        )
    png = Path(png_path).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()

    with tempfile.TemporaryDirectory(prefix="agentrt-browser-") as tmp:
        probe_page = Path(tmp) / page.name
        probe_page.write_text(_inject_probe(page.read_text(encoding="utf-8")), encoding="utf-8")
        dom = _run(chromium, ["--dump-dom", probe_page.as_uri()], Path(tmp) / "profile-dom", timeout_s)
        match = _MARKER.search(dom.stdout)
        if match is None:
            raise RuntimeError(
                f"Chromium rendered {page.name} but the check marker is missing (the page never finished "
                f"loading within the virtual time budget); chromium stderr tail: {_tail(dom.stderr)}"
            )
        result: dict[str, Any] = json.loads(html.unescape(match.group(1)))
        shot = _run(
            chromium,
            [f"--screenshot={png}", "--window-size=1400,2000", page.as_uri()],
            Path(tmp) / "profile-shot",
            timeout_s,
        )
    png_bytes = png.stat().st_size if png.exists() else 0
    problems = []
    if result.get("errors"):
        problems.append(f"{len(result['errors'])} JavaScript error(s): {result['errors'][:3]}")
    if not result.get("plots"):
        problems.append("no plotly chart div on the page")
    if result.get("pending_ids"):
        problems.append(f"charts that did not render: {result['pending_ids']}")
    if result.get("network"):
        problems.append(f"page fetched from the network: {result['network'][:3]}")
    if png_bytes == 0:
        problems.append(f"no screenshot written; chromium stderr tail: {_tail(shot.stderr)}")
    result.update(
        ok=not problems,
        problems=problems,
        png_path=str(png),
        png_bytes=png_bytes,
        chromium=chromium,
    )
    return result


def _inject_probe(document: str) -> str:
    match = _HEAD.search(document)
    if match is None:
        return _PROBE + document
    return document[: match.end()] + "\n" + _PROBE + document[match.end() :]


def _run(chromium: str, args: list[str], profile: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    command = [chromium, *_BASE_FLAGS, f"--user-data-dir={profile}", *args]
    env = dict(os.environ)
    env.setdefault("HOME", str(profile.parent))
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, so a timeout can stop its helpers too
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        raise RuntimeError(
            f"Chromium did not finish {args[0]} within {timeout_s} s; raise timeout_s or check that "
            f"{chromium} starts headless on this machine"
        ) from None
    if process.returncode != 0:
        raise RuntimeError(
            f"Chromium exited with code {process.returncode} for {args[0]}; stderr tail: {_tail(stderr)}"
        )
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _stop_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join((text or "").strip().splitlines()[-lines:])

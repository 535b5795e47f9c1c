"""Fixtures for the desktop WebDriver suite: tauri-driver, the real window, and screenshots.

tauri-driver (port 4444) forwards to WebKitWebDriver, which starts the debug binary named by
RADQC_DESKTOP_BIN (default: target/debug/radqc-desktop, built with the `custom-protocol`
feature by scripts/test.sh). Everything started here is stopped at teardown, even on failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 (Ubuntu 22.04): the same parser from PyPI
    import tomli as tomllib

import pytest
from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions

REPO = Path(__file__).resolve().parents[2]
DRIVER_PORT = 4444  # tauri-driver's fixed port; run WebDriver suites one at a time
STARTUP_DEADLINE_S = 30


def _wait_for_port(port: int, proc: subprocess.Popen, deadline_s: float) -> None:
    """Polls until something listens on `port`, failing fast if `proc` died."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"tauri-driver exited with {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"tauri-driver did not listen on {port} within {deadline_s}s")


def _stop_group(proc: subprocess.Popen) -> None:
    """Stops a process started in its own session together with everything it spawned."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_binary() -> Path:
    path = Path(os.environ.get("RADQC_DESKTOP_BIN", REPO / "target/debug/radqc-desktop"))
    if not path.is_file():
        pytest.fail(f"desktop binary {path} is missing: build it first (scripts/test.sh does)")
    return path


@pytest.fixture(scope="session")
def rubric_data() -> dict:
    """The bundled rubric as the data file says it, to compare with what the window shows."""
    with open(REPO / "assets/rubric.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    out = REPO / "artifacts/screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def tauri_driver(tmp_path_factory):
    exe = shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")
    with socket.socket() as s:
        # Otherwise we would talk to whatever holds the port, not to the driver we start.
        if s.connect_ex(("127.0.0.1", DRIVER_PORT)) == 0:
            pytest.fail(f"port {DRIVER_PORT} is taken: is another WebDriver suite running?")
    log = open(tmp_path_factory.mktemp("driver") / "tauri-driver.log", "w+b")
    # Own session, so that teardown reaches WebKitWebDriver and the app it started too.
    proc = subprocess.Popen([exe], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(DRIVER_PORT, proc, STARTUP_DEADLINE_S)
        yield proc
    finally:
        _stop_group(proc)
        log.seek(0)
        tail = log.read().decode(errors="replace")[-4000:]
        log.close()
        if tail.strip():
            print(f"\n--- tauri-driver log (tail) ---\n{tail}")


@pytest.fixture
def driver(tauri_driver, app_binary):
    """A fresh desktop window per test, closed afterwards whatever the test did."""
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": str(app_binary)})
    session = webdriver.Remote(command_executor=f"http://127.0.0.1:{DRIVER_PORT}", options=options)
    try:
        yield session
    finally:
        session.quit()

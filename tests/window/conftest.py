"""Fixtures for the desktop WebDriver suite: tauri-driver, the real window, and screenshots.

tauri-driver (port 4444) forwards to WebKitWebDriver, which starts the debug binary named by
RADQC_DESKTOP_BIN (default: target/debug/radqc-desktop, built with the `custom-protocol`
feature by scripts/test.sh). Each window gets a fresh data folder of its own and its gate API
on a free port (`--gate-port 0`), so tests neither see each other's scores nor touch the
workstation's real data. Everything started here is stopped at teardown, even on failure.
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
from selenium.webdriver.remote.client_config import ClientConfig

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


class TauriDriver:
    """tauri-driver in its own session (so stopping it reaches WebKitWebDriver and the app)."""

    def __init__(self, log):
        self.exe = shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_for_port(DRIVER_PORT, self.proc, STARTUP_DEADLINE_S)

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None


@pytest.fixture(scope="session")
def tauri_driver(tmp_path_factory):
    with socket.socket() as s:
        # Otherwise we would talk to whatever holds the port, not to the driver we start.
        if s.connect_ex(("127.0.0.1", DRIVER_PORT)) == 0:
            pytest.fail(f"port {DRIVER_PORT} is taken: is another WebDriver suite running?")
    log = open(tmp_path_factory.mktemp("driver") / "tauri-driver.log", "w+b")
    driver = TauriDriver(log)
    try:
        driver.start()
        yield driver
    finally:
        driver.stop()
        log.seek(0)
        tail = log.read().decode(errors="replace")[-4000:]
        log.close()
        if tail.strip():
            print(f"\n--- tauri-driver log (tail) ---\n{tail}")


# WebKitWebDriver waits without end for a window whose process died during start-up (seen
# once in ~30 starts: GTK could not open the X display). A start is bounded by this, and
# retried once on a fresh tauri-driver; a second failure fails the test.
WINDOW_START_TIMEOUT_S = 60


def _window(tauri_driver: TauriDriver, app_binary: Path, args: list[str]):
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": str(app_binary), "args": args})
    address = f"http://127.0.0.1:{DRIVER_PORT}"

    def start():
        config = ClientConfig(remote_server_addr=address, timeout=WINDOW_START_TIMEOUT_S)
        return webdriver.Remote(command_executor=address, options=options, client_config=config)

    try:
        return start()
    except Exception as first:  # noqa: BLE001 - any failure to start gets one more try
        print(f"window did not start ({type(first).__name__}: {first}); restarting tauri-driver")
        tauri_driver.stop()
        tauri_driver.start()
        return start()


@pytest.fixture
def driver(tauri_driver, app_binary, tmp_path):
    """A fresh desktop window on an empty store, closed afterwards whatever the test did."""
    session = _window(tauri_driver, app_binary, ["--data-dir", str(tmp_path / "data"), "--gate-port", "0"])
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def demo_driver(tauri_driver, app_binary, tmp_path):
    """A fresh window on a new demo department (`--demo`): staff, a week of exams, some scores."""
    args = ["--demo", "--data-dir", str(tmp_path / "data"), "--gate-port", "0"]
    session = _window(tauri_driver, app_binary, args)
    try:
        yield session
    finally:
        session.quit()

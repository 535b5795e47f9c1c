"""The score reaches a real center: a `radqc center serve` process on a loopback port, the
desktop app enrolled with it from the sync screen by a one-time code, a score saved in the
window, "sync now", and the center's own export holding that evaluation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from helpers import WAIT_S, by_testid, click, invoke, text_of, wait_for

REPO = Path(__file__).resolve().parents[2]
RADQC = REPO / "target/debug/radqc"


def radqc(*args: str) -> str:
    out = subprocess.run([str(RADQC), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"radqc {' '.join(args)}: {out.stderr}"
    return out.stdout


@pytest.fixture
def center(tmp_path):
    """A center with the demo site and a one-time code; stopped afterwards."""
    if not RADQC.is_file():
        pytest.fail(f"{RADQC} is missing: cargo build -p radqc-cli (scripts/test.sh builds it)")
    db = str(tmp_path / "center.db")
    radqc("center", "site", "add", "DEMO-RAD", "--name", "演示放射科", "--db", db)
    code = radqc("center", "device", "enroll", "--site", "DEMO-RAD", "--db", db).strip()
    proc = subprocess.Popen(
        [str(RADQC), "center", "serve", "--listen", "127.0.0.1:0", "--db", db],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:"), f"the center says where it listens: {url!r}"
        yield {"url": url, "code": code, "db": db}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_score_reaches_the_center(demo_driver: WebDriver, center: dict):
    d = demo_driver
    wait_for(d, "roster-D1")
    click(d, "roster-D1")
    wait_for(d, "header-user")

    # Enroll from the sync screen, as a clinic's administrator would.
    click(d, "nav-sync")
    wait_for(d, "enroll")
    d.find_element(*by_testid("enroll-center")).send_keys(center["url"])
    d.find_element(*by_testid("enroll-code")).send_keys(center["code"])
    click(d, "enroll-submit")
    wait_for(d, "sync-enrolled")

    # Score an exam (all criteria met) through the same command the panel uses.
    exams = invoke(d, "find_exams", {"filter": {"evaluated": False, "modality": "CT", "limit": 1}})
    accession = exams[0]["accession"]
    saved = invoke(d, "save_evaluations", {"request": {
        "accession": accession, "mode": "active",
        "items": [{"item": "IQ", "findings": [], "not_applicable": [], "note": ""}],
    }})
    evaluation_id = saved[0]["id"]

    click(d, "sync-now")
    WebDriverWait(d, WAIT_S).until(lambda x: text_of(x, "sync-pending") == "0")

    lines = [json.loads(l) for l in radqc("center", "export", "--db", center["db"]).splitlines()]
    ids = [l["record"]["id"] for l in lines if l["kind"] == "evaluation"]
    assert evaluation_id in ids, "the evaluation saved in the window is at the center"
    assert all(l["site"] == "DEMO-RAD" for l in lines), "as the demo site's"
    assert ids.count(evaluation_id) == 1, "once"

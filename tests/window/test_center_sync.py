"""The score reaches a real center: a `radqc center serve` process on a loopback port, the
desktop app enrolled with it from the sync screen by a one-time code, a score saved in the
window, "sync now", and the center's own export holding that evaluation."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from helpers import RADQC, WAIT_S, by_testid, center_serving, click, invoke, radqc, sign_in, text_of, wait_for

@pytest.fixture
def center(tmp_path):
    """A center with the demo site and a one-time code; stopped afterwards."""
    if not RADQC.is_file():
        pytest.fail(f"{RADQC} is missing: cargo build -p radqc-cli (scripts/test.sh builds it)")
    db = str(tmp_path / "center.db")
    radqc("center", "site", "add", "DEMO-RAD", "--name", "演示放射科", "--db", db)
    code = radqc("center", "device", "enroll", "--site", "DEMO-RAD", "--db", db).strip()
    with center_serving(db) as url:
        yield {"url": url, "code": code, "db": db}


def test_a_score_reaches_the_center(demo_driver: WebDriver, center: dict):
    d = demo_driver
    sign_in(d, "D1")

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


def test_an_unsampled_signing_goes_straight_through(demo_driver: WebDriver, tmp_path: Path):
    """Inpatient signings are sampled at 5 % (50 % while a doctor is behind the monthly
    minimum): signing some in turn, one answers `go` at once without any panel. A sampled one
    meanwhile is closed from the shell, which keeps the catch-up honest."""
    from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout

    from helpers import gate_token, post_json

    d = demo_driver
    sign_in(d, "D2")
    gate = invoke(d, "session")["gate_url"]
    token = gate_token(tmp_path / "data")
    before = invoke(d, "sync_status")["outbox"]["pending"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        for n in range(30):
            body = {"exam": {"accession": f"IP-{n}", "modality": "DR", "exam_item": "胸部正位片",
                             "patient_source": "inpatient", "staff": {"technologist": "A1", "reporting_doctor": "D2"}},
                    "signer": "D2"}
            answer = pool.submit(post_json, f"{gate}/v1/sign", body, 60, token)
            try:
                result = answer.result(timeout=3)
            except FutureTimeout:
                # Held: close it from the shell and go on to the next signing.
                WebDriverWait(d, WAIT_S).until(lambda x: invoke(x, "pending_gates"))
                invoke(d, "close_gate", {"id": invoke(d, "pending_gates")[0]["id"]})
                assert answer.result(timeout=30)["decision"] == "blocked"
                continue
            assert result["decision"] == "go" and result["sampled"] is False, result
            assert invoke(d, "pending_gates") == [], "no panel for an unsampled signing"
            break
        else:
            pytest.fail("30 inpatient signings were all sampled")
    # Each signing was recorded (the denominator of sampling and workload) and waits to sync.
    assert invoke(d, "sync_status")["outbox"]["pending"] == before + n + 1


def test_a_failed_score_comes_back_as_a_notice_and_its_correction_closes_it(demo_driver: WebDriver, center: dict):
    """The demo's failing scores reach the center, which sends each scored technologist a
    notice; the technologist records the correction in 我的质控, and the center has it closed."""
    d = demo_driver
    sign_in(d, "Q1")
    invoke(d, "enroll", {"center": center["url"], "code": center["code"]})
    invoke(d, "sync_now")  # pushes the scores; the center opens notices for the failed ones
    invoke(d, "sync_now")  # pulls the notices
    notices = [json.loads(l) for l in radqc("center", "notices", "--db", center["db"], "--open").splitlines()]
    assert notices, "the demo week has failing scores, so the center opened notices"
    person = notices[0]["to"]

    invoke(d, "sign_out")
    d.refresh()
    sign_in(d, person)
    click(d, "nav-mine")
    form = wait_for(d, "notice-correction")
    form.find_element(*by_testid("notice-correction-text")).send_keys("已重新培训摆位")
    click(d, "notice-correction-submit")
    WebDriverWait(d, WAIT_S).until(
        lambda x: not x.find_elements(*by_testid("notice-correction")) or len(x.find_elements(*by_testid("notice-correction"))) < len(notices)
    )
    invoke(d, "sync_now")
    closed = [json.loads(l) for l in radqc("center", "notices", "--db", center["db"]).splitlines()]
    mine = [n for n in closed if n["to"] == person and n["closed"]]
    assert mine and mine[0]["correction"] == "已重新培训摆位", "the correction closed the notice at the center"

"""The report checks (报告预检) in the real window, on a fresh demo department: a signing whose
report says 右膝 for a 左膝 exam is held with the warning (the report's words marked); 返回修改 by
the keyboard answers blocked with reason PRECHECK and the proposals; a second such signing,
仍然签发 (reached by Tab, pressed by Enter), answers go and the exam is sampled; then the QC
officer opens that exam in active QC, sees the proposal, and 采纳 ticks RQ-S2, which the saved
RQ score carries. Screenshots in Chinese and English go to artifacts/screenshots/."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from helpers import (
    WAIT_S,
    by_testid,
    click,
    focused_testid,
    gate_token,
    invoke,
    layout_problems,
    post_json,
    screenshot,
    sign_in,
    text_of,
    untranslated,
    wait_for,
)

FINDINGS = "右膝关节间隙变窄，右膝关节边缘骨质增生，未见骨折征象。"
IMPRESSION = "右膝关节退行性变。"


def knee_signing(accession: str) -> dict:
    """A left-knee radiograph whose report speaks of the right knee, as the workstation sends it."""
    return {
        "exam": {
            "accession": accession,
            "modality": "DR",
            "exam_item": "DR左膝关节正侧位",
            "department": "放射科",
            "patient_source": "outpatient",
            "follow_up": False,
            "staff": {"technologist": "A2", "reporting_doctor": "D1", "auditing_doctor": "D9"},
            "patient": {"id": "P-KNEE", "sex": "F", "age": 63},
        },
        "signer": "D1",
        "report": {"findings": FINDINGS, "impression": IMPRESSION},
    }


def marks(driver: WebDriver, testid: str) -> list[str]:
    return [m.text for m in driver.find_element(*by_testid(testid)).find_elements(By.TAG_NAME, "mark")]


def press(driver: WebDriver, key: str) -> None:
    driver.switch_to.active_element.send_keys(key)


def test_a_report_warning_at_signing_and_its_proposal_in_the_panel(
    demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path
):
    d = demo_driver
    # The QC officer is at the workstation; the held signer (D1) answers without signing in.
    sign_in(d, "Q1")
    gate_url = invoke(d, "session")["gate_url"]
    token = gate_token(tmp_path / "data")
    assert gate_url.startswith("http://127.0.0.1:"), f"the gate API did not start: {gate_url!r}"

    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{gate_url}/v1/sign", knee_signing("DR-E2E-PRE-1"), 120, token)
        wait_for(d, "precheck-warning")
        assert not answer.done(), "the signature went through before the doctor answered the warning"
        assert text_of(d, "precheck-accession") == "DR-E2E-PRE-1"
        proposal = d.find_element(*by_testid("precheck-proposal"))
        assert (proposal.get_attribute("data-check"), proposal.get_attribute("data-criterion")) == ("laterality", "RQ-S2")
        found = marks(d, "precheck-findings") + marks(d, "precheck-impression")
        assert found and all("右" in m and (m in FINDINGS or m in IMPRESSION) for m in found), found
        # Nothing chosen for the doctor: 返回修改 has the focus, Esc does not choose, Tab stays inside.
        assert focused_testid(d) == "precheck-return"
        press(d, Keys.ESCAPE)
        WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("precheck-hint"), "请选择"))
        assert not answer.done(), "Esc chose nothing"
        seen = []
        for _ in range(3):
            press(d, Keys.TAB)
            seen.append(focused_testid(d))
        assert seen == ["precheck-sign-anyway", "precheck-close", "precheck-return"], seen
        assert untranslated(d) == []
        assert layout_problems(d, ["precheck-return", "precheck-sign-anyway", "precheck-findings"]) == []
        screenshot(d, screenshot_dir, "precheck-warning-zh-CN")
        press(d, Keys.ENTER)
        result = answer.result(timeout=60)
    assert (result["decision"], result["reason"]) == ("blocked", "PRECHECK"), result
    assert [p["check"] for p in result["proposals"]] == ["laterality"]
    assert result["proposals"][0]["criterion"] == "RQ-S2"
    assert result["proposals"][0]["signer_choice"] == "returned"
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element_located(by_testid("precheck-warning")))
    assert d.find_element(*by_testid("gate-outcome")).get_attribute("data-kind") == "precheck_returned"
    click(d, "gate-outcome-dismiss")

    # The second signing, in English: 仍然签发 by Tab and Enter.
    click(d, "lang-toggle")
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{gate_url}/v1/sign", knee_signing("DR-E2E-PRE-2"), 120, token)
        wait_for(d, "precheck-warning")
        WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("precheck-sign-anyway"), "Sign anyway"))
        assert untranslated(d) == []
        assert layout_problems(d, ["precheck-return", "precheck-sign-anyway", "precheck-findings"]) == []
        screenshot(d, screenshot_dir, "precheck-warning-en")
        press(d, Keys.TAB)
        assert focused_testid(d) == "precheck-sign-anyway"
        press(d, Keys.ENTER)
        # When the draw sampled it too, the QC panel of the same hold comes next: score it.
        WebDriverWait(d, WAIT_S).until(
            lambda x: answer.done() or x.find_elements(*by_testid("gate-overlay"))
        )
        if not answer.done():
            WebDriverWait(d, WAIT_S).until(lambda x: focused_testid(x) == "panel-save")
            press(d, Keys.ENTER)
        result = answer.result(timeout=60)
    assert (result["decision"], result["sampled"]) == ("go", True), result

    # The QC officer opens the exam: the proposal is there, and 采纳 ticks RQ-S2.
    click(d, "gate-outcome-dismiss")
    click(d, "lang-toggle")
    click(d, "nav-active")
    box = wait_for(d, "active-accession")
    box.clear()
    box.send_keys("DR-E2E-PRE-2", Keys.ENTER)
    wait_for(d, "scoring-panel")
    wait_for(d, "panel-precheck")
    assert marks(d, "panel-precheck-findings"), "the report's words are marked in the panel"
    item = d.find_element(By.CSS_SELECTOR, '[data-testid^="panel-proposal-"][data-check="laterality"]')
    pid = item.get_attribute("data-testid").removeprefix("panel-proposal-")
    check = d.find_element(*by_testid("crit-RQ-S2-check"))
    assert not check.is_selected() and d.find_element(*by_testid("crit-RQ-S2")).get_attribute("data-state") != "found"
    assert layout_problems(d, ["panel-precheck", "panel-save"]) == []
    screenshot(d, screenshot_dir, "precheck-panel-zh-CN")
    click(d, f"panel-proposal-{pid}-accept")
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid(f"panel-proposal-{pid}")).get_attribute("data-outcome") == "accepted"
    )
    WebDriverWait(d, WAIT_S).until(lambda x: x.find_element(*by_testid("crit-RQ-S2-check")).is_selected())
    assert d.find_element(*by_testid("crit-RQ-S2")).get_attribute("data-state") == "found"
    if d.find_elements(*by_testid("crit-AR-S2-check")):
        assert d.find_element(*by_testid("crit-AR-S2-check")).is_selected(), "the AR twin is ticked too"
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid("verdict-RQ")).get_attribute("data-grade") == "fail"
    )
    screenshot(d, screenshot_dir, "precheck-panel-accepted-zh-CN")
    click(d, "panel-save")
    wait_for(d, "active-saved")
    saved = invoke(d, "exam_detail", {"accession": "DR-E2E-PRE-2"})["evaluations"]
    rq = [e for e in saved if e["item"] == "RQ"]
    assert rq and "RQ-S2" in rq[0]["findings"], saved
    stats = invoke(d, "precheck_stats")
    row = next(r for r in stats if r["check"] == "laterality")
    assert (row["accepted"], row["dismissed"], row["returned"], row["signed_anyway"]) == (1, 0, 1, 1), stats

    # 报表 → 报告预检: the same counts as a table, the precision of the decided ones.
    click(d, "nav-reports")
    wait_for(d, "report-indicators")
    tab = d.find_element(By.ID, "tab-precheck")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", tab)
    WebDriverWait(d, WAIT_S).until(EC.element_to_be_clickable((By.ID, "tab-precheck"))).click()
    table = wait_for(d, "precheck-stats-table")
    row = table.find_element(By.CSS_SELECTOR, '[data-testid="precheck-stats-row"][data-check="laterality"]')
    assert "左右侧" in row.text
    assert row.find_element(*by_testid("precheck-stats-precision")).text == "100.0%"
    assert untranslated(d) == []
    assert layout_problems(d, ["precheck-stats-table"]) == []
    screenshot(d, screenshot_dir, "precheck-stats-zh-CN")

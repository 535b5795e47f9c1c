"""The reading-room screens in the real window, on a fresh demo department: sign-in, active QC
by keyboard, a sampled signing held by the gate API until the panel is saved, the centralized
queue in blind review, and what a technologist may score. Screenshots at 1366x768 in Chinese
and English go to artifacts/screenshots/ and are checked for cut-off or covered parts."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
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
    text_of,
    untranslated,
    wait_for,
    sign_in,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def roster() -> list[dict]:
    with open(REPO / "assets/demo/roster.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def grants() -> dict:
    with open(REPO / "assets/grants.json", encoding="utf-8") as f:
        return json.load(f)


def panel_items(driver: WebDriver) -> list[str]:
    """The items of the panel on top (the random-QC overlay when it is up)."""
    return driver.execute_script(
        """
        const panels = document.querySelectorAll('[data-testid="scoring-panel"]');
        const top = panels[panels.length - 1];
        return [...top.querySelectorAll('[data-testid^="panel-item-"][data-current]')]
          .map((e) => e.getAttribute('data-testid').slice('panel-item-'.length));
        """
    )


def wait_verdicts_ready(driver: WebDriver) -> None:
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('[data-testid^=\"verdict-\"]')]"
            ".every((v) => v.dataset.state === 'ready')"
        )
    )


def press_enter_on_focus(driver: WebDriver) -> None:
    driver.switch_to.active_element.send_keys(Keys.ENTER)


def some_exam(driver: WebDriver, **filter_) -> dict:
    exams = invoke(driver, "find_exams", {"filter": {"limit": 50, **filter_}})
    assert exams, f"the demo department has no exam matching {filter_}"
    return exams[0]


def open_active(driver: WebDriver, accession: str) -> None:
    click(driver, "nav-active")
    box = wait_for(driver, "active-accession")
    box.clear()
    box.send_keys(accession, Keys.ENTER)
    wait_for(driver, "scoring-panel")
    wait_verdicts_ready(driver)


def test_sign_in_shows_the_person_site_and_demo(
    demo_driver: WebDriver, roster: list[dict], screenshot_dir: Path
):
    d = demo_driver
    wait_for(d, "sign-in")
    for member in roster:
        card = text_of(d, f"roster-{member['code']}")
        assert member["name"] in card and member["code"] in card
    # Roles in Chinese, from the catalog: the raw role names would mean a missing key.
    assert "审核医生" in text_of(d, "roster-D9")
    assert layout_problems(d, ["roster-H1", "sign-in-filter"]) == []
    screenshot(d, screenshot_dir, "sign-in-zh-CN")
    sign_in(d, "D1")
    assert text_of(d, "header-user") == "赵敏（D1）"
    assert text_of(d, "demo-badge") == "演示数据"
    assert "DEMO-RAD" in text_of(d, "header-site")
    assert untranslated(d) == []
    click(d, "sign-out")
    wait_for(d, "sign-in")
    assert not d.find_elements(*by_testid("header-user"))


def test_active_qc_saved_with_one_keystroke(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "D1")
    exam = some_exam(d, evaluated=False, modality="CT")
    open_active(d, exam["accession"])
    # The panel opens on Save: a clean exam is one Enter.
    assert focused_testid(d) == "panel-save"
    items = panel_items(d)
    assert "IQ" in items, f"a reporting doctor scores image quality; got {items}"
    assert layout_problems(d, ["panel-save", "panel-hints", "exam-accession"]) == []
    screenshot(d, screenshot_dir, "panel-active-zh-CN")

    press_enter_on_focus(d)
    wait_for(d, "active-saved")
    saved = invoke(d, "exam_detail", {"accession": exam["accession"]})["evaluations"]
    # One evaluation per item, all met, in mode active, by the signed-in doctor.
    assert sorted(e["item"] for e in saved) == sorted(items)
    for e in saved:
        assert (e["mode"], e["reviewer"], e["findings"], e["not_applicable"]) == ("active", "D1", [], [])
    assert all(e["score"] == 5 for e in saved if e["item"] != "AF")


def test_panel_digits_and_english(demo_driver: WebDriver, screenshot_dir: Path, rubric_data: dict):
    d = demo_driver
    sign_in(d, "D1")
    exam = some_exam(d, evaluated=False, modality="CT")
    open_active(d, exam["accession"])
    first = panel_items(d)[0]
    rubric_item = next(i for i in rubric_data["items"] if i["code"] == first)
    ordered = [c for c in rubric_item["criteria"] if c["kind"] == "severe"] + [
        c for c in rubric_item["criteria"] if c["kind"] == "compliance"
    ]
    # Digit 1 toggles the first criterion of the current item: a severe one, present → fail.
    press = d.switch_to.active_element
    press.send_keys("1")
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid(f"crit-{ordered[0]['code']}")).get_attribute("data-state") == "found"
    )
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid(f"verdict-{first}")).get_attribute("data-grade") == "fail"
    )
    press.send_keys("1")
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid(f"verdict-{first}")).get_attribute("data-grade") in ("excellent", "pass")
    )
    # Unmet compliance criteria shown in both languages for the screenshots.
    iq_unmet = d.find_elements(*by_testid("crit-IQ-C2-check"))
    if iq_unmet:
        iq_unmet[0].click()
        WebDriverWait(d, WAIT_S).until(
            lambda x: x.find_element(*by_testid("verdict-IQ")).get_attribute("data-score") == "4"
        )
        assert "4 分 · 良好" in text_of(d, "verdict-IQ")

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("panel-save"), "Save"))
    name_en = rubric_item["name"]["en"]
    assert text_of(d, f"panel-item-{first}-name") == name_en
    assert text_of(d, f"crit-{ordered[0]['code']}-text") == ordered[0]["text"]["en"]
    assert untranslated(d) == []
    assert layout_problems(d, ["panel-save", "panel-hints", "exam-accession"]) == []
    screenshot(d, screenshot_dir, "panel-active-en")


def sign_body(accession: str, signer: str) -> dict:
    # A follow-up case: the bundled sampling rules select every one (5.2).
    return {
        "exam": {
            "accession": accession,
            "modality": "CT",
            "exam_item": "CT胸部平扫",
            "department": "放射科",
            "patient_source": "outpatient",
            "follow_up": True,
            "film_printed": True,
            "reconstruction": False,
            "staff": {"technologist": "A2", "reporting_doctor": signer, "auditing_doctor": "D9"},
            "patient": {"id": "P-E2E", "sex": "M", "age": 61},
            "performed_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        },
        "signer": signer,
    }


def test_sampled_signing_held_until_scored(demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path):
    d = demo_driver
    sign_in(d, "D1")
    gate_url = invoke(d, "session")["gate_url"]
    token = gate_token(tmp_path / "data")
    assert gate_url.startswith("http://127.0.0.1:"), f"the gate API did not start: {gate_url!r}"

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The workstation's call blocks until the panel is settled.
        answer = pool.submit(post_json, f"{gate_url}/v1/sign", sign_body("CT-E2E-GATE-1", "D1"), 120, token)
        overlay = wait_for(d, "gate-overlay")
        assert not answer.done(), "the signature went through before the panel was scored"
        wait_verdicts_ready(d)
        assert text_of(d, "exam-accession") == "CT-E2E-GATE-1"
        assert "赵敏" in text_of(d, "gate-signer")
        assert focused_testid(d) == "panel-save"
        assert layout_problems(d, ["panel-save", "gate-close", "gate-banner"]) == []
        screenshot(d, screenshot_dir, "panel-random-zh-CN")

        press_enter_on_focus(d)
        result = answer.result(timeout=60)
    assert result["decision"] == "go" and result["sampled"] is True
    assert len(result["evaluations"]) == len(
        invoke(d, "exam_detail", {"accession": "CT-E2E-GATE-1"})["evaluations"]
    ) > 0
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element(overlay))
    assert d.find_element(*by_testid("gate-outcome")).get_attribute("data-kind") == "saved"

    # In English this time, and closed without a score: the site's default blocks the signature.
    click(d, "gate-outcome-dismiss")
    click(d, "lang-toggle")
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{gate_url}/v1/sign", sign_body("CT-E2E-GATE-2", "D1"), 120, token)
        wait_for(d, "gate-overlay")
        wait_verdicts_ready(d)
        assert untranslated(d) == []
        assert layout_problems(d, ["panel-save", "gate-close", "gate-banner"]) == []
        screenshot(d, screenshot_dir, "panel-random-en")
        click(d, "gate-close")
        result = answer.result(timeout=60)
    assert result["decision"] == "blocked"
    outcome = wait_for(d, "gate-outcome")
    assert outcome.get_attribute("data-kind") == "blocked"
    assert "refused" in outcome.text
    assert invoke(d, "exam_detail", {"accession": "CT-E2E-GATE-2"})["evaluations"] == []


def test_centralized_queue_in_blind_review(demo_driver: WebDriver, screenshot_dir: Path, roster: list[dict]):
    d = demo_driver
    sign_in(d, "Q1")
    click(d, "nav-centralized")
    wait_for(d, "exam-filters")
    click(d, "filter-blind")
    click(d, "filter-search")
    table = wait_for(d, "exam-table")
    assert table.get_attribute("data-blind") == "true"
    rows = d.find_elements(By.CSS_SELECTOR, '[data-testid^="exam-row-"]')
    assert rows, "the demo department has exams not yet scored"
    assert not d.find_elements(*by_testid("exam-technologist"))
    names = [m["name"] for m in roster]
    assert not [n for n in names if n in table.text], "blind list shows a person"
    assert layout_problems(d, ["queue-start", "filter-search"]) == []

    click(d, "queue-start")
    panel = wait_for(d, "scoring-panel")
    wait_verdicts_ready(d)
    total = int(d.find_element(*by_testid("queue-progress")).get_attribute("data-total"))
    assert text_of(d, "queue-progress") == f"第 1 / {total} 例"
    assert panel.get_attribute("data-blind") == "true"
    # Nobody is named: not the person scored, not the exam's staff.
    assert not d.find_elements(By.CSS_SELECTOR, '[data-testid^="exam-staff-"]')
    assert not d.find_elements(By.CSS_SELECTOR, '[data-testid^="person-"][data-testid$="-name"]')
    assert not [n for n in names if n in panel.text]
    assert layout_problems(d, ["panel-save", "queue-skip", "queue-progress", "queue-exit"]) == []
    screenshot(d, screenshot_dir, "queue-blind-zh-CN")

    first = text_of(d, "exam-accession")
    press_enter_on_focus(d)
    WebDriverWait(d, WAIT_S).until(lambda x: text_of(x, "exam-accession") != first)
    assert text_of(d, "queue-progress") == f"第 2 / {total} 例"
    saved = invoke(d, "exam_detail", {"accession": first})["evaluations"]
    assert saved and {e["mode"] for e in saved} == {"centralized"}
    wait_verdicts_ready(d)
    assert focused_testid(d) == "panel-save"

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("queue-progress"), "Exam 2"))
    assert untranslated(d) == []
    assert layout_problems(d, ["panel-save", "queue-skip", "queue-progress", "queue-exit"]) == []
    screenshot(d, screenshot_dir, "queue-blind-en")


def test_technologist_sees_only_items_they_may_score(
    demo_driver: WebDriver, rubric_data: dict, grants: dict, screenshot_dir: Path
):
    d = demo_driver
    sign_in(d, "A1")
    exam = some_exam(d, modality="DR")
    open_active(d, exam["accession"])
    may = {i["code"] for i in rubric_data["items"] if "technologist" in i["scorer_roles"]}
    may |= set(grants["extra"].get("technologist", []))
    shown = panel_items(d)
    assert shown, "a technologist scores the application form"
    assert set(shown) <= may, f"a technologist is offered {sorted(set(shown) - may)}"
    # Nothing more reachable by hand: the shell refuses to save an item the role may not score.
    with pytest.raises(AssertionError, match="NOT_PERMITTED"):
        invoke(
            d,
            "save_evaluations",
            {
                "request": {
                    "accession": exam["accession"],
                    "mode": "active",
                    "items": [{"item": "IQ", "findings": [], "not_applicable": [], "note": ""}],
                }
            },
        )

    # 我的质控: the demo's image-quality scores of this technologist's work.
    click(d, "active-close")
    click(d, "nav-mine")
    wait_for(d, "my-qc")
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_elements(*by_testid("mine-scores-row")) or x.find_elements(*by_testid("mine-scores-empty"))
    )
    assert untranslated(d) == []
    assert layout_problems(d, ["mine-refresh"]) == []
    screenshot(d, screenshot_dir, "mine-zh-CN")


def test_sync_screen(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "D1")
    click(d, "nav-sync")
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid("sync")).get_attribute("data-state") == "loaded"
    )
    # A new demo store is not enrolled: its seeded scores wait in the outbox.
    assert int(text_of(d, "sync-pending")) > 0
    wait_for(d, "enroll")
    assert d.find_element(*by_testid("sync-now")).get_attribute("disabled") is not None
    assert layout_problems(d, ["sync-status", "enroll-submit"]) == []
    screenshot(d, screenshot_dir, "sync-zh-CN")
    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("sync-now"), "Sync now"))
    assert untranslated(d) == []
    assert layout_problems(d, ["sync-status", "enroll-submit"]) == []
    screenshot(d, screenshot_dir, "sync-en")


def test_full_disk_is_shown_as_not_saved(demo_driver: WebDriver, screenshot_dir: Path):
    """How the window shows DISK_FULL. A full disk cannot be made on demand here (the store's
    own test fills one), so the page's IPC transport answers save_evaluations with the store's
    envelope; everything else is the real shell."""
    d = demo_driver
    sign_in(d, "D1")
    exam = some_exam(d, evaluated=False, modality="MR")
    open_active(d, exam["accession"])
    # The IPC's transport is a fetch to ipc://localhost/<command>: answer that one command as
    # the shell does on failure (Tauri-Response: error, the envelope as JSON).
    d.execute_script(
        """
        const realFetch = window.fetch.bind(window);
        window.fetch = (input, init) => String(input).endsWith("/save_evaluations")
          ? Promise.resolve(new Response(JSON.stringify({
              code: "DISK_FULL",
              message_zh: "磁盘已满：评分未写入",
              message_en: "the disk is full: the score was not written",
            }), { headers: { "Content-Type": "application/json", "Tauri-Response": "error" } }))
          : realFetch(input, init);
        """
    )
    press_enter_on_focus(d)
    error = wait_for(d, "panel-error")
    assert error.get_attribute("data-code") == "DISK_FULL"
    assert "没有保存" in text_of(d, "panel-error-title")
    # Nothing was saved, the panel stays open with the marks, Save focused for a retry.
    assert d.find_element(*by_testid("scoring-panel")).get_attribute("data-state") == "editing"
    assert focused_testid(d) == "panel-save"
    assert invoke(d, "exam_detail", {"accession": exam["accession"]})["evaluations"] == []
    assert layout_problems(d, ["panel-error", "panel-save"]) == []
    screenshot(d, screenshot_dir, "panel-disk-full-zh-CN")

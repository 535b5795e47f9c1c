"""The gold standard (7.3.1) in the real window, on a fresh demo department: 吴强 (D9, a senior
radiologist) reads his blind first read by keyboard and submits it, and opens his third read
with the two blind reads 甲 and 乙; the technologist whose failed score a gold result replaced
sees the change in 我的质控; 赵敏 (D1) disputes a failed score with a reason; and 郑丽 (Q1) sees
the report's reader agreement with the kappa that has no value shown as undefined. Screenshots
at 1366x768 in Chinese and English go to artifacts/screenshots/ and are checked for cut-off,
covered or untranslated parts."""

from __future__ import annotations

from datetime import datetime
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
    invoke,
    layout_problems,
    screenshot,
    sign_in,
    text_of,
    untranslated,
    wait_for,
)

# The demo's tasks for D9 (crates/radqc-app/src/demo.rs, seed_gold).
FIRST = "demo-gold-ct"
THIRD = "demo-gold-dr"
# The demo's evaluations and its gold result are dated in the current month.
MONTH = datetime.now().strftime("%Y-%m")
THIS_MONTH = {"from": MONTH, "to": MONTH}
# Presses of Tab (or Shift+Tab) within which a control must be reached.
TAB_LIMIT = 60


def tab_until(driver: WebDriver, testid: str, back: bool = False) -> list[str | None]:
    """Presses Tab (Shift+Tab with `back`) until `testid` has focus; the test ids passed on the
    way. Fails when it is not reached within TAB_LIMIT presses: not reachable by keyboard."""
    seen: list[str | None] = []
    for _ in range(TAB_LIMIT):
        if focused_testid(driver) == testid:
            return seen
        keys = (Keys.SHIFT, Keys.TAB) if back else (Keys.TAB,)
        driver.switch_to.active_element.send_keys(*keys)
        seen.append(focused_testid(driver))
    raise AssertionError(f"{testid} not reached by {'Shift+' if back else ''}Tab: passed {seen}")


def ordered_criteria(rubric_data: dict, item: str) -> list[dict]:
    """An item's criteria in the panel's order (severe first): digit n toggles the n-th."""
    criteria = next(i for i in rubric_data["items"] if i["code"] == item)["criteria"]
    return [c for c in criteria if c["kind"] == "severe"] + [c for c in criteria if c["kind"] == "compliance"]


def open_gold(driver: WebDriver) -> None:
    click(driver, "nav-gold")
    wait_for(driver, "gold-tasks")


def sign_out(driver: WebDriver) -> None:
    click(driver, "sign-out")
    wait_for(driver, "sign-in")


def test_gold_reader_reads_blind_by_keyboard(demo_driver: WebDriver, screenshot_dir: Path, rubric_data: dict):
    d = demo_driver
    sign_in(d, "D9")
    assert invoke(d, "session")["reads_gold"], "吴强 is a senior radiologist: a gold reader"
    open_gold(d)
    tasks = invoke(d, "gold_tasks")
    assert [(t["case_id"], t["task"]) for t in tasks] == [(FIRST, "first"), (THIRD, "third")]
    rows = d.find_elements(*by_testid("gold-task-row"))
    assert [(r.get_attribute("data-case"), r.get_attribute("data-status")) for r in rows] == [
        (FIRST, "waiting"),
        (THIRD, "waiting"),
    ]
    assert "第一读" in rows[0].text and "第三读（裁定）" in rows[1].text
    assert "CLINIC07-CT-0412" in rows[0].text and "待读" in rows[0].text
    assert untranslated(d) == []
    assert layout_problems(d, ["gold-tasks", f"gold-open-{THIRD}"]) == []
    screenshot(d, screenshot_dir, "gold-tasks-zh-CN")

    # To the first task's button by Tab alone, and open it with Enter.
    d.execute_script("arguments[0].focus();", d.find_element(*by_testid("nav-gold")))  # where Tab starts
    tab_until(d, f"gold-open-{FIRST}")
    d.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(d, "gold-panel")
    WebDriverWait(d, WAIT_S).until(lambda x: focused_testid(x) == "gold-save")
    # Blind: the region hides the person scored; the reader sees neither read nor original score.
    assert text_of(d, "exam-blind") == "已隐去被评人姓名"
    assert "已隐去" in text_of(d, "person-IQ")
    assert not d.find_elements(*by_testid("gold-blind-reads"))
    WebDriverWait(d, WAIT_S).until(lambda x: x.find_element(*by_testid("verdict-IQ")).get_attribute("data-score") == "5")

    # Every control of the read is reachable by Shift+Tab from Save, and Tab brings focus back.
    passed = tab_until(d, "crit-IQ-S1-check", back=True)
    criteria = ordered_criteria(rubric_data, "IQ")
    for c in criteria:
        for control in ("check", "na"):
            assert f"crit-{c['code']}-{control}" in passed, f"{c['code']}'s {control} is not reachable by Tab: {passed}"
    assert "note-IQ" in passed and "gold-back" in passed
    tab_until(d, "gold-save")

    # The first compliance criterion by its digit: met → unmet, one deduction: 4 分.
    n = next(i for i, c in enumerate(criteria, 1) if c["kind"] == "compliance")
    unmet = criteria[n - 1]["code"]
    d.switch_to.active_element.send_keys(str(n))
    WebDriverWait(d, WAIT_S).until(
        lambda x: x.find_element(*by_testid(f"crit-{unmet}")).get_attribute("data-state") == "unmet"
    )
    WebDriverWait(d, WAIT_S).until(lambda x: x.find_element(*by_testid("verdict-IQ")).get_attribute("data-score") == "4")
    assert "4 分 · 良好" in text_of(d, "verdict-IQ")
    assert focused_testid(d) == "gold-save"
    assert untranslated(d) == []
    assert layout_problems(d, ["gold-save", "gold-back", "gold-hints", "exam-accession"]) == []
    screenshot(d, screenshot_dir, "gold-first-read-zh-CN")

    d.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(d, "gold-saved")
    assert "已提交：4 分 · 良好" in text_of(d, "gold-saved")
    read = next(t for t in invoke(d, "gold_tasks") if t["case_id"] == FIRST)["read"]
    assert read is not None, "the read is in the store"
    assert (read["findings"], read["score"], read["reader"], read["task"]) == ([unmet], 4, "D9", "first")
    assert layout_problems(d, ["gold-saved", "gold-back"]) == []
    screenshot(d, screenshot_dir, "gold-first-read-saved-zh-CN")

    # Back to the list (focus is on the way back): the task is submitted, with its score.
    WebDriverWait(d, WAIT_S).until(lambda x: focused_testid(x) == "gold-back")
    d.switch_to.active_element.send_keys(Keys.ENTER)
    row = WebDriverWait(d, WAIT_S).until(
        lambda x: next(
            (r for r in x.find_elements(*by_testid("gold-task-row")) if r.get_attribute("data-case") == FIRST), None
        )
    )
    assert row.get_attribute("data-status") == "submitted"
    assert "已提交 · 4 分 · 良好" in row.text

    # The third read: the two blind reads 甲 and 乙 side by side, never the readers' names.
    click(d, f"gold-open-{THIRD}")
    wait_for(d, "gold-blind-reads")
    assert text_of(d, "gold-panel-task") == "第三读（裁定）"
    third = next(t for t in tasks if t["case_id"] == THIRD)
    a, b = (d.find_element(*by_testid(f"gold-blind-read-{i}")) for i in (0, 1))
    assert (a.get_attribute("data-label"), b.get_attribute("data-label")) == ("甲", "乙")
    for i, r in enumerate(third["reads"]):
        assert d.find_element(*by_testid(f"gold-blind-read-{i}")).get_attribute("data-score") == str(r["score"])
        for code in r["findings"]:
            assert code in text_of(d, f"gold-blind-read-{i}")
    side_by_side = d.execute_script(
        "const [a, b] = [0, 1].map((i) => document.querySelector(`[data-testid=\"gold-blind-read-${i}\"]`)"
        ".getBoundingClientRect()); return Math.abs(a.top - b.top) < 1 && a.right <= b.left;"
    )
    assert side_by_side, "甲 and 乙 sit side by side"
    roster = {s["code"]: s["name"] for s in invoke(d, "roster")}
    reads_text = text_of(d, "gold-blind-reads")
    assert not [n for n in roster.values() if n in reads_text], "no reader's name in the blind reads"
    assert untranslated(d) == []
    assert layout_problems(d, ["gold-save", "gold-blind-read-0", "gold-blind-read-1"]) == []
    screenshot(d, screenshot_dir, "gold-third-read-zh-CN")

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("gold-panel-task"), "Third read"))
    assert "Read 甲" in text_of(d, "gold-blind-read-0-label")
    assert untranslated(d) == []
    assert layout_problems(d, ["gold-save", "gold-blind-read-0", "gold-blind-read-1"]) == []
    screenshot(d, screenshot_dir, "gold-third-read-en")

    # The list in English, one task submitted.
    click(d, "gold-back")
    wait_for(d, "gold-tasks")
    assert "Submitted · 4 · Good" in text_of(d, "gold-tasks")
    assert "Third read (decides)" in text_of(d, "gold-tasks")
    assert untranslated(d) == []
    assert layout_problems(d, ["gold-tasks", f"gold-open-{THIRD}"]) == []
    screenshot(d, screenshot_dir, "gold-tasks-en")


def test_gold_change_in_my_qc(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    # Whose score the demo's gold result replaced: the QC officer's report lists the gold result.
    sign_in(d, "Q1")
    gold = invoke(d, "report_evaluations", {"scope": {**THIS_MONTH, "mode": "gold"}, "drill": {"group": "technologists"}})
    assert len(gold) == 1, f"the demo has one gold result this month: {gold}"
    technologist = gold[0]["scored_person"]
    sign_out(d)
    assert not invoke(d, "session")["user"]

    sign_in(d, technologist)
    assert "nav-gold" not in [e.get_attribute("data-testid") for e in d.find_elements(By.CSS_SELECTOR, ".app-nav__tab")]
    click(d, "nav-mine")
    wait_for(d, "mine-gold-replaced")
    mine = invoke(d, "my_scores")
    original = next(s for s in mine if s["replaced_by_gold"])
    result = next(s for s in mine if s["gold_case"])
    change = original["replaced_by_gold"]
    assert change["evaluation_id"] == result["id"] and result["mode"] == "gold"
    expected = f"金标准复核：原 {original['score']} 分 → {change['score']} 分"
    tag = d.find_element(By.CSS_SELECTOR, f'[data-testid="mine-scores-row"][data-id="{original["id"]}"] [data-testid="mine-gold-replaced"]')
    assert tag.text.strip() == expected
    gold_tag = d.find_element(By.CSS_SELECTOR, f'[data-testid="mine-scores-row"][data-id="{result["id"]}"] [data-testid="mine-gold-result"]')
    assert gold_tag.text.strip() == "金标准结果"
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", tag)
    assert untranslated(d) == []
    assert layout_problems(d, ["mine-gold-replaced"]) == []
    screenshot(d, screenshot_dir, "mine-gold-change-zh-CN")

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("mine-gold-replaced"), "Gold-standard review"))
    # The longer English texts reflow the table: the row moved.
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", tag)
    assert untranslated(d) == []
    assert layout_problems(d, ["mine-gold-replaced"]) == []
    screenshot(d, screenshot_dir, "mine-gold-change-en")


def test_dispute_a_failed_score(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "D1")
    click(d, "nav-mine")
    wait_for(d, "mine-dispute")
    disputable = [s for s in invoke(d, "my_scores") if s["disputable_until"]]
    assert disputable and all(not s["pass"] for s in disputable), "only failed scores may be disputed"
    button = d.find_element(*by_testid("mine-dispute"))
    row = button.find_element(By.XPATH, "./ancestor::tr")
    evaluation = row.get_attribute("data-id")
    assert evaluation in [s["id"] for s in disputable]
    assert row.find_element(*by_testid("mine-dispute-until")).text.startswith("截止 ")
    button.click()

    reason_box = wait_for(d, "dispute-dialog").find_element(By.TAG_NAME, "textarea")
    # The dialog opens on the reason; sending is refused until there is one.
    WebDriverWait(d, WAIT_S).until(lambda x: x.switch_to.active_element == reason_box)
    assert not d.find_element(*by_testid("dispute-send")).is_enabled()
    reason = "摆位符合要求，图像模糊来自患者移动，已在检查单上注明。"
    reason_box.send_keys(reason)
    assert d.find_element(*by_testid("dispute-send")).is_enabled()
    assert untranslated(d) == []
    screenshot(d, screenshot_dir, "mine-dispute-dialog-zh-CN")
    reason_box.send_keys(Keys.CONTROL, Keys.ENTER)

    wait_for(d, "mine-dispute-done")
    disputed = WebDriverWait(d, WAIT_S).until(
        EC.visibility_of_element_located(
            (By.CSS_SELECTOR, f'[data-testid="mine-scores-row"][data-id="{evaluation}"] [data-testid="mine-disputed"]')
        )
    )
    assert disputed.text.strip() == "申诉中"
    score = next(s for s in invoke(d, "my_scores") if s["id"] == evaluation)
    assert score["dispute"]["reason"] == reason and score["dispute"]["by"] == "D1"
    assert score["disputable_until"] is None, "a score is disputed once"
    assert not d.find_elements(
        By.CSS_SELECTOR, f'[data-testid="mine-scores-row"][data-id="{evaluation}"] [data-testid="mine-dispute"]'
    )
    assert untranslated(d) == []
    assert layout_problems(d, ["mine-dispute-done"]) == []
    screenshot(d, screenshot_dir, "mine-disputed-zh-CN")


def test_report_reader_agreement(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "Q1")
    click(d, "nav-reports")
    wait_for(d, "report-indicators")
    agreement = invoke(d, "report_view", {"scope": THIS_MONTH})["agreement"]
    assert agreement["cases"] == 1, f"the demo's one final gold case this month: {agreement}"

    tab = d.find_element(By.ID, "tab-agreement")
    assert tab.text.strip() == "读片一致性"
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", tab)
    WebDriverWait(d, WAIT_S).until(EC.element_to_be_clickable((By.ID, "tab-agreement"))).click()
    wait_for(d, "agreement")
    assert "1 例" in text_of(d, "agreement-summary")
    # One case: its kappa has no value (no variance) and says so, never 1 or 0.
    undefined = [e for e in d.find_elements(By.CSS_SELECTOR, '[data-testid="agreement"] [data-undefined]') if e.is_displayed()]
    assert undefined, "an undefined kappa is shown"
    for e in undefined:
        assert e.text.strip() == "无法计算（无变异）", e.text
    kappas = [e.text.strip() for e in d.find_elements(By.CSS_SELECTOR, '[data-testid$="-kappa"]') if e.is_displayed()]
    assert kappas and not [k for k in kappas if k in ("1", "0", "1.000", "0.000")], kappas
    # Each figure with its cases.
    for name, rows in (("byItem", agreement["by_item"]), ("byModality", agreement["by_modality"]), ("byPair", agreement["by_pair"])):
        shown = d.find_elements(*by_testid(f"agreement-{name}-row"))
        assert [r.get_attribute("data-key") for r in shown] == [r["key"] for r in rows]
        for el, row in zip(shown, rows):
            figure = row["scores"] or row["verdicts"]
            assert el.find_element(By.CSS_SELECTOR, '[data-testid$="-cases"]').text.strip() == str(figure["cases"])
    reviewers = d.find_elements(*by_testid("agreement-reviewers-row"))
    assert [r.get_attribute("data-key") for r in reviewers] == [r["reviewer"] for r in agreement["reviewers"]]
    assert untranslated(d) == []
    d.execute_script("document.querySelector('.app-main').scrollTop = 0;")
    assert layout_problems(d, ["agreement-summary"]) == []
    screenshot(d, screenshot_dir, "reports-agreement-zh-CN")
    d.execute_script("arguments[0].scrollIntoView({block: 'end'});", d.find_element(*by_testid("agreement-reviewers")))
    assert layout_problems(d, ["agreement-reviewers"]) == []
    screenshot(d, screenshot_dir, "reports-agreement-reviewers-zh-CN")
    d.execute_script("document.querySelector('.app-main').scrollTop = 0;")

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element((By.ID, "tab-agreement"), "Reader agreement"))
    for e in undefined:
        assert e.text.strip() == "undefined (no variance)"
    assert untranslated(d) == []
    assert layout_problems(d, ["agreement-summary"]) == []
    screenshot(d, screenshot_dir, "reports-agreement-en")

    # Figure 3 marks the gold result.
    click(d, "lang-toggle")
    tab = d.find_element(By.ID, "tab-details")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", tab)
    WebDriverWait(d, WAIT_S).until(EC.element_to_be_clickable((By.ID, "tab-details"))).click()
    gold_rows = [r for r in d.find_elements(*by_testid("fig3-row")) if r.get_attribute("data-mode") == "gold"]
    assert gold_rows, "the demo's gold result has a deduction: figure 3 lists it"
    for r in gold_rows:
        assert r.find_element(*by_testid("fig3-gold")).text.strip() == "金标准"
    plain = [r for r in d.find_elements(*by_testid("fig3-row")) if r.get_attribute("data-mode") != "gold"]
    assert not [r for r in plain if r.find_elements(*by_testid("fig3-gold"))]
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", gold_rows[0])
    screenshot(d, screenshot_dir, "reports-fig3-gold-zh-CN")

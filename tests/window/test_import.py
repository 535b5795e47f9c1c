"""The worklist import (导入) in the real window, on a fresh demo department: 郑丽 (Q1, the QC
officer) chooses a small CSV with one bad row through the file input, checks it (the bad row is
listed with its row number and reason, nothing written), imports it with 跳过有问题的行, and
importing it again reports 0 new rows; a technologist has no 导入 tab. Screenshots at 1366x768 in
Chinese and English go to artifacts/screenshots/ and are checked for cut-off, covered or
untranslated parts."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from helpers import (
    WAIT_S,
    by_testid,
    click,
    invoke,
    layout_problems,
    screenshot,
    sign_in,
    untranslated,
    wait_for,
)

CSV = """检查号,检查类型,检查部位,申请科室,病人来源,患者ID,性别,年龄,技师,检查时间,状态
WIN-IMP-1,CT,CT胸部平扫,呼吸内科,门诊,P000001,男,54,A2,2026-11-19 09:30,已检查
WIN-IMP-2,ct scan,CT头颅平扫,神经内科,急诊,P000002,女,61,A2,2026-11-19 10:00,已检查
WIN-IMP-3,DR,胸部正位,呼吸内科,住院,P000003,女,37,A1,2026-11-19 10:30,已检查
"""


def summary(driver: WebDriver) -> tuple[int, int, int, int]:
    s = driver.find_element(*by_testid("import-summary"))
    return tuple(int(s.get_attribute(f"data-{k}")) for k in ("rows", "new", "unchanged", "bad"))


def known(driver: WebDriver, accession: str) -> bool:
    """Whether the app's store has the exam (asked through the shell, as the screens ask)."""
    try:
        invoke(driver, "exam_detail", {"accession": accession})
        return True
    except AssertionError as refused:
        assert "UNKNOWN_EXAM" in str(refused), refused
        return False


def press(driver: WebDriver, testid: str, outcome: str) -> None:
    """Presses `testid` and waits for a report of `outcome` (callers make it differ from the
    report shown before, so the wait sees the new answer)."""
    click(driver, testid)
    WebDriverWait(driver, WAIT_S).until(
        lambda d: [e.get_attribute("data-outcome") for e in d.find_elements(*by_testid("import-outcome"))] == [outcome]
    )


def test_the_qc_officer_checks_and_imports_a_worklist(demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path):
    d = demo_driver
    sign_in(d, "A1")
    assert not d.find_elements(*by_testid("nav-import")), "a technologist has no 导入 tab"
    click(d, "sign-out")
    wait_for(d, "sign-in")

    sign_in(d, "Q1")
    tabs = [t.get_attribute("data-testid") for t in d.find_elements("css selector", ".app-nav__tab")]
    assert tabs.index("nav-import") == tabs.index("nav-reports") + 1, f"导入 next to 报表: {tabs}"
    click(d, "nav-import")
    wait_for(d, "import")

    worklist = tmp_path / "登记表.csv"
    worklist.write_text(CSV, encoding="utf-8")
    # The window runs on this machine: the path is typed into the file input as it is (Selenium
    # would otherwise upload it through /se/file, which WebKitWebDriver does not have).
    d.file_detector = UselessFileDetector()
    d.find_element(*by_testid("import-file")).send_keys(str(worklist.resolve()))

    wait_for(d, "import-file-name")
    name = d.find_element(*by_testid("import-file-name"))
    WebDriverWait(d, WAIT_S).until(lambda _: name.get_attribute("textContent") == "登记表.csv")
    press(d, "import-check", "checked")
    assert summary(d) == (3, 2, 0, 1), "three rows: two new, one bad"
    rows = d.find_elements(*by_testid("import-bad-row"))
    assert [r.get_attribute("data-row") for r in rows] == ["3"], "the bad row by its row in the file"
    assert "检查类型" in rows[0].text, f"the reason names the column: {rows[0].text}"
    assert "不是设备类型" in rows[0].text, f"the reason is in the screen's language: {rows[0].text}"
    assert not known(d, "WIN-IMP-1"), "a check writes nothing"
    assert untranslated(d) == []
    assert layout_problems(d, ["import-choose", "import-file-name", "import-check", "import-run", "import-bad"]) == []
    screenshot(d, screenshot_dir, "import-checked-zh-CN")

    press(d, "import-run", "refused")
    assert not known(d, "WIN-IMP-1"), "bad rows without skipping: nothing is written"

    click(d, "import-skip-bad")
    press(d, "import-run", "imported")
    assert summary(d) == (3, 2, 0, 1)
    assert known(d, "WIN-IMP-1") and known(d, "WIN-IMP-3"), "the two good rows are exams"
    assert not known(d, "WIN-IMP-2"), "the bad one is not"
    screenshot(d, screenshot_dir, "import-imported-zh-CN")

    press(d, "import-check", "checked")  # another outcome in between: the next report is new
    assert summary(d) == (3, 0, 2, 1), "a check now finds both good rows imported"
    press(d, "import-run", "imported")
    assert summary(d) == (3, 0, 2, 1), "importing the same file again adds nothing"
    assert "新增 0 行" in d.find_element(*by_testid("import-outcome")).text

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(lambda x: x.find_element(*by_testid("nav-import")).text == "Import")
    assert untranslated(d) == []
    assert layout_problems(d, ["import-choose", "import-file-name", "import-check", "import-run", "import-bad"]) == []
    screenshot(d, screenshot_dir, "import-again-en")

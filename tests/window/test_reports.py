"""The 报表 screen in the real window, on a fresh demo department: the QC officer opens the
month's report, every figure has rows, the charts of figures 6 and 8 are drawn, and a clicked
number opens a drawer listing exactly that many evaluations (or exams). With a filter (modality
CT, then the technologist's role) the figures change to what the shell counts for it, and a
clicked number still lists exactly that many. Screenshots at 1366x768 in Chinese and English go
to artifacts/screenshots/ and are checked for cut-off, covered or untranslated parts. A
technologist does not get the screen."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from helpers import WAIT_S, by_testid, click, invoke, layout_problems, screenshot, sign_in, text_of, untranslated, wait_for

# The demo's evaluations are dated in the current month (crates/radqc-app/src/demo.rs), and the
# screen opens on the workstation's current month.
MONTH = datetime.now().strftime("%Y-%m")
THIS_MONTH = {"from": MONTH, "to": MONTH}


def open_tab(driver: WebDriver, name: str) -> None:
    """An Element Plus tab by its pane name (`#tab-<name>` is the tab's own id), scrolled into view
    (a count clicked lower down scrolled the page), once the closed drawer's overlay is gone."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".el-overlay.is-drawer")
        or not any(o.is_displayed() for o in d.find_elements(By.CSS_SELECTOR, ".el-overlay.is-drawer"))
    )
    tab = driver.find_element(By.ID, f"tab-{name}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", tab)
    WebDriverWait(driver, WAIT_S).until(EC.element_to_be_clickable((By.ID, f"tab-{name}"))).click()
    WebDriverWait(driver, WAIT_S).until(lambda d: tab.get_attribute("aria-selected") == "true")
    driver.execute_script("document.querySelector('.app-main').scrollTop = 0;")


def drill_rows_after_click(driver: WebDriver, button) -> tuple[int, int]:
    """Clicks a count; returns (the number clicked, the rows the drawer lists), then closes it."""
    expected = int(button.get_attribute("data-count"))
    assert button.text.strip() != ""
    button.click()
    body = wait_for(driver, "report-drill-body")
    WebDriverWait(driver, WAIT_S).until(
        lambda d: body.get_attribute("data-loaded") == "true" and d.find_elements(*by_testid("report-drill-count"))
    )
    assert int(body.get_attribute("data-expected")) == expected
    rows = len(driver.find_elements(*by_testid("report-drill-row")))
    return expected, rows


def drawer_layout_problems(driver: WebDriver) -> list[str]:
    """The layout check with the drawer open: the modal drawer covers the header on purpose.
    Waits for the drawer's opening slide to end first (mid-slide it is partly off the window)."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "[class*='el-drawer-fade-enter'], [class*='rtl-enter']")
    )
    # The transition classes can be gone a frame before the slide's last step is painted (seen
    # once in a full run: the drawer still 130px off the right edge); wait until it stays put.
    last: list = [None]

    def settled(d: WebDriver) -> bool:
        rect = d.execute_script(
            "const e = document.querySelector('.el-drawer');"
            "if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.right];"
        )
        still, last[0] = rect is not None and rect == last[0], rect
        return still

    WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(settled)
    problems = layout_problems(driver, ["report-drill-count"])
    return [p for p in problems if not (p.startswith(("app-title is covered", "lang-toggle is covered")))]


def close_drawer(driver: WebDriver) -> None:
    """Closes the drawer with its close button, once its opening transition has ended (a click
    during the transition can be lost)."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "[class*='el-drawer-fade-enter'], [class*='rtl-enter']")
    )
    WebDriverWait(driver, WAIT_S).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".el-drawer__close-btn"))).click()
    WebDriverWait(driver, WAIT_S).until(EC.invisibility_of_element_located(by_testid("report-drill-body")))


def chart_marks(driver: WebDriver, testid: str) -> int:
    """How many bars and labels the chart drew: SVG paths and texts inside its box."""
    return driver.execute_script(
        """
        const box = document.querySelector(`[data-testid="${arguments[0]}"]`);
        const svg = box && box.querySelector('svg');
        if (!svg || svg.getBoundingClientRect().width < 100) return 0;
        return svg.querySelectorAll('path, text').length;
        """,
        testid,
    )


def test_reports_for_the_qc_officer(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "Q1")
    click(d, "nav-reports")
    wait_for(d, "report-indicators")
    report = invoke(d, "report", {"month": MONTH})
    assert invoke(d, "report_view", {"scope": THIS_MONTH}) == report, "the screen's scope of one month is report(month)"

    # 5.1, as the shell computed it.
    ind = report["indicators"]
    assert ind["sampled"] > 0, "the demo month has report-quality evaluations"
    assert text_of(d, "indicator-sampled") == str(ind["sampled"])
    assert text_of(d, "indicator-qualified") == str(ind["qualified"])
    assert text_of(d, "indicator-rate") not in ("", "—")

    # Figure 2: one row per technologist, the failing counts red; a red count drills down.
    rows = d.find_elements(*by_testid("fig2-technologists-row"))
    assert len(rows) == len(report["scores_technologists"]["rows"]) > 0
    red = d.find_elements(By.CSS_SELECTOR, '[data-testid="fig2-technologists"] .report-table__cell--flagged button')
    assert red, "the demo has failing technologist scores: red cells"
    assert layout_problems(d, ["report-indicators", "fig2-technologists"]) == []
    screenshot(d, screenshot_dir, "reports-fig2-zh-CN")
    expected, listed = drill_rows_after_click(d, red[0])
    assert listed == expected, f"a red figure-2 cell of {expected} listed {listed} evaluations"
    assert d.find_elements(By.CSS_SELECTOR, '[data-testid="report-drill-row"].data-table__row--fail')
    assert drawer_layout_problems(d) == []
    screenshot(d, screenshot_dir, "reports-drill-zh-CN")
    close_drawer(d)
    # And the totals row.
    total = d.find_elements(*by_testid("fig2-technologists-total"))[0]
    expected, listed = drill_rows_after_click(d, total)
    assert listed == expected
    close_drawer(d)

    # Figure 3: all deducted evaluations; figure 4: per criterion.
    open_tab(d, "details")
    assert len(d.find_elements(*by_testid("fig3-row"))) == len(report["deduction_details"]) > 0
    assert layout_problems(d, ["fig3-count"]) == []
    screenshot(d, screenshot_dir, "reports-fig3-zh-CN")
    expected, listed = drill_rows_after_click(d, d.find_element(*by_testid("fig3-count")))
    assert listed == expected == report.get("deduction_details_total", len(report["deduction_details"]))
    close_drawer(d)

    open_tab(d, "deductions")
    counts = d.find_elements(*by_testid("fig4-count"))
    assert len(counts) == len([x for x in report["deductions"] if x["count"] > 0]) >= 6
    expected, listed = drill_rows_after_click(d, counts[-1])
    assert listed == expected
    close_drawer(d)

    # Figures 5 and 6: the workload table and its stacked bars; a cell lists the exams.
    open_tab(d, "workload")
    assert len(d.find_elements(*by_testid("fig5-row"))) == len(report["workload"]["rows"]) > 0
    WebDriverWait(d, WAIT_S).until(lambda x: chart_marks(x, "fig6-chart") > 10)
    assert layout_problems(d, ["fig5", "fig6-chart"]) == []
    screenshot(d, screenshot_dir, "reports-workload-zh-CN")
    expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid("fig5-cell"))[0])
    assert listed == expected, f"a workload cell of {expected} listed {listed} exams"
    close_drawer(d)

    # Figures 7 and 8: a rate drills down to the evaluations of its grade.
    open_tab(d, "quality")
    assert len(d.find_elements(*by_testid("fig7-row"))) == len(report["quality_technologists"]) > 0
    WebDriverWait(d, WAIT_S).until(lambda x: chart_marks(x, "fig8-chart") > 10)
    assert layout_problems(d, ["fig7", "fig8-chart"]) == []
    screenshot(d, screenshot_dir, "reports-quality-zh-CN")
    for testid in ("fig7-count", "fig7-rate"):
        expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid(testid))[-1])
        assert listed == expected, f"{testid}: {expected} clicked, {listed} listed"
        close_drawer(d)

    # 6.5: the doctors' scores and quality.
    open_tab(d, "doctors")
    assert len(d.find_elements(*by_testid("fig2-doctors-row"))) == len(report["scores_doctors"]["rows"]) > 0
    assert len(d.find_elements(*by_testid("quality-doctors-row"))) == len(report["quality_doctors"]) > 0
    WebDriverWait(d, WAIT_S).until(lambda x: chart_marks(x, "doctors-chart") > 10)
    expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid("quality-doctors-rate"))[-1])
    assert listed == expected
    close_drawer(d)
    assert untranslated(d) == []
    screenshot(d, screenshot_dir, "reports-doctors-zh-CN")

    # English: the same views, translated, nothing cut off.
    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("nav-reports"), "Reports"))
    for tab, must_show, name in [
        ("scores", ["report-indicators", "fig2-technologists"], "reports-fig2-en"),
        ("details", ["fig3-count"], "reports-fig3-en"),
        ("workload", ["fig5", "fig6-chart"], "reports-workload-en"),
        ("quality", ["fig7", "fig8-chart"], "reports-quality-en"),
        ("doctors", ["fig2-doctors"], "reports-doctors-en"),
    ]:
        open_tab(d, tab)
        wait_for(d, must_show[-1])
        assert untranslated(d) == [], tab
        assert layout_problems(d, must_show) == [], tab
        screenshot(d, screenshot_dir, name)
    open_tab(d, "quality")
    expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid("fig7-count"))[0])
    assert listed == expected
    assert untranslated(d) == []
    assert drawer_layout_problems(d) == []
    screenshot(d, screenshot_dir, "reports-drill-en")
    close_drawer(d)


def test_reports_are_not_for_a_technologist(demo_driver: WebDriver):
    d = demo_driver
    sign_in(d, "A1")
    wait_for(d, "nav-mine")
    assert d.find_elements(*by_testid("nav-reports")) == [], "a technologist sees only their own scores"
    result = d.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        window.__TAURI_INTERNALS__.invoke('report_evaluations', { scope: arguments[0], drill: {} })
          .then((v) => done({ ok: v }), (e) => done({ error: e }));
        """,
        THIS_MONTH,
    )
    assert result.get("error", {}).get("code") == "NOT_PERMITTED", result


def choose(driver: WebDriver, testid: str, value: str) -> None:
    """Picks an option of one of the filter bar's selects, as a reader would."""
    Select(wait_for(driver, testid)).select_by_value(value)


def wait_for_report(driver: WebDriver, expected: dict) -> None:
    """Waits until the screen shows the report `expected` (the shell's answer for the scope the
    filter bar should now send): its 5.1 numbers and figure 2's and 5's rows, loaded."""

    def shown(d):
        active = d.find_element(*by_testid("report-active"))
        if active.get_attribute("data-loaded") != "true":
            return False
        ind = expected["indicators"]
        return (
            text_of(d, "indicator-sampled") == str(ind["sampled"])
            and text_of(d, "indicator-qualified") == str(ind["qualified"])
            and len(d.find_elements(*by_testid("fig2-technologists-row"))) == len(expected["scores_technologists"]["rows"])
        )

    WebDriverWait(driver, WAIT_S).until(shown)


def test_report_filters_change_the_figures_and_their_drill_downs(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    sign_in(d, "Q1")
    click(d, "nav-reports")
    wait_for(d, "report-filters")
    whole = invoke(d, "report_view", {"scope": THIS_MONTH})
    wait_for_report(d, whole)
    assert d.find_elements(*by_testid("report-active-none")), "nothing filtered yet, and the screen says so"

    # Modality CT: every view counts CT only.
    ct_scope = {**THIS_MONTH, "modality": "CT"}
    ct = invoke(d, "report_view", {"scope": ct_scope})
    assert 0 < ct["workload"]["total"] < whole["workload"]["total"], "the demo month has CT and other exams"
    assert ct["workload"]["modalities"] == ["CT"]
    assert ct["indicators"]["sampled"] < whole["indicators"]["sampled"], "some sampled cases are not CT"
    choose(d, "report-filter-modality", "CT")
    wait_for_report(d, ct)
    # The chip fades in: its text reads empty until it is shown.
    WebDriverWait(d, WAIT_S).until(lambda d: "CT" in text_of(d, "report-active-modality"))
    modality_rows = d.find_elements(*by_testid("breakdown-byModality-row"))
    assert [r.find_element(By.TAG_NAME, "td").text for r in modality_rows] == ["CT"]
    header = d.find_element(*by_testid("fig2-technologists")).find_element(By.TAG_NAME, "thead").text
    assert "CT" in header and "DR" not in header and "MR" not in header, header
    assert layout_problems(d, ["report-filters", "report-active", "report-breakdowns", "fig2-technologists"]) == []
    assert untranslated(d) == []
    screenshot(d, screenshot_dir, "reports-filtered-zh-CN")
    for button in [
        d.find_elements(*by_testid("fig2-technologists-total"))[0],
        d.find_elements(By.CSS_SELECTOR, '[data-testid="fig2-technologists"] button.report-count')[0],
    ]:
        expected, listed = drill_rows_after_click(d, button)
        assert listed == expected, f"CT: {expected} clicked, {listed} listed"
        modalities = {r.find_elements(By.TAG_NAME, "td")[2].text for r in d.find_elements(*by_testid("report-drill-row"))}
        assert modalities == {"CT"}, f"the drill-down stays within the filter: {modalities}"
        close_drawer(d)
    open_tab(d, "workload")
    assert len(d.find_elements(*by_testid("fig5-row"))) == len(ct["workload"]["rows"]) > 0
    expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid("fig5-total"))[0])
    assert listed == expected, f"CT workload: {expected} clicked, {listed} exams listed"
    close_drawer(d)

    # And the technologist's role: the doctors' figures empty, 5.1 (exams) as for CT alone.
    tech = invoke(d, "report_view", {"scope": {**ct_scope, "role": "technologist"}})
    assert tech["indicators"] == ct["indicators"], "the role scored does not restrict sampled cases"
    assert tech["quality_doctors"] == [] and tech["quality_technologists"]
    choose(d, "report-filter-role", "technologist")
    WebDriverWait(d, WAIT_S).until(lambda x: x.find_elements(*by_testid("report-active-role")))
    wait_for_report(d, tech)
    wait_for(d, "indicator-note")
    open_tab(d, "doctors")
    wait_for(d, "quality-doctors-empty")
    open_tab(d, "quality")
    assert len(d.find_elements(*by_testid("fig7-row"))) == len(tech["quality_technologists"])
    expected, listed = drill_rows_after_click(d, d.find_elements(*by_testid("fig7-count"))[0])
    assert listed == expected
    close_drawer(d)

    # English: the bar, the chips and the breakdowns translated, nothing cut off.
    open_tab(d, "scores")
    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("nav-reports"), "Reports"))
    WebDriverWait(d, WAIT_S).until(lambda x: text_of(x, "report-active-role") == "Role scored: Technologist")
    assert untranslated(d) == []
    assert layout_problems(d, ["report-filters", "report-active", "report-breakdowns", "fig2-technologists"]) == []
    screenshot(d, screenshot_dir, "reports-filtered-en")

    # Reset: the whole month again.
    click(d, "report-filter-reset")
    wait_for_report(d, whole)
    wait_for(d, "report-active-none")

    # Several months: a range typed into the start picker; 5.1 gets its table by month.
    year, month = (int(x) for x in MONTH.split("-"))
    previous = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    two = invoke(d, "report_view", {"scope": {"from": previous, "to": MONTH}})
    assert two["period"] == f"{previous}..{MONTH}"
    choose(d, "report-filter-span", "range")
    start = d.find_elements(By.CSS_SELECTOR, ".report-filters .reports__month input")[0]
    start.click()
    start.send_keys(Keys.CONTROL, "a")
    start.send_keys(previous, Keys.ENTER)
    WebDriverWait(d, WAIT_S).until(lambda x: previous in text_of(x, "report-active-period"))
    wait_for_report(d, two)
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)  # the picker's panel, if still open
    months = [r.find_element(By.TAG_NAME, "td").text for r in wait_for(d, "breakdown-byMonth").find_elements(By.TAG_NAME, "tr")[1:]]
    assert months == [r["key"] for r in two["indicators"]["by_month"]]
    open_tab(d, "scores")
    assert untranslated(d) == []
    assert layout_problems(d, ["report-filters", "report-breakdowns", "breakdown-byMonth"]) == []
    screenshot(d, screenshot_dir, "reports-range-en")

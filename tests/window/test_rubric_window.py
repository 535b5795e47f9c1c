"""Smoke test of the real desktop window: the rubric arrives over IPC and shows in both languages."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from helpers import WAIT_S, after_two_frames, by_testid, layout_problems, text_of, untranslated

# The standard's wording (Appendix A), which must reach the screen verbatim.
IQ_S1_ZH = "检查技术选择、摆放位置不当或操作过失，无诊断价值"


def wait_for_rubric(driver: WebDriver) -> None:
    # The window opens on sign-in; the rubric is public reference, one tab away.
    WebDriverWait(driver, WAIT_S).until(EC.element_to_be_clickable(by_testid("nav-rubric"))).click()
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.find_element(*by_testid("rubric")).get_attribute("data-state") != "loading"
    )
    state = driver.find_element(*by_testid("rubric")).get_attribute("data-state")
    if state == "error":
        raise AssertionError(f"the rubric command failed: {text_of(driver, 'rubric-error')}")


def test_rubric_in_chinese_then_english(driver: WebDriver, rubric_data: dict, screenshot_dir: Path):
    # The shipped build serves the embedded UI, not a dev server (that would test something else).
    assert driver.current_url.startswith(("tauri://localhost", "http://tauri.localhost")), (
        f"window loaded {driver.current_url}, not the embedded front-end"
    )
    size = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    # The layout promise is for 1366x768, the window's configured size.
    assert size == [1366, 768], f"window viewport is {size}, not 1366x768"

    wait_for_rubric(driver)
    assert driver.title == "RadQC 影像质控"

    # Chinese first: the standard's text, verbatim, from the rubric data over IPC.
    assert text_of(driver, "criterion-IQ-S1-text") == IQ_S1_ZH
    # IQ-S1 is severe: it sits in IQ's severe group, apart from the compliance criteria.
    severe = driver.find_element(*by_testid("criteria-IQ-severe"))
    assert severe.find_elements(*by_testid("criterion-IQ-S1")), "IQ-S1 not in IQ's severe group"

    # Every criterion of the data file is on screen, and nothing else claims to be one.
    expected = sorted(c["code"] for item in rubric_data["items"] for c in item["criteria"])
    shown = sorted(
        el.get_attribute("data-testid").removeprefix("criterion-")
        for el in driver.find_elements(By.CSS_SELECTOR, "li.criterion")
    )
    assert shown == expected

    # Roles, kinds and `applies` values from the real data all have catalog entries.
    assert untranslated(driver) == []
    assert layout_problems(driver) == []
    after_two_frames(driver)
    assert driver.save_screenshot(str(screenshot_dir / "rubric-zh-CN.png"))

    # The last item, scrolled into view: the content area scrolls, the header stays.
    driver.execute_script("document.querySelector('.app-main').scrollTo(0, 1e6)")
    last = rubric_data["items"][-1]["code"]
    assert driver.find_element(*by_testid(f"item-{last}")).is_displayed()
    assert driver.find_element(*by_testid("lang-toggle")).is_displayed()
    after_two_frames(driver)
    assert driver.save_screenshot(str(screenshot_dir / "rubric-zh-CN-end.png"))
    driver.execute_script("document.querySelector('.app-main').scrollTo(0, 0)")

    # English: the toggle switches UI strings and rubric texts together.
    iq = next(item for item in rubric_data["items"] if item["code"] == "IQ")
    iq_s1_en = next(c["text"]["en"] for c in iq["criteria"] if c["code"] == "IQ-S1")
    driver.find_element(*by_testid("lang-toggle")).click()
    WebDriverWait(driver, WAIT_S).until(
        EC.text_to_be_present_in_element(by_testid("criterion-IQ-S1-text"), iq_s1_en)
    )
    assert text_of(driver, "criterion-IQ-S1-text") == iq_s1_en
    assert text_of(driver, "item-IQ-name") == iq["name"]["en"]
    assert text_of(driver, "lang-toggle") == "中文"
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert untranslated(driver) == []

    assert layout_problems(driver) == []
    after_two_frames(driver)
    assert driver.save_screenshot(str(screenshot_dir / "rubric-en.png"))

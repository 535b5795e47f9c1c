"""Signing in with a secret, in the real window: a wrong secret refused in words, the person
locked out at this workstation after the policy's attempts (then refused even with the right
one), an administrator's initial secret that must be replaced (the change form, the policy's
rules, a weak one refused), the session locking when idle (only the same person's secret opens
it; any command answers SESSION_LOCKED meanwhile), and a held signing's panel over the lock
prompt, which its signer scores without unlocking."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import _window
from helpers import (
    DEMO_SECRET,
    RADQC,
    WAIT_S,
    by_testid,
    center_serving,
    click,
    empty,
    focused_testid,
    gate_token,
    invoke,
    layout_problems,
    pick_person,
    post_json,
    radqc,
    screenshot,
    sign_in,
    text_of,
    type_secret,
    untranslated,
    wait_for,
)

# The desktop binary's shortest idle time (`--idle-lock`, at least 5 s).
IDLE_LOCK_S = 5


def wait_text(driver: WebDriver, testid: str, text: str, timeout: float = WAIT_S) -> str:
    """Waits for `text` in the element `testid`; on a timeout, says what the page showed."""
    try:
        WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element(by_testid(testid), text))
    except Exception as e:  # noqa: BLE001 - the page's text is the useful part of the failure
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"no {text!r} in {testid}; the page says:\n{body}") from e
    return text_of(driver, testid)


def wait_shown(driver: WebDriver, testid: str, timeout: float = WAIT_S):
    """`wait_for`, saying what the page showed instead on a timeout."""
    try:
        return wait_for(driver, testid, timeout)
    except Exception as e:  # noqa: BLE001 - the page's text is the useful part of the failure
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"no {testid}; the page says:\n{body}") from e


@pytest.fixture
def idle_driver(tauri_driver, app_binary, tmp_path):
    """A demo window whose session locks after IDLE_LOCK_S seconds without a key or the mouse."""
    args = ["--demo", "--data-dir", str(tmp_path / "data"), "--gate-port", "0", "--idle-lock", str(IDLE_LOCK_S)]
    session = _window(tauri_driver, app_binary, args)
    try:
        yield session
    finally:
        session.quit()


def test_a_wrong_secret_is_refused_in_words(demo_driver: WebDriver, screenshot_dir: Path):
    d = demo_driver
    pick_person(d, "D1")
    assert text_of(d, "sign-in-chosen") == "赵敏（D1）"
    field = d.find_element(*by_testid("sign-in-secret"))
    assert field.get_attribute("type") == "password"
    assert field.get_attribute("autocomplete") == "current-password"
    assert focused_testid(d) == "sign-in-secret", "the secret field takes the keyboard"
    # The demo says its secret on the page.
    assert DEMO_SECRET in text_of(d, "sign-in-demo-secret")

    type_secret(d, "not-the-secret")
    message = wait_text(d, "sign-in-error", "工号或密码错误，还可尝试 4 次")
    assert "SIGN_IN_FAILED" in message
    assert d.find_element(*by_testid("sign-in-live")).get_attribute("aria-live") == "assertive"
    assert d.find_element(*by_testid("sign-in-secret")).get_attribute("value") == "", "the wrong one is cleared"
    assert not d.find_elements(*by_testid("header-user"))
    assert untranslated(d) == []
    assert layout_problems(d, ["sign-in-error", "sign-in-secret", "sign-in-submit", "sign-in-back"]) == []
    screenshot(d, screenshot_dir, "sign-in-wrong-secret-zh-CN")

    click(d, "lang-toggle")
    english = wait_text(d, "sign-in-error", "wrong staff code or secret; 4 attempts left")
    assert "Sign-in failed" in english, english
    assert layout_problems(d, ["sign-in-error", "sign-in-secret"]) == []
    screenshot(d, screenshot_dir, "sign-in-wrong-secret-en")
    click(d, "lang-toggle")

    # Tab reaches the buttons; Enter in the field signs in.
    d.find_element(*by_testid("sign-in-secret")).send_keys(Keys.TAB)
    assert focused_testid(d) == "sign-in-submit"
    d.switch_to.active_element.send_keys(Keys.TAB)
    assert focused_testid(d) == "sign-in-back"
    type_secret(d, DEMO_SECRET)
    wait_for(d, "header-user")
    assert text_of(d, "header-user") == "赵敏（D1）"


def test_five_wrong_secrets_lock_the_person_out(demo_driver: WebDriver):
    d = demo_driver
    pick_person(d, "A1")
    for left in [4, 3, 2, 1]:
        type_secret(d, f"wrong-{left}")
        wait_text(d, "sign-in-error", f"还可尝试 {left} 次")
    type_secret(d, "wrong-5")
    message = wait_text(d, "sign-in-error", "密码错误次数过多，已在本工作站锁定，请 15 分钟后再试")
    assert d.find_element(*by_testid("sign-in-error")).get_attribute("data-code") == "LOCKED_OUT", message

    # Now even the right secret is refused, with the same words (a new answer: a new alert).
    before = d.find_element(*by_testid("sign-in-error"))
    type_secret(d, DEMO_SECRET)
    WebDriverWait(d, WAIT_S).until(EC.staleness_of(before))
    wait_text(d, "sign-in-error", "已在本工作站锁定")
    assert d.find_element(*by_testid("sign-in-error")).get_attribute("data-code") == "LOCKED_OUT"
    assert not d.find_elements(*by_testid("header-user"))

    # The lock-out is this person's: someone else signs in.
    click(d, "sign-in-back")
    sign_in(d, "D2")
    assert "D2" in text_of(d, "header-user")


@pytest.fixture
def initial_secret_store(tmp_path):
    """A site whose administrator set Q1's initial secret at the center: the store has it from
    one sync. Q1 must choose their own at their first sign-in."""
    if not RADQC.is_file():
        pytest.fail(f"{RADQC} is missing: cargo build -p radqc-cli (scripts/test.sh builds it)")
    center_db = str(tmp_path / "center.db")
    radqc("center", "site", "add", "CLINIC-09", "--name", "九里卫生院", "--db", center_db)
    radqc("center", "staff", "add", "--site", "CLINIC-09", "--code", "Q1", "--name", "郑丽", "--role", "qc_officer",
          "--db", center_db)
    radqc("center", "staff", "password", "--site", "CLINIC-09", "--code", "Q1", "--db", center_db,
          stdin="Initial-2026\n")
    code = radqc("center", "device", "enroll", "--site", "CLINIC-09", "--db", center_db).strip()
    with center_serving(center_db) as url:
        data = tmp_path / "data"
        data.mkdir()
        db = str(data / "radqc.db")
        radqc("local", "init", "--db", db, "--site", "CLINIC-09")
        radqc("local", "enroll", "--db", db, "--center", url, "--code", code)
        radqc("sync", "--once", "--db", db)
        yield data


@pytest.fixture
def initial_secret_driver(tauri_driver, app_binary, initial_secret_store):
    session = _window(tauri_driver, app_binary, ["--data-dir", str(initial_secret_store), "--gate-port", "0"])
    try:
        yield session
    finally:
        session.quit()


def test_an_administrators_secret_must_be_replaced(initial_secret_driver: WebDriver, screenshot_dir: Path):
    d = initial_secret_driver
    pick_person(d, "Q1")
    assert not d.find_elements(*by_testid("sign-in-demo-secret")), "no secret shown outside the demo"
    type_secret(d, "Initial-2026")
    wait_for(d, "sign-in-change-form")
    assert "管理员设置的初始密码" in text_of(d, "sign-in-change-why")
    assert d.find_element(*by_testid("sign-in-current")).get_attribute("value") == "Initial-2026"
    assert focused_testid(d) == "sign-in-next"
    rules = text_of(d, "sign-in-policy")
    assert "至少 8 位" in rules and "不能是纯数字" in rules, rules

    # Digits only: the region's policy refuses it, in its words.
    d.find_element(*by_testid("sign-in-next")).send_keys("20261202")
    d.find_element(*by_testid("sign-in-confirm")).send_keys("20261202" + Keys.ENTER)
    wait_text(d, "sign-in-error", "本区域不允许纯数字密码，请加入字母")
    assert d.find_element(*by_testid("sign-in-error")).get_attribute("data-code") == "WEAK_SECRET"
    assert untranslated(d) == []
    assert layout_problems(d, ["sign-in-error", "sign-in-policy", "sign-in-change-submit"]) == []
    screenshot(d, screenshot_dir, "sign-in-change-zh-CN")

    for testid in ["sign-in-next", "sign-in-confirm"]:
        empty(d.find_element(*by_testid(testid)))
    d.find_element(*by_testid("sign-in-next")).send_keys("qili-own-2026")
    d.find_element(*by_testid("sign-in-confirm")).send_keys("qili-own-2026" + Keys.ENTER)
    wait_shown(d, "header-user")
    assert text_of(d, "header-user") == "郑丽（Q1）"

    # From now on the person's own secret signs them in, and the administrator's no longer does.
    click(d, "sign-out")
    pick_person(d, "Q1")
    type_secret(d, "Initial-2026")
    wait_text(d, "sign-in-error", "工号或密码错误")
    type_secret(d, "qili-own-2026")
    wait_shown(d, "header-user")


def test_the_session_locks_when_idle_and_opens_to_the_same_secret(idle_driver: WebDriver, screenshot_dir: Path):
    d = idle_driver
    sign_in(d, "D1")
    started = time.monotonic()
    lock = wait_for(d, "lock-screen", timeout=IDLE_LOCK_S + 25)
    assert time.monotonic() - started >= IDLE_LOCK_S - 1, "not before the idle time"
    assert "赵敏（D1）" in text_of(d, "lock-user")
    assert d.find_element(*by_testid("app-shell")).get_attribute("inert") is not None, "the screens are out of reach"
    # The person's commands are refused while locked, by the app, not only hidden.
    with pytest.raises(AssertionError, match="SESSION_LOCKED"):
        invoke(d, "my_scores")
    assert focused_testid(d) == "lock-secret"
    assert untranslated(d) == []
    assert layout_problems(d, ["lock-secret", "lock-unlock", "lock-switch-user"]) == []
    screenshot(d, screenshot_dir, "lock-screen-zh-CN")

    # Another secret (a colleague's, a guess) does not open it.
    type_secret(d, "someone-else", "lock-secret")
    wait_text(d, "lock-error", "工号或密码错误，还可尝试 4 次")
    assert lock.is_displayed()
    screenshot(d, screenshot_dir, "lock-screen-wrong-zh-CN")

    type_secret(d, DEMO_SECRET, "lock-secret")
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element_located(by_testid("lock-screen")))
    assert text_of(d, "header-user") == "赵敏（D1）"
    assert invoke(d, "my_scores") is not None, "the screens work again"


def test_the_lock_button_and_switch_user(demo_driver: WebDriver):
    d = demo_driver
    sign_in(d, "D1")
    click(d, "lock-session")
    wait_for(d, "lock-screen")
    assert invoke(d, "session")["locked"] is True
    click(d, "lock-switch-user")
    wait_for(d, "sign-in")
    assert not d.find_elements(*by_testid("lock-screen"))
    sign_in(d, "Q1")
    assert "郑丽" in text_of(d, "header-user")


def signing(accession: str) -> dict:
    """A follow-up CT (the bundled rules sample every one), its film and 3D facts stated."""
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
            "staff": {"technologist": "A1", "reporting_doctor": "D1"},
        },
        "signer": "D1",
    }


def test_a_held_signing_shows_over_the_lock_screen(demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path):
    d = demo_driver
    sign_in(d, "D1")
    url = invoke(d, "session")["gate_url"]
    token = gate_token(tmp_path / "data")
    click(d, "lock-session")
    wait_for(d, "lock-screen")
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{url}/v1/sign", signing("CT-E2E-LOCKED"), 120, token)
        overlay = wait_for(d, "gate-overlay")
        assert d.find_element(*by_testid("lock-screen")).get_attribute("inert") is not None
        assert "赵敏" in text_of(d, "gate-signer")
        WebDriverWait(d, WAIT_S).until(
            lambda x: x.execute_script(
                "return [...document.querySelectorAll('[data-testid^=\"verdict-\"]')]"
                ".every((v) => v.dataset.state === 'ready')"
            )
        )
        assert layout_problems(d, ["panel-save", "gate-banner"]) == []
        screenshot(d, screenshot_dir, "lock-screen-held-signing-zh-CN")
        assert focused_testid(d) == "panel-save"
        d.switch_to.active_element.send_keys(Keys.ENTER)
        result = answer.result(timeout=60)
    assert result["decision"] == "go" and result["sampled"] is True, result
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element(overlay))
    # Scored without unlocking: the prompt is still there, the signature released.
    assert wait_for(d, "lock-screen").is_displayed()
    assert d.find_element(*by_testid("gate-outcome")).get_attribute("data-kind") == "saved"
    type_secret(d, DEMO_SECRET, "lock-secret")
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element_located(by_testid("lock-screen")))
    saved = invoke(d, "exam_detail", {"accession": "CT-E2E-LOCKED"})["evaluations"]
    assert sorted(e["id"] for e in saved) == sorted(result["evaluations"])

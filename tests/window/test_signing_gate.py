"""One signing is one QC, in the real window: a workstation that retries a held signing gets the
same panel, not a second; a workstation that gave up waiting is shown as such (the score still
counts, but the panel does not claim it released the signature); an exam that does not say
whether film was printed or a reconstruction made is not scored on FL / TR unless the reviewer
states it (one key); and `radqc gate` says so when the app quits during a hold."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest
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


def readme_signing(accession: str) -> dict:
    """The README's gate example (a plain chest CT, nothing said about film or 3D), as a
    follow-up case: the bundled rules sample every one (5.2)."""
    return {
        "exam": {
            "accession": accession,
            "modality": "CT",
            "exam_item": "CT胸部平扫",
            "department": "放射科",
            "patient_source": "outpatient",
            "follow_up": True,
            "staff": {"technologist": "A1", "reporting_doctor": "D1"},
        },
        "signer": "D1",
    }


def known_signing(accession: str) -> dict:
    body = readme_signing(accession)
    body["exam"].update({"film_printed": True, "reconstruction": False})
    return body


def panel_items(driver: WebDriver) -> list[str]:
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


def gate_url(driver: WebDriver) -> str:
    url = invoke(driver, "session")["gate_url"]
    assert url.startswith("http://127.0.0.1:"), f"the gate API did not start: {url!r}"
    return url


def test_a_retried_signing_gives_one_panel_and_one_answer(
    demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path
):
    d = demo_driver
    sign_in(d, "D1")
    url = gate_url(d)
    token = gate_token(tmp_path / "data")
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(post_json, f"{url}/v1/sign", known_signing("CT-E2E-RETRY"), 120, token)
        overlay = wait_for(d, "gate-overlay")
        gate_id = overlay.get_attribute("data-gate-id")
        # The workstation retries (its own timeout, a second click on 签名) while it is held.
        second = pool.submit(post_json, f"{url}/v1/sign", known_signing("CT-E2E-RETRY"), 120, token)
        WebDriverWait(d, WAIT_S).until(lambda _: len(invoke(d, "pending_gates")) >= 1)
        time.sleep(1.0)  # the retry's event has had time to reach the window
        pending = invoke(d, "pending_gates")
        assert [g["id"] for g in pending] == [gate_id], "one held signature, not two"
        assert d.find_elements(*by_testid("gate-more")) == [], "no second panel queued behind it"
        assert d.find_element(*by_testid("gate-overlay")).get_attribute("data-gate-id") == gate_id
        assert not first.done() and not second.done()
        wait_verdicts_ready(d)
        assert focused_testid(d) == "panel-save"
        d.switch_to.active_element.send_keys(Keys.ENTER)
        a, b = first.result(timeout=60), second.result(timeout=60)
    assert a == b, "both waiting requests get the same answer"
    assert a["decision"] == "go" and a["sampled"] is True
    saved = invoke(d, "exam_detail", {"accession": "CT-E2E-RETRY"})["evaluations"]
    assert sorted(e["id"] for e in saved) == sorted(a["evaluations"])
    assert len(saved) == len(panel_items_of_gate(pending[0])), "one QC: each item scored once"
    WebDriverWait(d, WAIT_S).until(EC.invisibility_of_element(overlay))
    assert d.find_element(*by_testid("gate-outcome")).get_attribute("data-kind") == "saved"


def test_a_signing_without_the_gate_token_is_refused_and_opens_nothing(demo_driver: WebDriver):
    """Another program on the machine, without the installation's gate token (or with another):
    the gate API answers 401 with the envelope, and no panel comes up."""
    import urllib.error

    d = demo_driver
    sign_in(d, "D1")
    url = gate_url(d)
    for token in (None, "0" * 64):
        with pytest.raises(urllib.error.HTTPError) as refused:
            post_json(f"{url}/v1/sign", known_signing("CT-E2E-NO-TOKEN"), 10, token)
        assert refused.value.code == 401, token
        assert json.loads(refused.value.read())["code"] == "GATE_UNAUTHENTICATED", token
    time.sleep(1.0)  # an event, had there been one, has reached the window
    assert invoke(d, "pending_gates") == []
    assert d.find_elements(*by_testid("gate-overlay")) == []


def panel_items_of_gate(gate: dict) -> list[str]:
    return gate["items"]


def test_a_workstation_that_gave_up_is_shown_and_the_score_still_counts(
    demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path
):
    d = demo_driver
    sign_in(d, "D1")
    url = gate_url(d)
    token = gate_token(tmp_path / "data")
    for lang, accession in (("zh-CN", "CT-E2E-GONE-1"), ("en", "CT-E2E-GONE-2")):
        if lang == "en":
            click(d, "gate-outcome-dismiss")
            click(d, "lang-toggle")
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The workstation waits 3 s, then its HTTP request times out and the connection closes.
            gave_up = pool.submit(post_json, f"{url}/v1/sign", known_signing(accession), 3, token)
            overlay = wait_for(d, "gate-overlay")
            assert d.find_elements(*by_testid("gate-gave-up")) == []
            with pytest.raises(OSError):
                gave_up.result(timeout=30)
        banner = wait_for(d, "gate-gave-up", timeout=15)
        assert overlay.get_attribute("data-waiting") == "false"
        assert ("工作站已停止等待" if lang == "zh-CN" else "stopped waiting") in banner.text
        wait_verdicts_ready(d)
        assert untranslated(d) == []
        assert layout_problems(d, ["panel-save", "gate-close", "gate-banner", "gate-gave-up"]) == []
        screenshot(d, screenshot_dir, f"panel-random-gave-up-{lang}")
        assert focused_testid(d) == "panel-save"
        d.switch_to.active_element.send_keys(Keys.ENTER)
        outcome = wait_for(d, "gate-outcome")
        assert outcome.get_attribute("data-kind") == "saved_gave_up"
        if lang == "zh-CN":
            assert "已停止等待" in outcome.text and "已放行。" not in outcome.text
        else:
            assert "stopped waiting" in outcome.text and "went through" not in outcome.text
        screenshot(d, screenshot_dir, f"panel-random-gave-up-saved-{lang}")
        assert invoke(d, "exam_detail", {"accession": accession})["evaluations"], "the score counts"


def test_film_and_reconstruction_unknown_are_left_out_unless_stated(
    demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path
):
    d = demo_driver
    sign_in(d, "D1")
    url = gate_url(d)
    token = gate_token(tmp_path / "data")
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{url}/v1/sign", readme_signing("CT-E2E-FACTS"), 120, token)
        wait_for(d, "gate-overlay")
        wait_verdicts_ready(d)
        gate = invoke(d, "pending_gates")[0]
        assert {"FL", "TR"} <= set(gate["items"]), gate["items"]
        # Asked, not scored: a line each, no criteria, and Save covers the rest.
        assert "FL" not in panel_items(d) and "TR" not in panel_items(d)
        assert wait_for(d, "panel-ask-FL").get_attribute("data-stated") == "false"
        assert "未注明是否做了三维重建" in text_of(d, "panel-ask-TR")
        # No performing time came with the signing: the signing time stands in, and says so.
        assert d.find_element(*by_testid("exam-performed-at")).get_attribute("data-source") == "signed"
        assert "签名时间" in text_of(d, "exam-performed-at")
        assert layout_problems(d, ["panel-save", "gate-banner", "panel-ask-FL", "panel-ask-TR"]) == []
        screenshot(d, screenshot_dir, "panel-random-facts-unknown-zh-CN")

        # The reviewer read the reconstructions: one key states it and TR is scored.
        assert focused_testid(d) == "panel-save"
        d.switch_to.active_element.send_keys("r")
        WebDriverWait(d, WAIT_S).until(lambda _: "TR" in panel_items(d))
        assert d.find_element(*by_testid("panel-ask-TR")).get_attribute("data-stated") == "true"
        assert "FL" not in panel_items(d)
        wait_verdicts_ready(d)
        assert layout_problems(d, ["panel-save", "gate-banner", "panel-ask-TR"]) == []
        screenshot(d, screenshot_dir, "panel-random-facts-stated-zh-CN")
        d.find_element(*by_testid("panel-save")).click()
        result = answer.result(timeout=60)
    assert result["decision"] == "go"
    detail = invoke(d, "exam_detail", {"accession": "CT-E2E-FACTS"})
    items = sorted(e["item"] for e in detail["evaluations"])
    assert "FL" not in items, "no FL = 5 for film nobody said was printed"
    assert "TR" in items
    assert detail["exam"]["reconstruction"] is True and detail["exam"]["film_printed"] is None


def _pid_with(data_dir: Path) -> int:
    """The desktop app this test started: the process whose command line names its data folder."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(data_dir).encode() in argv and any(a.endswith(b"radqc-desktop") for a in argv[:1]):
            return int(entry.name)
    raise AssertionError(f"no radqc-desktop process with --data-dir {data_dir}")


def test_radqc_gate_when_the_app_quits_during_a_hold(demo_driver: WebDriver, tmp_path: Path):
    cli = Path(os.environ.get("RADQC_CLI_BIN", REPO / "target/debug/radqc"))
    if not cli.is_file():
        pytest.fail(f"the radqc binary {cli} is missing: cargo build -p radqc-cli")
    d = demo_driver
    sign_in(d, "D1")
    port = urlparse(gate_url(d)).port
    gate = subprocess.Popen(
        [str(cli), "gate", "--port", str(port), "--token-file", str(tmp_path / "data" / "gate.token")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        gate.stdin.write(json.dumps(known_signing("CT-E2E-QUIT")).encode())
        gate.stdin.close()
        wait_for(d, "gate-overlay")
        assert gate.poll() is None, "held"
        os.kill(_pid_with(tmp_path / "data"), signal.SIGTERM)  # the app quits mid-hold
        gate.wait(timeout=30)
        out, err = gate.stdout.read(), gate.stderr.read()
    finally:
        if gate.poll() is None:
            gate.kill()
    assert gate.returncode == 4, (gate.returncode, err)
    assert b"RadQC quit while the signing was held" in err, err
    assert json.loads(out)["app_quit"] is True


def test_film_and_reconstruction_unknown_in_english(
    demo_driver: WebDriver, screenshot_dir: Path, tmp_path: Path
):
    d = demo_driver
    sign_in(d, "D1")
    url = gate_url(d)
    token = gate_token(tmp_path / "data")
    click(d, "lang-toggle")
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(post_json, f"{url}/v1/sign", readme_signing("CT-E2E-FACTS-EN"), 120, token)
        wait_for(d, "gate-overlay")
        wait_verdicts_ready(d)
        assert "Not stated whether film was printed" in text_of(d, "panel-ask-FL")
        assert "signing time" in text_of(d, "exam-performed-at")
        assert untranslated(d) == []
        assert layout_problems(d, ["panel-save", "gate-banner", "panel-ask-FL", "panel-ask-TR"]) == []
        screenshot(d, screenshot_dir, "panel-random-facts-unknown-en")
        # One Enter: the items the exam says apply, nothing for film or 3D.
        d.switch_to.active_element.send_keys(Keys.ENTER)
        result = answer.result(timeout=60)
    items = {e["item"] for e in invoke(d, "exam_detail", {"accession": "CT-E2E-FACTS-EN"})["evaluations"]}
    assert result["decision"] == "go" and items and not items & {"FL", "TR"}, items

"""A clinic's store restored from last night's backup, opened in the desktop window: "sync now"
finds it to be a restored copy, says so in plain words, takes back the scores the backup lacked,
and the 同步 screen keeps a note of it. The store and the center are made with the real `radqc`
command; the center is a `radqc center serve` process on a loopback port."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import _window
from helpers import (
    RADQC, WAIT_S, by_testid, center_serving, click, layout_problems, radqc, screenshot, sign_in, text_of, untranslated,
    wait_for,
)

SITE = "CLINIC-07"
SECRET = "qili-Q1-secret"


def lines(start: int, n: int) -> str:
    return "".join(
        json.dumps({
            "item": "IQ", "findings": [], "reviewer": "Q1", "mode": "centralized",
            "exam": {"accession": f"DR{i}", "modality": "DR", "exam_item": "胸部正位片",
                     "staff": {"technologist": "A1", "reporting_doctor": "D1"}},
        }, ensure_ascii=False) + "\n"
        for i in range(start, start + n)
    )


def copy_store(src: Path, dst: Path) -> None:
    for suffix in ["", "-wal", ".key"]:
        f = Path(f"{src}{suffix}")
        if f.exists():
            shutil.copyfile(f, f"{dst}{suffix}")


@pytest.fixture
def restored(tmp_path):
    """A center, and the clinic's store in `data/` as restored from a backup the center has moved
    beyond: 3 scores in the backup, 4 more synced after it, then the disk died."""
    if not RADQC.is_file():
        pytest.fail(f"{RADQC} is missing: cargo build -p radqc-cli (scripts/test.sh builds it)")
    center_db = str(tmp_path / "center.db")
    radqc("center", "site", "add", SITE, "--name", "七里乡卫生院", "--db", center_db)
    radqc("center", "staff", "add", "--site", SITE, "--code", "Q1", "--name", "郑丽", "--role", "qc_officer",
          "--db", center_db)
    # Her secret, set at the center and published with the roster the first sync brings.
    radqc("center", "staff", "password", "--site", SITE, "--code", "Q1", "--permanent", "--db", center_db,
          stdin=SECRET + "\n")
    code = radqc("center", "device", "enroll", "--site", SITE, "--db", center_db).strip()
    with center_serving(center_db) as url:
        data = tmp_path / "data"
        data.mkdir()
        db = data / "radqc.db"
        radqc("local", "init", "--db", str(db), "--site", SITE)
        radqc("local", "enroll", "--db", str(db), "--center", url, "--code", code)
        radqc("local", "save", "--db", str(db), stdin=lines(0, 3))
        radqc("sync", "--once", "--db", str(db))
        copy_store(db, tmp_path / "backup.db")
        radqc("local", "save", "--db", str(db), stdin=lines(10, 4))
        radqc("sync", "--once", "--db", str(db))
        for suffix in ["", "-wal", "-shm"]:
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        copy_store(tmp_path / "backup.db", db)
        yield {"data": data, "center_db": center_db}


@pytest.fixture
def restored_driver(tauri_driver, app_binary, restored):
    session = _window(tauri_driver, app_binary, ["--data-dir", str(restored["data"]), "--gate-port", "0"])
    try:
        yield session
    finally:
        session.quit()


def test_a_restored_store_says_so_and_loses_nothing(restored_driver: WebDriver, restored: dict, screenshot_dir):
    d = restored_driver
    sign_in(d, "Q1", SECRET)
    click(d, "nav-sync")
    wait_for(d, "sync-status")
    # The app syncs in the background as soon as it starts, so it may have found out already;
    # "sync now" then finds nothing more to do. Either way the note stays on the screen.
    click(d, "sync-now")
    outcome = wait_for(d, "sync-outcome")
    assert outcome.get_attribute("data-outcome") == "synced"
    text = text_of(d, "sync-outcome")
    if "备份" in text:
        assert "取回备份之后的 4 条评分" in text and "没有评分丢失" in text, text
    note = wait_for(d, "sync-copy")
    assert note.get_attribute("data-why") == "restored"
    assert "新设备" in note.text and "原设备" in note.text, note.text
    assert text_of(d, "sync-pending") == "0"
    assert untranslated(d) == []
    assert layout_problems(d, ["sync-copy", "sync-outcome", "sync-status"]) == []
    screenshot(d, screenshot_dir, "sync-restored-zh-CN")

    click(d, "lang-toggle")
    WebDriverWait(d, WAIT_S).until(EC.text_to_be_present_in_element(by_testid("sync-copy"), "restored from a backup"))
    assert untranslated(d) == []
    assert layout_problems(d, ["sync-copy", "sync-status"]) == []
    screenshot(d, screenshot_dir, "sync-restored-en")

    # The center holds each of the 7 scores once; the restored store holds all 7 again.
    exported = [json.loads(l) for l in radqc("center", "export", "--db", restored["center_db"]).splitlines()]
    ids = [l["record"]["id"] for l in exported if l["kind"] == "evaluation"]
    assert len(ids) == len(set(ids)) == 7, ids
    local = radqc("local", "export", "--db", str(restored["data"] / "radqc.db"),
                  "--key-file", str(restored["data"] / "radqc.db.key"))
    assert {json.loads(l)["id"] for l in local.splitlines()} == set(ids)

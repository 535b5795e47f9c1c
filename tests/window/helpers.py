"""What the window tests share: finding elements by test id, calling the shell, layout checks."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import urllib.request
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 30


def by_testid(testid: str) -> tuple[str, str]:
    return (By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def text_of(driver: WebDriver, testid: str) -> str:
    return driver.find_element(*by_testid(testid)).text.strip()


def wait_for(driver: WebDriver, testid: str, timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located(by_testid(testid)))


def click(driver: WebDriver, testid: str) -> None:
    WebDriverWait(driver, WAIT_S).until(EC.element_to_be_clickable(by_testid(testid))).click()


# Every demo person's secret (crates/radqc-app's DEMO_SECRET; the sign-in page shows it in the demo).
DEMO_SECRET = "radqc-demo"


def pick_person(driver: WebDriver, code: str) -> None:
    """Picks `code` on the roster: the page then asks for their secret."""
    wait_for(driver, f"roster-{code}")
    click(driver, f"roster-{code}")
    wait_for(driver, "sign-in-secret")


def empty(field) -> None:
    """Empties a text field by keys, as a person would: WebDriver's `clear()` fires no `input`
    event, so Vue's model keeps the old text (and Element Plus puts it back)."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)


def type_secret(driver: WebDriver, secret: str, testid: str = "sign-in-secret") -> None:
    """Types `secret` into the (emptied) field and presses Enter, as a person would."""
    field = wait_for(driver, testid)
    empty(field)
    field.send_keys(secret + Keys.ENTER)


def sign_in(driver: WebDriver, code: str, secret: str = DEMO_SECRET) -> None:
    """Signs `code` in through the sign-in page with their secret (the demo's by default)."""
    pick_person(driver, code)
    type_secret(driver, secret)
    wait_for(driver, "header-user")


def focused_testid(driver: WebDriver) -> str | None:
    return driver.execute_script(
        "const e = document.activeElement; return e && e.getAttribute('data-testid');"
    )


def after_two_frames(driver: WebDriver) -> None:
    """Returns once WebKit has painted twice, so a screenshot shows the current DOM."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
    )


def screenshot(driver: WebDriver, directory: Path, name: str) -> Path:
    after_two_frames(driver)
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot {path}"
    return path


def invoke(driver: WebDriver, command: str, args: dict | None = None):
    """Calls a shell command the way the front-end does; raises with the error envelope."""
    result = driver.execute_async_script(
        """
        const [cmd, args, done] = arguments;
        window.__TAURI_INTERNALS__.invoke(cmd, args ?? {})
          .then((value) => done({ ok: value }), (error) => done({ error }));
        """,
        command,
        args,
    )
    if "error" in result:
        raise AssertionError(f"{command} failed: {result['error']}")
    return result["ok"]


def gate_token(data_dir: Path) -> str:
    """The app's gate token: `gate.token` in its `--data-dir`, made at first start. The gate API
    acts only on a request that carries it (`Authorization: Bearer <token>`)."""
    return (Path(data_dir) / "gate.token").read_text(encoding="ascii").strip()


def post_json(url: str, body: dict, timeout: float, token: str | None) -> dict:
    """POSTs `body` as a workstation's client does, with the gate token (`None`: without one)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def layout_problems(driver: WebDriver, must_show: list[str] = ()) -> list[str]:
    """What would be cut off or covered at this window size.

    - the page wider than the window;
    - a `must_show` element (by test id) outside the window, or covered by another element at
      its centre (what a click there would hit instead);
    - a scroller that overflows sideways (a column pushed off-screen);
    - header parts overlapping each other;
    - text that overflows its own box (cut off or spilling over a neighbour).
    """
    return driver.execute_script(
        """
        const mustShow = arguments[0];
        const problems = [];
        const W = window.innerWidth, H = window.innerHeight;
        const doc = document.documentElement;
        if (doc.scrollWidth > W) problems.push(`page is ${doc.scrollWidth}px wide in a ${W}px window`);
        for (const id of ["app-title", "lang-toggle", ...mustShow]) {
          const el = document.querySelector(`[data-testid="${id}"]`);
          if (!el) { problems.push(`${id} is missing`); continue; }
          const r = el.getBoundingClientRect();
          if (r.left < 0 || r.top < 0 || r.right > W + 0.5 || r.bottom > H + 0.5) {
            problems.push(`${id} is outside the window: ${JSON.stringify(r)}`);
            continue;
          }
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          // An inert page under the random-QC overlay is covered on purpose.
          if (!el.closest("[inert]") && hit && !el.contains(hit) && !hit.contains(el))
            problems.push(`${id} is covered by ${hit.tagName}.${hit.className}`);
        }
        // Scrollers meant to scroll down only: a sideways overflow hides a column off-screen.
        for (const el of document.querySelectorAll(".app-main, .panel__items, .screen__table"))
          if (el.scrollWidth > el.clientWidth + 1)
            problems.push(`${el.className} scrolls sideways: ${el.scrollWidth}px in ${el.clientWidth}px`);
        const header = [...document.querySelectorAll(
          '.app-header__title, .app-nav__tab, .app-header__status > *')];
        for (let i = 0; i < header.length; i++)
          for (let j = i + 1; j < header.length; j++) {
            const a = header[i].getBoundingClientRect(), b = header[j].getBoundingClientRect();
            if (a.width && b.width && a.left < b.right - 0.5 && b.left < a.right - 0.5
                && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
              problems.push(`header: "${header[i].textContent.trim()}" overlaps "${header[j].textContent.trim()}"`);
          }
        const texts = document.querySelectorAll(
          ".criterion__text, .item__name, .panel-crit__text, .panel-item__name, .panel-crit__na, " +
          ".app-nav__tab, .app-header__status > *, .exam-context dd, .verdict, .gate-banner, " +
          ".panel__hints, .queue-bar > *, .filters__field, .filters__check, .sync-facts dd, .el-button");
        for (const el of texts) {
          if (el.getClientRects().length === 0) continue;
          if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto")
            problems.push(`"${el.textContent.trim().slice(0, 24)}" overflows its box`);
        }
        return problems;
        """,
        list(must_show),
    )


# A vue-i18n key shown raw, e.g. "role.qc_officer": a value the catalogs do not translate.
RAW_KEY = re.compile(
    r"\b(?:app|lang|rubric|kind|applies|role|error|nav|header|common|session|signIn|exam|"
    r"patientSource|sex|grade|mode|panel|saveError|random|active|centralized|mine|gold|sync|reports|import|lock)"
    r"\.[a-z][A-Za-z_]*\b"
)


def untranslated(driver: WebDriver) -> list[str]:
    return RAW_KEY.findall(driver.find_element(By.TAG_NAME, "body").text)


RADQC = Path(__file__).resolve().parents[2] / "target/debug/radqc"


def radqc(*args: str, stdin: str = "") -> str:
    """Runs the real `radqc` command; its stdout (the test fails with its stderr if it fails)."""
    out = subprocess.run([str(RADQC), *args], input=stdin, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"radqc {' '.join(args)}: {out.stderr}"
    return out.stdout


@contextlib.contextmanager
def center_serving(db: str):
    """A `radqc center serve` process on a free loopback port for the center database `db`; its URL."""
    proc = subprocess.Popen([str(RADQC), "center", "serve", "--listen", "127.0.0.1:0", "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:"), f"the center says where it listens: {url!r}"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)

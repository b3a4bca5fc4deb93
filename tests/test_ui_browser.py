"""The app end to end in a real browser: `streamlit run` headless, driven with Playwright and Debian's Chromium.

Screenshots go to pytest's tmp folder; with EDWC_SAVE_SCREENSHOTS=1 a set is also copied to
docs/screenshots/ for the README.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed: run ./setup.sh --test "
                "(or apt-get install chromium) for the browser tests", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

from planner.cli.ui_command import streamlit_command  # noqa: E402

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"
WIDTH = 1440
WAIT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app served by `streamlit run` (the command `edwc ui` runs) on a free local port."""
    port = _free_port()
    command = streamlit_command(port, address="127.0.0.1")
    log = (tmp_path_factory.mktemp("streamlit") / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "EDWC_UI_INLINE"}
    server = subprocess.Popen(command, cwd=Path(command[4]).parent, stdout=log,
                              stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {server.poll()}); see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        # The server and its solver workers share the process group started above.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path):
    """Save a full-page screenshot under a name (and to docs/screenshots/ when asked)."""
    save = os.environ.get("EDWC_SAVE_SCREENSHOTS") == "1"

    def take(page, name: str) -> Path:
        time.sleep(1.0)  # charts finish drawing after their element appears
        height = 0
        for _ in range(4):  # grow the window to the page so nothing is cut off
            new = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
            if new == height:
                break
            height = new
            page.set_viewport_size({"width": WIDTH, "height": max(900, min(height, 5000))})
            time.sleep(0.8)
        path = tmp_path / f"{name}.png"
        page.screenshot(path=path)
        page.set_viewport_size({"width": WIDTH, "height": 1000})
        if save:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SCREENSHOTS / path.name)
        assert path.stat().st_size > 20_000
        return path

    return take


def _open(browser, url):
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    return page


def _go(page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, level=1).wait_for()


def _main_image(page):
    return page.locator("[data-testid='stMain'] [data-testid='stImage'] img")


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_planner_session_in_english(browser, app_url, shots):
    page = _open(browser, app_url)
    page.get_by_text("Start from a shipped scenario", exact=True).wait_for()
    page.get_by_role("tab", name="Clusters and power").click()
    shots(page, "scenario_en")

    _go(page, "Plan")
    solve = page.get_by_role("button", name="Solve plan")
    if solve.is_enabled():
        solve.click()
    _main_image(page).first.wait_for()
    assert page.locator("[data-testid='stMetric']").count() == 6
    assert "bn CNY/yr" in page.locator("[data-testid='stMetric']").first.inner_text()
    _no_exception(page)
    shots(page, "plan_en")

    _go(page, "Trade-offs")
    page.get_by_role("slider").first.focus()
    page.keyboard.press("Home")  # the fewest points: a short test
    page.get_by_role("button", name="Compute frontier").first.click()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    picker = page.locator("[data-testid='stSelectbox']").filter(has_text="Open a point").first
    picker.click()
    page.get_by_role("option").nth(2).click()
    _main_image(page).first.wait_for()
    page.get_by_role("heading", name="Plan at cap").wait_for()
    _no_exception(page)
    shots(page, "tradeoffs_en")

    page.get_by_role("tab", name="Cost and latency").click()
    page.get_by_role("button", name="Compute frontier").first.click()  # the visible tab's
    page.locator("[data-testid='stVegaLiteChart']:visible").first.wait_for()

    _go(page, "Compare")
    page.get_by_role("heading", name="Where the plans differ").wait_for()
    _main_image(page).first.wait_for()
    _no_exception(page)
    shots(page, "compare_en")

    _go(page, "Growth")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    assert page.get_by_text("As stated in the report", exact=False).count() >= 1
    end_year = page.get_by_label("Plan through year")
    end_year.fill("2028")
    end_year.press("Enter")
    page.get_by_role("button", name="Plan a pathway").click()
    page.get_by_role("button", name="Solve pathway").click()
    page.get_by_text("Mean growth, plan").wait_for()
    page.locator("[data-testid='stVegaLiteChart']:visible").nth(3).wait_for()
    _no_exception(page)
    shots(page, "growth_en")

    _go(page, "Export")
    page.get_by_role("button", name="Prepare files").first.click()
    page.get_by_role("button", name="Download run bundle (.zip)").wait_for()
    _no_exception(page)
    shots(page, "export_en")
    page.close()


def test_the_same_pages_in_chinese(browser, app_url, shots):
    page = _open(browser, app_url)
    _go(page, "Plan")
    solve = page.get_by_role("button", name="Solve plan")
    if solve.is_enabled():
        solve.click()
    _main_image(page).first.wait_for()
    page.get_by_text("中文", exact=True).click()
    page.get_by_role("heading", name="规划方案", level=1).wait_for()
    page.get_by_text("本次会话运行次数：1").wait_for()  # the session survived the switch
    _main_image(page).first.wait_for()
    assert "亿元/年" in page.locator("[data-testid='stMetric']").first.inner_text()
    _no_exception(page)
    shots(page, "plan_zh")

    _go(page, "情景设置")
    page.get_by_text("从内置情景开始", exact=True).wait_for()
    shots(page, "scenario_zh")

    _go(page, "权衡分析")
    page.get_by_role("slider").first.focus()
    page.keyboard.press("Home")  # the points of the English test: solved already, from the cache
    page.get_by_role("button", name="计算前沿").first.click()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    shots(page, "tradeoffs_zh")

    _go(page, "经济增长")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    assert page.get_by_text("报告原式", exact=False).count() >= 1
    _no_exception(page)
    shots(page, "growth_zh")
    page.close()


def test_a_loaded_file_resets_the_form_in_the_browser(browser, app_url, tmp_path):
    # The browser keeps a keyed widget's value for as long as its key lives; loading a file must
    # give every widget of the form the file's values, so that applying untouched adds no edits.
    page = _open(browser, app_url)
    price = page.get_by_role("spinbutton", name="Carbon price [CNY/tCO₂]")
    price.fill("50")
    page.get_by_role("button", name="Apply changes").click()
    page.get_by_text("carbon.price_cny_per_tco2=50.0", exact=False).wait_for()
    upload = tmp_path / "mine.yaml"
    upload.write_text("name: mine\ncarbon:\n  price_cny_per_tco2: 123\n", encoding="utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
    page.get_by_text("Loaded 'mine.yaml'", exact=False).wait_for()
    page.locator("[aria-label='Carbon price [CNY/tCO₂]'][value='123.00']").wait_for()
    page.get_by_role("button", name="Apply changes").click()
    page.get_by_text("Nothing changed.", exact=True).wait_for()
    assert page.get_by_text("carbon.price_cny_per_tco2=", exact=False).count() == 0
    _no_exception(page)
    page.close()

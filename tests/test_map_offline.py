"""The interactive HTML map offline: with every outside request blocked, Chromium draws it, zooms, shows tooltips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_ui_browser
from click.testing import CliRunner

from geo.export import CONTENT_SECURITY_POLICY, leaflet_assets
from planner.cli import main

#: Debian's Chromium driven by Playwright: the browser tests' fixture.
browser = test_ui_browser.browser
WAIT_MS = 60_000
#: A point in western Sichuan (Garzê, away from clusters and flow lines) and the Tianfu cluster's. [deg]
WEST_SICHUAN, TIANFU = (31.0, 100.5), (30.66, 104.07)


@pytest.fixture(scope="module")
def map_files(tmp_path_factory):
    """The baseline plan's interactive map in English and Chinese."""
    root = tmp_path_factory.mktemp("offline")
    runner = CliRunner()
    result = runner.invoke(main, ["run", "baseline", "--no-map", "--out", str(root / "run")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    files = {}
    for lang in ("en", "zh"):
        result = runner.invoke(main, ["map", str(root / "run"), "--format", "html", "--lang", lang,
                                      "--out", str(root / lang)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        files[lang] = root / lang / "plan_map.html"
    return files


def _open_offline(browser, path: Path):
    """A page with the map open, every request but file:// and localhost refused; the refused URLs."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    refused: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file://", "data:", "http://127.0.0.1", "http://localhost")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg", timeout=WAIT_MS)
    return context, page, refused


def _screen_point(page, lat_lon: tuple[float, float]) -> tuple[float, float]:
    point = page.evaluate(
        """([lat, lon]) => {
            const name = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
            const map = window[name];
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        list(lat_lon),
    )
    return float(point[0]), float(point[1])


def _zoom(page) -> float:
    return page.evaluate("""() => window[Object.keys(window).find(k => k.startsWith('map_')
                                                                   && window[k] instanceof L.Map)].getZoom()""")


def _hover(page, lat_lon: tuple[float, float], expected: str) -> str:
    """The tooltip shown with the mouse over a point, once it holds ``expected``."""
    x, y = _screen_point(page, lat_lon)
    page.mouse.move(x, y)
    page.mouse.move(x + 2, y + 1)
    tooltip = page.locator(".leaflet-tooltip", has_text=expected).first
    tooltip.wait_for(timeout=WAIT_MS)
    return tooltip.inner_text()


@pytest.mark.parametrize(("lang", "province", "cluster"), [("en", "Sichuan", "Tianfu"), ("zh", "四川", "天府")])
def test_the_map_draws_zooms_and_shows_tooltips_with_no_network(browser, map_files, lang, province, cluster):
    context, page, refused = _open_offline(browser, map_files[lang])
    try:
        assert refused == []  # the page asked for nothing outside
        drawn = page.evaluate("""() => [...document.querySelectorAll('.leaflet-overlay-pane canvas')].some(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4 * 97) { if (d[i] > 0) return true; }
            return false; })""")
        assert drawn, "the provinces were not drawn"
        text = _hover(page, TIANFU, cluster)
        assert cluster in text and "MW" in text and "%" in text  # the cluster's figures
        text = _hover(page, WEST_SICHUAN, province)
        assert province in text and "MW" in text and "ms" in text  # the province's figures
        # A click lists where the province's load is served.
        x, y = _screen_point(page, WEST_SICHUAN)
        page.mouse.click(x + 2, y + 1)
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=WAIT_MS).inner_text()
        assert "→" in popup and cluster in popup and "MW" in popup
        page.keyboard.press("Escape")
        before = _zoom(page)
        page.click(".leaflet-control-zoom-in")
        page.wait_for_function(f"() => document.querySelector('.leaflet-control-zoom-in') && {before} < "
                               "window[Object.keys(window).find(k => k.startsWith('map_') "
                               "&& window[k] instanceof L.Map)].getZoom()", timeout=WAIT_MS)
        # The legend (the page's own HTML) is there too.
        assert page.locator("text=" + ("Boundaries" if lang == "en" else "边界数据")).count() >= 1
        assert refused == []
    finally:
        context.close()


def test_the_page_inlines_leaflet_and_links_nothing_outside(map_files):
    page = map_files["en"].read_text(encoding="utf-8")
    script, css = leaflet_assets()
    assert script[:200] in page and "images/layers.png" not in css
    assert CONTENT_SECURITY_POLICY in page
    loaded = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]*)"', page)
    assert loaded == []
    for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "bootstrapcdn"):
        assert cdn not in page


def test_the_static_map_legend_reads_at_the_apps_size(map_files):
    """Each legend line is at least 9 px tall where the app shows the map (about 720 px wide); 7.5 pt gave 8."""
    import matplotlib
    import matplotlib.pyplot as plt

    from geo.maps import plot_plan_map
    from planner.rundir import read_run

    results = read_run(map_files["en"].parents[1] / "run")
    figure = plot_plan_map(results, metric="west_share", lang="en")
    try:
        dpi = 110  # as the app draws it (ui.jobs.plan_map_png)
        figure.set_dpi(dpi)
        figure.canvas.draw()
        shown = 720 / (figure.get_size_inches()[0] * dpi)  # image pixels to screen pixels
        legends = [legend for ax in figure.axes for legend in ax.findobj(matplotlib.legend.Legend)]
        texts = [text for legend in legends for text in legend.get_texts()]
        assert len(texts) >= 6 and any("MW" in text.get_text() for text in texts)
        renderer = figure.canvas.get_renderer()
        heights = [text.get_window_extent(renderer).height * shown for text in texts if text.get_text()]
        assert min(heights) >= 9.0, heights
    finally:
        plt.close(figure)

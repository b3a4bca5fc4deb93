"""Chinese labels render whatever matplotlib's font cache holds: empty, or written before the CJK font was known."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from geo import fonts

LABEL = "北京 东数西算 张家口 算力"

# Draws LABEL with the map fonts and reports what matplotlib used. Any missing-glyph warning is an error.
_RENDER = textwrap.dedent(
    """
    import json, sys, warnings
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    import matplotlib.pyplot as plt
    known_before = sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name})
    from geo import fonts
    warnings.simplefilter("error")
    rc = fonts.font_rc(fonts.resolve_lang("zh"))
    with matplotlib.rc_context(rc):
        fig = plt.figure(figsize=(3, 1))
        text = fig.text(0.05, 0.5, sys.argv[1])
        fig.canvas.draw()
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
    face = font_manager.get_font(used)
    print(json.dumps({
        "known_before": known_before,
        "family": rc["font.family"],
        "used": used,
        "missing": [c for c in sys.argv[1] if c != " " and face.get_char_index(ord(c)) == 0],
        "width_px": text.get_window_extent().width,
    }))
    """
)

# Writes a font cache as matplotlib would have before a CJK font was installed: every system font but those.
_STALE_CACHE = textwrap.dedent(
    """
    from pathlib import Path
    import matplotlib
    from matplotlib import font_manager
    listed = font_manager.findSystemFonts
    def chinese(path):
        try:
            return font_manager.get_font(path).get_char_index(ord("北")) != 0
        except (OSError, RuntimeError):  # a file FreeType cannot open: matplotlib skips it too
            return False
    def without_cjk(*args, **kwargs):
        return [f for f in listed(*args, **kwargs) if not chinese(f)]
    font_manager.findSystemFonts = without_cjk
    manager = font_manager.FontManager()
    cache = Path(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")
    font_manager.json_dump(manager, cache)
    print(cache)
    """
)


def _python(script: str, config_dir: Path, *args: str) -> str:
    env = {**os.environ, "MPLCONFIGDIR": str(config_dir)}
    env.pop(fonts.FONT_ENV, None)
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _check_rendered(report: dict) -> None:
    assert fonts.LATIN_FAMILY != report["family"][0]
    assert report["family"][0] == fonts.find_cjk_font()
    assert report["missing"] == []  # every character of the label is a glyph of the font used, no tofu
    assert report["width_px"] > 50


def test_chinese_label_renders_with_an_empty_font_cache(tmp_path):
    report = json.loads(_python(_RENDER, tmp_path / "empty", LABEL))
    _check_rendered(report)
    assert Path(report["used"]).resolve() == Path(fonts.cjk_font_candidates()[0]).resolve()


def test_chinese_label_renders_with_a_stale_font_cache(tmp_path):
    config = tmp_path / "stale"
    cache = Path(_python(_STALE_CACHE, config))
    listed = {entry["name"] for entry in json.loads(cache.read_text(encoding="utf-8"))["ttflist"]}
    assert fonts.LATIN_FAMILY in listed and not listed & set(fonts.CJK_FAMILIES)
    report = json.loads(_python(_RENDER, config, LABEL))
    assert report["known_before"] == []  # the cache really predates the font
    _check_rendered(report)


def test_the_font_is_found_as_a_file_that_covers_chinese():
    candidates = fonts.cjk_font_candidates()
    assert candidates, "setup.sh installs fonts-noto-cjk"
    family = fonts.register_cjk_font()
    assert family is not None and family == fonts.find_cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # installed: no fallback warning
        assert fonts.resolve_lang("zh") == "zh"


def test_a_font_file_named_in_the_environment_comes_first(monkeypatch, tmp_path):
    candidates = fonts.cjk_font_candidates()
    monkeypatch.setenv(fonts.FONT_ENV, candidates[-1])
    assert fonts.cjk_font_candidates()[0] == candidates[-1]
    not_a_font = tmp_path / "x.ttf"
    not_a_font.write_bytes(b"not a font")
    assert not fonts._covers_chinese(str(not_a_font))


def test_the_warning_asks_for_a_font_only_when_none_is_found(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font_candidates", list)
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ())
    monkeypatch.setattr(fonts, "_warned", False)
    fonts.register_cjk_font.cache_clear()
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.warns(UserWarning, match="no CJK font found.*fonts-noto-cjk"):
            assert fonts.resolve_lang("zh") == "en"
    finally:
        fonts.register_cjk_font.cache_clear()
        fonts.find_cjk_font.cache_clear()

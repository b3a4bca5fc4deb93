"""Fonts for Chinese labels: the CJK font file registered with matplotlib itself, so a stale font cache cannot hide it.

Matplotlib keeps the fonts it knows in a cache (``fontlist-*.json`` under ``MPLCONFIGDIR``) written the
first time it ran. A cache written before a CJK font was installed does not list it, and a lookup by
family name then falls back to DejaVu Sans: Chinese labels come out as empty boxes. So the font is
found as a *file* (``$EDWC_CJK_FONT``, the paths the usual packages install to, then fontconfig) and
handed to ``matplotlib.font_manager.fontManager.addfont``, whatever the cache holds.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import warnings
from pathlib import Path

from matplotlib import font_manager

#: Environment variable naming a CJK font file (.ttf, .otf, .ttc) to use before any other.
FONT_ENV = "EDWC_CJK_FONT"

#: Font files of CJK fonts where the usual packages install them, best first. Debian's and
#: Ubuntu's ``fonts-noto-cjk`` (installed by ``setup.sh``) provides the first.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

#: CJK families matplotlib may already know by name (used when no file above is found).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)

#: Latin fallback behind the CJK font, for glyphs it lacks.
LATIN_FAMILY = "DejaVu Sans"

#: A character every simplified-Chinese font has (北, as in 北京): the test of a candidate file.
_PROBE = ord("北")
_warned = False


def _covers_chinese(path: str) -> bool:
    try:
        return font_manager.get_font(path).get_char_index(_PROBE) != 0
    except (OSError, RuntimeError, ValueError):  # not a font file FreeType can open
        return False


def _fontconfig_file() -> str | None:
    """The file fontconfig picks for simplified Chinese, if fontconfig is installed and has one."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command, no user input
            [fc_match, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = done.stdout.strip()
    return path if done.returncode == 0 and path else None


def cjk_font_candidates() -> list[str]:
    """Font files that may hold Chinese glyphs, in the order they are tried.

    ``$EDWC_CJK_FONT`` first, then ``CJK_FONT_FILES`` that exist, then fontconfig's choice for
    simplified Chinese.
    """
    chosen = os.environ.get(FONT_ENV, "").strip()
    candidates = [chosen] if chosen else []
    candidates += [path for path in CJK_FONT_FILES if Path(path).is_file()]
    if not candidates:
        found = _fontconfig_file()
        candidates += [found] if found else []
    return candidates


@functools.lru_cache(maxsize=1)
def register_cjk_font() -> str | None:
    """Register the first CJK font file that covers Chinese with matplotlib; its family name, or None.

    Returns
    -------
    str or None
        The family name matplotlib knows the registered file by (for a ``.ttc`` collection, its
        first face), or None when no candidate file covers Chinese.
    """
    for path in cjk_font_candidates():
        if Path(path).is_file() and _covers_chinese(path):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Name of a font family that covers simplified Chinese, known to matplotlib, or None.

    Returns
    -------
    str or None
        The family of the font file :func:`register_cjk_font` registered; failing that, the first
        of ``CJK_FAMILIES`` the font manager already knows.
    """
    registered = register_cjk_font()
    if registered is not None:
        return registered
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def resolve_lang(lang: str) -> str:
    """The label language a map can actually use: ``lang``, or ``"en"`` without a CJK font.

    Parameters
    ----------
    lang : {"en", "zh"}
        Requested label language.

    Returns
    -------
    str
        ``"zh"`` if requested and a CJK font was found, else ``"en"`` (warning once per
        process when Chinese was requested).
    """
    global _warned
    if lang not in ("en", "zh"):
        msg = f"map lang | must be 'en' or 'zh', got {lang!r}. Choose one of the two."
        raise ValueError(msg)
    if lang == "zh" and find_cjk_font() is None:
        if not _warned:
            warnings.warn(
                "maps | no CJK font found (no font file with Chinese glyphs), Chinese labels fall back to English. "
                f"Install one (apt-get install fonts-noto-cjk; ./setup.sh does) or set {FONT_ENV} to a font file.",
                stacklevel=2,
            )
            _warned = True
        return "en"
    return lang


def font_rc(lang: str) -> dict:
    """Matplotlib rcParams that draw ``lang`` labels (use with ``matplotlib.rc_context``).

    Explicit family names (not ``sans-serif``) are set so text created under the context keeps
    its font when the figure is saved later, outside it.
    """
    cjk = find_cjk_font() if lang == "zh" else None
    families = [cjk, LATIN_FAMILY] if cjk else [LATIN_FAMILY]
    return {"font.family": families}

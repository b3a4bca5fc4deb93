"""Finding an installed CJK font for Chinese map labels, with a one-time fallback to English."""

from __future__ import annotations

import functools
import warnings

from matplotlib import font_manager

#: Preferred CJK families, best first. Debian's ``fonts-noto-cjk`` package provides the first.
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

_warned = False


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Name of an installed font family that covers simplified Chinese, or None.

    Returns
    -------
    str or None
        The first of ``CJK_FAMILIES`` known to matplotlib's font manager.
    """
    installed = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    return None


def resolve_lang(lang: str) -> str:
    """The label language a map can actually use: ``lang``, or ``"en"`` without a CJK font.

    Parameters
    ----------
    lang : {"en", "zh"}
        Requested label language.

    Returns
    -------
    str
        ``"zh"`` if requested and a CJK font is installed, else ``"en"`` (warning once per
        process when Chinese was requested).
    """
    global _warned
    if lang not in ("en", "zh"):
        msg = f"map lang | must be 'en' or 'zh', got {lang!r}. Choose one of the two."
        raise ValueError(msg)
    if lang == "zh" and find_cjk_font() is None:
        if not _warned:
            warnings.warn(
                "maps | no CJK font found, Chinese labels fall back to English. "
                "Install one, e.g. apt-get install fonts-noto-cjk.",
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

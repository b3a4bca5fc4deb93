"""The planning report of a run: one document model, written as HTML, PDF (WeasyPrint, fonts embedded) and Word.

A report holds the question (scenario name and description), the assumptions that differ from the
shipped scenario of the same name (or from the defaults), the headline figures with the published
ranges where the run is of the published year, the plan map, the cost breakdown, the site and
province tables, other runs side by side (``compare``), the ranges of a study attached to it, the
data sources and the caveats. Every text comes from the label table (``labels.yaml``), in English or
Chinese. Run directories are read as untrusted (:func:`planner.rundir.read_run_checked`); every
text taken from them is escaped by the HTML template and stays plain text in Word. The PDF is drawn
from the HTML with no access to anything but the images the report itself holds.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from edwc_data.files import FileRefused, read_regular_file, write_bytes_atomic
from edwc_data.labels import MONEY_SCALE, t
from edwc_data.outputs import claim_folder, require_owned, shown_path
from edwc_data.tables import data_dir, load_tables

from optimizer.results import COST_PARTS, Results, cost_label
from planner.calibration import FIGURES as PUBLISHED_FIGURES
from planner.calibration import compare as published_compare
from planner.errors import ScenarioError

#: Formats :func:`write_report` writes, and the file name of each.
FORMATS = ("pdf", "docx", "html")
#: Template of the HTML (and so of the PDF), package data of ``planner``.
TEMPLATE = "report.html"
#: Resolution of the maps in the report. [dots/in]
MAP_DPI = 150
#: Size of the maps in the report. [in]
MAP_SIZE_IN = (10.0, 7.5)
#: Width of a map in the Word document. [cm]
DOCX_IMAGE_CM = 16.0
#: Study charts taken into the report when the study folder has them (PNG files the study wrote).
STUDY_CHARTS = ("response", "clusters", "tornado", "frontier")
#: Largest study chart read back. [bytes]
MAX_CHART_BYTES = 20_000_000
#: The PNG signature: a chart file must start with it.
_PNG = b"\x89PNG\r\n\x1a\n"

#: Headline figures: summary key, label key, unit key, scale (None: money in the language's unit), digits, percent.
HEADLINE = (
    ("total_cost_cny", "fig_cost", "unit_money_yr", None, 1, False),
    ("emissions_tco2", "fig_emissions", "unit_mt_yr", 1e6, 1, False),
    ("load_weighted_latency_ms", "fig_latency", "unit_ms", 1.0, 2, False),
    ("west_share", "fig_west", "unit_pct", 1.0, 1, True),
    ("hub_share", "fig_hub", "unit_pct", 1.0, 1, True),
    ("green_share", "fig_green", "unit_pct", 1.0, 1, True),
    ("new_capacity_mw", "fig_new_capacity", "unit_gw", 1e3, 2, False),
    ("new_capacity_west_mw", "fig_new_west", "unit_gw", 1e3, 2, False),
    ("compute_capex_cny", "fig_capex", "unit_money", None, 0, False),
)
#: Site table: column, label key, scale, digits, percent.
SITE_TABLE = (
    ("existing_mw", "col_existing_mw", 1.0, 0, False),
    ("fitout_mw", "col_fitout_mw", 1.0, 0, False),
    ("new_mw", "col_new_mw", 1.0, 0, False),
    ("capacity_mw", "col_capacity_mw", 1.0, 0, False),
    ("mean_load_mw", "col_load_mw", 1.0, 0, False),
    ("utilisation", "col_utilisation", 1.0, 1, True),
    ("emissions_tco2", "col_emissions_mt", 1e6, 2, False),
)
#: Province table: column, label key, scale, digits, percent.
PROVINCE_TABLE = (
    ("demand_mw", "col_demand_gw", 1e3, 2, False),
    ("local_share", "col_local_share", 1.0, 1, True),
    ("west_share", "fig_west", 1.0, 1, True),
    ("hub_share", "fig_hub", 1.0, 1, True),
    ("load_weighted_latency_ms", "col_latency_ms", 1.0, 1, False),
    ("emissions_tco2", "col_emissions_mt", 1e6, 2, False),
)
#: Scenario fields that name or describe a run rather than set an assumption.
_NOT_ASSUMPTIONS = frozenset({"name", "description"})


class ReportError(ScenarioError):
    """A report that cannot be written: an unknown format or language, a study folder that is not one."""


@dataclass
class Block:
    """One piece of a section: a paragraph (``text``), a table (``columns``, ``rows``) or an image (PNG ``image``).

    ``numeric`` marks the table columns that are right-aligned. ``note`` marks a paragraph as small print.
    """

    kind: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    image: bytes = b""
    note: bool = False

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI (the HTML and the PDF hold their images; nothing is fetched)."""
        return "data:image/png;base64," + base64.b64encode(self.image).decode("ascii")


@dataclass
class Section:
    """A titled section of the report."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    """The whole document, in one language."""

    lang: str
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Numbers as shown
# ---------------------------------------------------------------------------------------------


def _shown(value: Any, scale: float = 1.0, digits: int = 1, percent: bool = False) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(number):
        return "–"
    return f"{100 * number:.{digits}f} %" if percent else f"{number / scale:,.{digits}f}"


def _figure(summary: dict, key: str, unit: str, scale: float | None, digits: int, percent: bool, lang: str) -> str:
    shown = _shown(summary.get(key), MONEY_SCALE[lang] if scale is None else scale, digits, percent)
    return shown if percent or shown == "–" else f"{shown} {t(unit, lang)}"


def _name(row: Any, lang: str) -> str:
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def _run_label(results: Results, run_dir: Path) -> str:
    return f"{results.summary.scenario} ({run_dir.name})"


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict) and node:
        flat: dict[str, Any] = {}
        for key, value in node.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: node}


def _setting(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(_setting(v) for v in value) or "[]"
    if isinstance(value, dict):
        return "{}"
    return str(value)


def reference_scenario(scenario: dict) -> tuple[dict, str | None]:
    """The scenario a run's assumptions are compared with: the shipped one of its name, else the defaults.

    Returns
    -------
    (dict, str or None)
        The reference scenario as a dict, and the shipped name (None for the defaults).
    """
    from planner.scenario import load_scenario, resolve_scenario, shipped_scenarios

    name = scenario.get("name")
    if isinstance(name, str) and name in shipped_scenarios():
        return load_scenario(name).to_dict(), name
    return resolve_scenario({}).to_dict(), None


def changed_assumptions(scenario: dict) -> tuple[list[tuple[str, str, str]], str | None]:
    """The settings of ``scenario`` that differ from its reference (:func:`reference_scenario`).

    Returns
    -------
    (list of (setting, run value, reference value), str or None)
        Dotted setting names in the scenario's order, and the reference's shipped name.
    """
    reference, name = reference_scenario(scenario)
    run, base = _flatten(scenario), _flatten(reference)
    changed = [
        (key, _setting(value), _setting(base.get(key)))
        for key, value in run.items()
        if key.split(".")[0] not in _NOT_ASSUMPTIONS and value != base.get(key)
    ]
    changed += [(key, "–", _setting(value)) for key, value in base.items()
                if key not in run and key.split(".")[0] not in _NOT_ASSUMPTIONS]
    return changed, name


def _question(results: Results, run_dir: Path, lang: str) -> Section:
    scenario = results.scenario or {}
    name = str(scenario.get("name", results.summary.scenario))
    section = Section(t("report_question", lang), [
        Block("p", t("report_question_text", lang, name=name, year=scenario.get("year", "–")))])
    description = str(scenario.get("description") or "").strip()
    if description:
        section.blocks += [Block("p", t("report_description", lang, text=" ".join(description.split())))]
    changed, shipped = changed_assumptions(scenario)
    reference = (t("report_reference_shipped", lang, name=shipped) if shipped
                 else t("report_reference_defaults", lang))
    section.blocks.append(Block("p", t("report_assumptions", lang, reference=reference)))
    if changed:
        section.blocks.append(Block("table", columns=[t("report_col_setting", lang), t("report_col_run", lang),
                                                      t("report_col_reference", lang)],
                                    rows=[list(row) for row in changed], numeric=[False, True, True]))
    else:
        section.blocks.append(Block("p", t("report_no_changes", lang, reference=reference)))
    return section


def _headline(results: Results, lang: str) -> Section:
    summary = results.summary.to_dict()
    rows = [[t(label, lang), _figure(summary, key, unit, scale, digits, percent, lang)]
            for key, label, unit, scale, digits, percent in HEADLINE]
    section = Section(t("report_headline", lang), [
        Block("table", columns=[t("col_figure", lang), t("report_col_value", lang)], rows=rows,
              numeric=[False, True])])
    published = load_tables()["published"]
    years = sorted({int(y) for y in published["year"]})
    year = (results.scenario or {}).get("year")
    if year in years:
        table = published_compare(results)
        section.blocks += [Block("p", t("report_published", lang, year=year)), Block(
            "table",
            columns=[t("calib_col_figure", lang), t("calib_col_plan", lang), t("calib_col_published", lang),
                     t("calib_col_inside", lang), "F/E"],
            rows=[[t("calib_" + row.figure, lang) + ("" if row.unit == "-" or PUBLISHED_FIGURES[row.figure].percent
                                                     else f" [{row.unit}]"),
                   PUBLISHED_FIGURES[row.figure].show(row.plan),
                   f"{PUBLISHED_FIGURES[row.figure].show(row.low)} – {PUBLISHED_FIGURES[row.figure].show(row.high)}",
                   t("calib_yes" if row.inside else "calib_no", lang), str(row.status)]
                  for row in table.itertuples()],
            numeric=[False, True, True, False, False])]
    else:
        shown = ", ".join(str(y) for y in years)
        section.blocks.append(Block("p", t("report_published_other", lang, published=shown, year=year), note=True))
    return section


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=MAP_DPI)
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _map(results: Results, lang: str) -> Section:
    from geo.maps import plot_plan_map

    image = _png(plot_plan_map(results, metric="west_share", lang=lang, figsize=MAP_SIZE_IN))
    return Section(t("report_map", lang), [Block("image", image=image),
                                           Block("p", t("report_map_caption", lang), note=True)])


def _costs(results: Results, lang: str) -> Section:
    summary = results.summary.to_dict()
    total = float(summary["total_cost_cny"])
    scale = MONEY_SCALE[lang]
    rows = [[t(cost_label(part), lang), _shown(summary[part], scale, 2), _shown(summary[part] / total, digits=1,
                                                                               percent=True)]
            for part in COST_PARTS if abs(float(summary[part])) > 0]
    rows.append([t("report_total", lang), _shown(total, scale, 2), _shown(1.0, digits=1, percent=True)])
    return Section(t("report_costs", lang), [Block(
        "table", columns=[t("col_part", lang), t("unit_money_yr", lang), t("report_col_share", lang)], rows=rows,
        numeric=[False, True, True])])


def _table(frame: pd.DataFrame, spec, first: str, lang: str) -> Block:
    rows = [[_name(row, lang), *(_shown(row[column], scale, digits, percent)
                                 for column, _, scale, digits, percent in spec)]
            for _, row in frame.iterrows()]
    return Block("table", columns=[t(first, lang), *(t(label, lang) for _, label, *_ in spec)], rows=rows,
                 numeric=[False, *([True] * len(spec))])


def _sites(results: Results, lang: str) -> Section:
    sites = results.sites
    sites = sites[(sites["capacity_mw"] > 0) | (sites["new_mw"] > 0)].sort_values("capacity_mw", ascending=False)
    return Section(t("report_sites", lang), [Block("p", t("report_sites_note", lang), note=True),
                                             _table(sites, SITE_TABLE, "col_site", lang)])


def _provinces(results: Results, lang: str) -> Section:
    provinces = results.provinces.sort_values("demand_mw", ascending=False)
    return Section(t("report_provinces", lang), [_table(provinces, PROVINCE_TABLE, "col_province", lang)])


def _compare(runs: list[tuple[Results, Path]], lang: str) -> Section:
    columns = [t("col_figure", lang), *(_run_label(results, path) for results, path in runs)]
    rows = [[t(label, lang), *(_figure(results.summary.to_dict(), key, unit, scale, digits, percent, lang)
                               for results, _ in runs)]
            for key, label, unit, scale, digits, percent in HEADLINE]
    section = Section(t("report_compare", lang), [Block("p", t("report_compare_note", lang), note=True),
                                                  Block("table", columns=columns, rows=rows,
                                                        numeric=[False, *([True] * len(runs))])])
    from geo.maps import plot_difference_map

    (first, first_dir), (other, other_dir) = runs[0], runs[1]
    image = _png(plot_difference_map(other, first, metric="west_share", lang=lang, figsize=MAP_SIZE_IN))
    section.blocks += [Block("p", t("report_difference_map", lang, name=_run_label(first, first_dir),
                                    other=_run_label(other, other_dir))), Block("image", image=image)]
    return section


def _study(study_dir: Path, lang: str) -> Section:
    from planner.studies.plots import FIGURES as STUDY_FIGURES
    from planner.studies.plots import figure_name, figure_unit
    from planner.studies.report import _read_table, read_study_meta
    from planner.studies.table import TABLE_FILE

    folder = require_owned(study_dir, ("study",))
    meta = read_study_meta(folder)
    section = Section(t("report_sensitivity", lang, name=str(meta.get("name", folder.name))))
    if meta.get("description"):
        section.blocks.append(Block("p", " ".join(str(meta["description"]).split())))
    if (folder / TABLE_FILE).exists():
        try:
            table = _read_table(folder / TABLE_FILE)
        except (FileRefused, OSError, ValueError) as exc:
            msg = f"cannot be read as a study table ({type(exc).__name__}). Run the study again."
            raise ReportError(msg, source=shown_path(folder / TABLE_FILE)) from None
        solved = table[table["status"].astype(str) == "optimal"] if "status" in table.columns else table
        rows = []
        for figure, scale in STUDY_FIGURES.items():
            if figure not in solved.columns:
                continue
            values = pd.to_numeric(solved[figure], errors="coerce").to_numpy(float) / scale
            values = values[np.isfinite(values)]
            if len(values):
                name = f"{figure_name(figure, lang)} [{figure_unit(figure, lang)}]"
                rows.append([name, *(f"{v:,.3g}" for v in (values.min(), np.median(values), values.max()))])
        section.blocks += [Block("p", t("report_sensitivity_note", lang, count=len(solved)), note=True),
                           Block("table", columns=[t("col_figure", lang), t("report_col_least", lang),
                                                   t("report_col_median", lang), t("report_col_most", lang)],
                                 rows=rows, numeric=[False, True, True, True])]
    for chart in STUDY_CHARTS:
        path = folder / f"{chart}.png"
        if not path.exists():
            continue
        try:
            image = read_regular_file(path, MAX_CHART_BYTES)
        except FileRefused:
            continue  # a chart that is not a regular file of a sane size is left out, not followed
        if image.startswith(_PNG):
            section.blocks.append(Block("image", image=image))
    return section


def _sources(lang: str) -> Section:
    with open(data_dir() / "sources.csv", encoding="utf-8", newline="") as handle:
        rows = [[row["file"], row["field"], row["status"], row["source"]] for row in csv.DictReader(handle)]
    return Section(t("report_sources", lang), [
        Block("p", t("report_sources_note", lang), note=True),
        Block("table", columns=[t("report_col_file", lang), t("report_col_field", lang), t("report_col_status", lang),
                                t("report_col_source", lang)], rows=rows, numeric=[False] * 4)])


def _pathway(results: Results, lang: str) -> Section | None:
    """A pathway run's growth figures, with the growth model's calibration beside them (docs/growth.md)."""
    figures = results.summary.pathway
    if not figures:
        return None

    def share(key: str) -> str:
        value = figures.get(key)
        return _shown(value, digits=2, percent=True) if isinstance(value, int | float) else "–"

    years = figures.get("pathway_years") or []
    rows = [[t("report_growth_plan", lang), share("growth_rate_plan")],
            [t("report_growth_counterfactual", lang), share("growth_rate_counterfactual")],
            [t("report_output_gap", lang), share("output_gap_end")],
            [t("report_tau_baseline", lang), share("tau_baseline")],
            [t("report_tau_plan", lang), f"{share('tau_plan_mean')} / {share('tau_plan_max')}"]]
    for region, rate in (figures.get("growth_rate_plan_by_region") or {}).items():
        if isinstance(rate, int | float):
            rows.append([t("report_growth_region", lang, region=t(f"region_{region}", lang)),
                         _shown(rate, digits=2, percent=True)])
    capex = figures.get("pathway_compute_capex_cny")
    if isinstance(capex, int | float):
        rows.append([t("report_pathway_capex", lang), f"{_shown(capex, MONEY_SCALE[lang], 1)} {t('unit_money', lang)}"])
    span = f"{min(years)}–{max(years)}" if years else "–"
    return Section(t("report_pathway", lang, years=span), [
        Block("table", columns=[t("col_figure", lang), t("report_col_value", lang)], rows=rows, numeric=[False, True]),
        Block("p", t("report_calibration", lang, text=str(figures.get("growth_calibration", "–")))),
        Block("p", t("report_pathway_note", lang), note=True)])


def _caveats(results: Results, lang: str) -> Section:
    violation = results.metadata.get("max_violation", 0.0)
    texts = [t("report_caveat_direction", lang), t("report_caveat_estimates", lang), t("report_caveat_costs", lang),
             t("report_caveat_status", lang, violation=f"{float(violation):.1e}")]
    return Section(t("report_caveats", lang), [Block("p", text) for text in texts])


def build_report(
    run_dir: Path | str,
    compare: list[Path | str] | tuple[Path | str, ...] = (),
    study: Path | str | None = None,
    lang: str = "en",
    run_name: str | None = None,
) -> Report:
    """The report of the run in ``run_dir``, as a document model.

    Parameters
    ----------
    run_dir : path
        A run directory written by ``edwc run`` (read as untrusted).
    compare : sequence of path
        Further run directories shown side by side with it (the first also as a difference map).
    study : path, optional
        A study folder (``edwc sweep``) whose ranges and charts make the sensitivity section.
    lang : {"en", "zh"}
    run_name : str, optional
        How the subtitle names the run (default: the run directory's name).

    Raises
    ------
    planner.rundir.RunDirError
        A run directory that cannot be trusted.
    ReportError
        An unknown language, or a study folder the tool did not write.
    """
    from planner.rundir import read_run_checked

    if lang not in ("en", "zh"):
        msg = f"must be 'en' or 'zh', got {lang!r}. Choose one of the two."
        raise ReportError(msg, source="--lang")
    run_dir = Path(run_dir)
    results, _ = read_run_checked(run_dir)
    others = [(read_run_checked(Path(path))[0], Path(path)) for path in compare]
    version = importlib_metadata.version("edwc-planner")
    name = str((results.scenario or {}).get("name", results.summary.scenario))
    report = Report(lang, t("report_title", lang, name=name),
                    t("report_generated", lang, date=dt.date.today().isoformat(), version=version,
                      run=run_name or run_dir.name))
    report.sections += [_question(results, run_dir, lang), _headline(results, lang), _map(results, lang),
                        _costs(results, lang)]
    pathway = _pathway(results, lang)
    if pathway is not None:
        report.sections.append(pathway)
    if others:
        report.sections.append(_compare([(results, run_dir), *others], lang))
    if study is not None:
        report.sections.append(_study(Path(study), lang))
    report.sections += [_sites(results, lang), _provinces(results, lang), _sources(lang), _caveats(results, lang)]
    return report


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (images inline, every text escaped)."""
    import jinja2

    source = resources.files("planner").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(source).render(report=report)


def render_pdf(report: Report) -> bytes:
    """The report as PDF, drawn from its HTML by WeasyPrint; the fonts are embedded (subset)."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    # The report holds its images as data: URIs; a URL of anything else would come from text that
    # should have been escaped, and is never fetched.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=render_html(report), url_fetcher=fetcher).write_pdf()


def render_docx(report: Report) -> bytes:
    """The report as a Word document (python-docx), with East Asian text set in the CJK font."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    from geo.fonts import LATIN_FAMILY, find_cjk_font

    document = docx.Document()
    cjk = find_cjk_font() or "Noto Sans CJK SC"
    for style_name in ("Normal", "Title", "Heading 1", "Table Grid"):
        style = document.styles[style_name]
        style.font.name = LATIN_FAMILY
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), cjk)
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = report.title
    document.core_properties.language = "zh-CN" if report.lang == "zh" else "en-GB"
    document.add_heading(report.title, level=0)
    document.add_paragraph(report.subtitle)
    for section in report.sections:
        document.add_heading(section.title, level=1)
        for block in section.blocks:
            if block.kind == "image":
                document.add_picture(io.BytesIO(block.image), width=Cm(DOCX_IMAGE_CM))
            elif block.kind == "table":
                table = document.add_table(rows=1, cols=len(block.columns), style="Table Grid")
                for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
                    cell.text = text
                    cell.paragraphs[0].runs[0].bold = True
                for row in block.rows:
                    cells = table.add_row().cells
                    for cell, text, numeric in zip(cells, row, block.numeric, strict=True):
                        cell.text = text
                        if numeric:
                            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            else:
                paragraph = document.add_paragraph(block.text)
                if block.note:
                    for run in paragraph.runs:
                        run.font.size = Pt(8.5)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


RENDERERS = {"pdf": render_pdf, "docx": render_docx, "html": lambda report: render_html(report).encode("utf-8")}


def check_formats(formats: str | list[str] | tuple[str, ...]) -> list[str]:
    """The formats asked for, in order, without repeats; ReportError for an unknown or empty list."""
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = list(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in formats if str(f).strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        shown = repr(unknown[0][:20]) if unknown else "(none)"
        msg = f"unknown format {shown}. Give a comma-separated list of {', '.join(FORMATS)}."
        raise ReportError(msg, source="--format")
    return wanted


def report_bytes(report: Report, fmt: str) -> bytes:
    """The report in one of ``FORMATS``."""
    return RENDERERS[check_formats([fmt])[0]](report)


def write_report(
    run_dir: Path | str,
    out_dir: Path | str | None = None,
    formats: str | list[str] | tuple[str, ...] = FORMATS,
    lang: str = "en",
    compare: list[Path | str] | tuple[Path | str, ...] = (),
    study: Path | str | None = None,
) -> list[Path]:
    """Write the report of a run as ``report-<lang>.<format>`` files, atomically, only where the tool may.

    Parameters
    ----------
    run_dir : path
        The run directory.
    out_dir : path, optional
        Folder for the files: ``run_dir`` (default), a new or empty folder (marked ``.edwc-output``),
        or a folder the tool wrote; any other folder is refused before anything is drawn.
    formats : str or sequence of str
        Any of ``FORMATS`` (a comma-separated string is split).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.
    """
    wanted = check_formats(formats)
    target = Path(out_dir) if out_dir is not None else Path(run_dir)
    claim_folder(target, "output", accept=("run", "output"), create=False)  # refused before anything is drawn
    report = build_report(run_dir, compare=compare, study=study, lang=lang)
    folder = claim_folder(target, "output", accept=("run", "output"))
    return [write_bytes_atomic(folder / f"report-{lang}.{fmt}", report_bytes(report, fmt)) for fmt in wanted]


def report_files(results: Results, lang: str = "en", formats: tuple[str, ...] = FORMATS, stem: str = "report",
                 run_name: str | None = None) -> dict[str, bytes]:
    """The report of solved ``results`` in each format, by file name (the app's Export page).

    The results are written as a run directory in a private scratch folder first and read back as
    any run directory is, so the app's report is the command line's.
    """
    from edwc_data.outputs import remove_owned, scratch_folder

    from planner.rundir import write_run

    wanted = check_formats(list(formats))
    scratch = scratch_folder("edwc-report-")
    try:
        report = build_report(write_run(results, scratch / "run"), lang=lang, run_name=run_name)
        return {f"{stem}-{lang}.{fmt}": report_bytes(report, fmt) for fmt in wanted}
    finally:
        remove_owned(scratch)

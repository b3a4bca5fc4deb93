"""The planning report: PDF, Word and HTML of a run directory, in English and Chinese, written only where it may."""

from __future__ import annotations

import io
import json
import re
import zipfile

import docx
import pypdf
import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from planner.report import FORMATS, changed_assumptions, write_report

EDIT = "carbon.price_cny_per_tco2=300"
WEST_PRICES = [f"sites.{site}.price_cny_per_mwh" for site in ("horinger", "guian", "qingyang", "zhongwei")]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two run directories of the baseline (one with a carbon price) and a small study folder."""
    root = tmp_path_factory.mktemp("report")
    base, priced = root / "base", root / "priced"
    for out, extra in ((base, ()), (priced, ("--set", EDIT))):
        result = _invoke("run", "baseline", "--no-map", "--out", str(out), *extra)
        assert result.exit_code == 0, result.output
    study_file = root / "study.yaml"
    study_file.write_text(yaml.safe_dump({
        "name": "report-sweep", "base": "baseline", "set": {"time.hours_per_day": 2},
        "factors": {"west_price_factor": WEST_PRICES},
        "grid": {"west_price_factor": [1.0, 2.0]},
    }), encoding="utf-8")
    study = root / "study"
    result = _invoke("sweep", str(study_file), "--out", str(study), "--executor", "serial", "--no-progress")
    assert result.exit_code == 0, result.output
    return {"root": root, "base": base, "priced": priced, "study": study}


@pytest.fixture(scope="module")
def chinese(runs):
    """The Chinese report of the priced run, compared with the baseline, with the study: every format, by the CLI."""
    out = runs["root"] / "zh"
    result = _invoke("report", str(runs["priced"]), "--compare", str(runs["base"]), "--study", str(runs["study"]),
                     "--format", "pdf,docx,html", "--lang", "zh", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _pdf_text(path) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(path)
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _pdf_images(reader: pypdf.PdfReader) -> int:
    return sum(len(page.images) for page in reader.pages)


def _embedded_fonts(reader: pypdf.PdfReader) -> set[str]:
    embedded = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and any(k in descriptor.get_object() for k in
                                                  ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(font["/BaseFont"]))
    return embedded


def test_chinese_pdf_has_pages_chinese_text_images_and_embedded_fonts(chinese):
    reader, text = _pdf_text(chinese / "report-zh.pdf")
    assert len(reader.pages) >= 3
    for words in ("规划报告", "研究问题", "主要指标", "成本构成", "数据来源", "注意事项", "敏感性分析", "对比运行",
                  "广东", "张家口集群"):
        assert words in text, words
    assert "carbon.price_cny_per_tco2" in text and "300" in text  # the run's edit, beside the shipped value
    assert "2025 年公开数据" in text  # the published ranges of the published year
    # The plan map, the difference map of the compared run and the study's charts.
    assert _pdf_images(reader) >= 3
    fonts = _embedded_fonts(reader)
    assert any("CJK" in font for font in fonts), fonts


def test_chinese_word_document_has_its_images_and_tables(chinese):
    document = docx.Document(chinese / "report-zh.docx")
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "规划报告：baseline" in paragraphs and "注意事项" in paragraphs
    assert len(document.inline_shapes) >= 3
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert "carbon.price_cny_per_tco2" in cells and "张家口集群" in cells
    with zipfile.ZipFile(chinese / "report-zh.docx") as archive:
        assert any(name.startswith("word/media/") and name.endswith(".png") for name in archive.namelist())


def test_html_holds_everything_it_shows(chinese):
    page = (chinese / "report-zh.html").read_text(encoding="utf-8")
    assert "<script" not in page
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert (chinese / ".edwc-output").is_file()


def test_english_report_into_the_run_directory(runs):
    written = write_report(runs["base"], formats=("pdf", "docx"), lang="en")
    assert [p.name for p in written] == ["report-en.pdf", "report-en.docx"]
    assert all(p.parent == runs["base"] for p in written)
    reader, text = _pdf_text(written[0])
    assert len(reader.pages) >= 3 and _pdf_images(reader) >= 1
    for words in ("Planning report: baseline", "The question", "Headline figures", "Cost breakdown",
                  "Data sources", "Caveats", "Guangdong"):
        assert words in text, words
    assert "None; the run uses the settings of the shipped scenario baseline" in text
    assert "规划报告" not in text
    assert len(docx.Document(io.BytesIO(written[1].read_bytes())).inline_shapes) == 1


def test_changed_assumptions_are_the_edits(runs):
    from planner.rundir import read_run

    changed, reference = changed_assumptions(read_run(runs["priced"]).scenario)
    assert reference == "baseline"
    assert changed == [("carbon.price_cny_per_tco2", "300.0", "0.0")]
    assert changed_assumptions(read_run(runs["base"]).scenario)[0] == []


def test_a_folder_the_tool_did_not_create_is_refused(runs, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _invoke("report", str(runs["base"]), "--out", str(foreign), "--format", "html")
    assert result.exit_code == 2
    assert "did not create" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "pdf,odt"], "--format | unknown format 'odt'"),
    (["--lang", "fr"], "Invalid value for '--lang'"),
])
def test_bad_options_exit_2(runs, args, message):
    result = _invoke("report", str(runs["base"]), *args)
    assert result.exit_code == 2 and message in result.output


def test_a_folder_that_is_no_run_or_study_exits_2(runs, tmp_path):
    result = _invoke("report", str(tmp_path), "--format", "html")
    assert result.exit_code == 2 and "not a complete run directory" in result.output
    result = _invoke("report", str(runs["base"]), "--study", str(runs["priced"]), "--format", "html",
                     "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and ".edwc-study" in result.output
    assert FORMATS == ("pdf", "docx", "html")


def test_the_export_page_offers_the_report_in_every_format(monkeypatch):
    from test_ui import new_app, no_exception, solve_on_plan_page

    monkeypatch.setenv("EDWC_UI_INLINE", "1")  # the report is built on the script thread
    at = new_app()
    solve_on_plan_page(at)
    at.radio(key="lang").set_value("zh").run()
    at.switch_page("app_pages/export.py").run()
    no_exception(at)
    at.button(key="prepare_report").click().run()
    no_exception(at)
    buttons = {button.key for button in at.get("download_button")}
    assert {f"dl_report_{fmt}" for fmt in FORMATS} <= buttons


def test_report_files_of_solved_results_are_the_command_lines_report(runs):
    from planner.report import report_files
    from planner.rundir import read_run

    files = report_files(read_run(runs["priced"]), lang="zh", formats=("pdf", "html"), stem="plan", run_name="#7 mine")
    assert list(files) == ["plan-zh.pdf", "plan-zh.html"]
    assert files["plan-zh.pdf"].startswith(b"%PDF")
    page = files["plan-zh.html"].decode("utf-8")
    assert "#7 mine" in page and "carbon.price_cny_per_tco2" in page


def test_markup_in_a_scenario_stays_text_and_nothing_is_fetched(tmp_path):
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "hostile <b>x</b>",
        "description": "<img src='http://192.0.2.1/x.png'> <script>alert(1)</script> {{ 7*7 }}",
        "time": {"hours_per_day": 2},
    }), encoding="utf-8")
    run = tmp_path / "run"
    assert _invoke("run", str(scenario), "--no-map", "--out", str(run)).exit_code == 0
    written = write_report(run, tmp_path / "out", formats=("html", "pdf"), lang="en")
    page = written[0].read_text(encoding="utf-8")
    assert "<script>" not in page and "<img src='http" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "{{ 7*7 }}" in page
    _, text = _pdf_text(written[1])
    assert "<script>alert(1)</script>" in text  # shown as written, as text


def test_a_pathway_report_shows_its_growth_figures_with_the_calibration(tmp_path):
    out = tmp_path / "pathway"
    result = _invoke("run", "baseline", "--no-map", "--out", str(out), "--set", "horizon.end_year=2027",
                     "--set", "horizon.step_years=2", "--set", "time.hours_per_day=2")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["pathway"]
    result = _invoke("report", str(out), "--format", "html", "--lang", "en", "--out", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    text = re.sub(r"<[^>]+>", " ", (tmp_path / "report" / "report-en.html").read_text(encoding="utf-8"))
    assert "Growth over the pathway 2025–2027" in text
    # The plan's growth, as the run recorded it, beside the calibration it rests on.
    assert f"{100 * summary['growth_rate_plan']:.2f} %" in text
    assert "Growth model calibration (docs/growth.md): " + summary["growth_calibration"].split(" (")[0] in text
    assert "For direction only" in text

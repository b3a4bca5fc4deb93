"""Files the Export page offers: tables as CSV and Excel, the scenario as YAML, zips of map files."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING

import pandas as pd

from planner.rundir import neutralise_formulas

if TYPE_CHECKING:
    from optimizer.results import Results

#: Tables of a plan offered for download, by file stem.
TABLES = ("sites", "provinces", "flows")


def safe_stem(name: str) -> str:
    """A file-name stem made of letters, digits, dot, dash and underscore only."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return stem[:60] or "plan"


def result_tables(results: Results) -> dict[str, pd.DataFrame]:
    """The plan's tables, text cells neutralised so spreadsheets cannot read them as formulas."""
    return {name: neutralise_formulas(getattr(results, name)) for name in TABLES}


def summary_frame(results: Results) -> pd.DataFrame:
    """Headline figures as a two-column table (nested values as JSON text)."""
    rows = []
    for key, value in results.summary.to_dict().items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, default=float)
        rows.append({"figure": key, "value": value})
    return neutralise_formulas(pd.DataFrame(rows))


def table_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so spreadsheet programs read Chinese names correctly)."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def human_headers(columns, lang: str) -> list[str]:
    """Column headers a reader understands, with units (``xlsx_<column>`` in the label table; the name where none)."""
    from edwc_data.labels import label_table, t

    known = label_table()
    return [t(f"xlsx_{column}", lang) if f"xlsx_{column}" in known else str(column) for column in columns]


def tables_excel(results: Results, lang: str = "en") -> bytes:
    """One workbook: summary, sites, provinces, flows (and links, with the network) sheets, human headers with units.

    A last sheet, ``columns``, pairs every header with the column name the CSV files and run
    directories use, so a script can map one to the other.
    """
    buffer = io.BytesIO()
    tables = result_tables(results)
    links = getattr(results, "links", None)
    if links is not None and not links.empty:
        tables["links"] = neutralise_formulas(links)
    key = []
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary_frame(results).to_excel(writer, sheet_name="summary", index=False)
        for name, frame in tables.items():
            headers = human_headers(frame.columns, lang)
            frame.set_axis(headers, axis=1).to_excel(writer, sheet_name=name, index=False)
            key += [{"sheet": name, "header": header, "column": column}
                    for header, column in zip(headers, frame.columns, strict=True)]
        pd.DataFrame(key).to_excel(writer, sheet_name="columns", index=False)
    return buffer.getvalue()


def files_zip(files: dict[str, bytes], folder: str) -> bytes:
    """A zip holding ``files`` (name to bytes) inside ``folder``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()

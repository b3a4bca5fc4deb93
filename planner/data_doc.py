"""The field-by-field source tables of ``data/SOURCES.md``, generated from ``data/sources.csv``.

Run ``python -m planner.data_doc`` to rewrite them in place; ``tests/test_docs.py`` checks that the
committed page matches the register, so the two cannot drift apart.
"""

from __future__ import annotations

import csv
import sys

from edwc_data.files import write_text_atomic
from edwc_data.tables import data_dir

START = "<!-- generated from data/sources.csv by `python -m planner.data_doc`; tests/test_docs.py checks it -->"
END = "<!-- end of generated tables -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_tables() -> str:
    """One table per file of the register, rows in the register's order."""
    with open(data_dir() / "sources.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    files = list(dict.fromkeys(row["file"] for row in rows))
    lines: list[str] = []
    for name in files:
        lines += [f"### {name}", "", "| field | rows | status | source |", "|---|---|---|---|"]
        for row in (r for r in rows if r["file"] == name):
            shown_rows = row["rows"] or "–"
            lines.append(f"| `{row['field']}` | {shown_rows} | {row['status']} | {_cell(row['source'])} |")
        lines.append("")
    return "\n".join(lines)


def render_page(page: str) -> str:
    """``page`` with the text between the markers replaced by the generated tables."""
    head, _, rest = page.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{render_tables()}\n{END}{tail}"


def main() -> None:
    path = data_dir() / "SOURCES.md"
    page = path.read_text(encoding="utf-8")
    if START not in page or END not in page:
        sys.exit(f"{path} | the generated-table markers are missing. Restore them from git.")
    write_text_atomic(path, render_page(page))


if __name__ == "__main__":
    main()

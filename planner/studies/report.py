"""The markdown report of a study folder, and the study's own record ``study.json``."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from edwc_data.files import FileRefused, read_regular_file, write_text_atomic
from edwc_data.outputs import require_owned

from optimizer.status import PlanStatus
from planner.studies.plots import FIGURES, _clusters, _scaled, figure_name, figure_unit
from planner.studies.table import FRONTIER_FILE, NEW_MW_PREFIX, TABLE_FILE, summarise_samples

META_FILE = "study.json"
#: Largest study.json read back. [bytes]
MAX_META_BYTES = 16_000_000


#: Characters Markdown reads as markup (links, images, emphasis, HTML): escaped in text from files.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
#: Largest study table read back for the report. [bytes]
MAX_TABLE_BYTES = 4_000_000_000


def markdown_text(text: Any) -> str:
    """``text`` with Markdown's markup characters escaped: a name or description from a file shows as written.

    An image or link in a study's description would otherwise be fetched by whatever renders the report.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(read_regular_file(path, MAX_TABLE_BYTES)))


def read_study_meta(out_dir: Path | str) -> dict[str, Any]:
    """``study.json`` of a study folder, or {} when it is missing, truncated or not a mapping.

    A study killed while it wrote the file would have left the previous one (it is written
    atomically); a file damaged any other way must not block the study from resuming.
    """
    path = Path(out_dir) / META_FILE
    try:
        data = json.loads(read_regular_file(path, MAX_META_BYTES).decode("utf-8"))
    except (FileRefused, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_study_meta(out_dir: Path | str, **meta: Any) -> Path:
    """Merge ``meta`` (name, description, base, varied keys, ...) into ``study.json`` of the study folder.

    Only into a folder the tool owns (``.edwc-study``, see :func:`edwc_data.outputs.claim_folder`);
    written atomically, so a reader or a killed study sees the previous file or the new one.
    """
    folder = require_owned(out_dir, ("study",))
    current = read_study_meta(folder)
    current.update(meta)
    return write_text_atomic(folder / META_FILE, json.dumps(current, indent=2, ensure_ascii=False, default=str) + "\n")


def _fmt(value: Any, figure: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if figure in FIGURES:
        scaled = _scaled([value], figure)[0]
        return f"{scaled:,.2f}" if abs(scaled) < 100 else f"{scaled:,.1f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _unit(figure: str) -> str:
    return figure_unit(figure)


def write_report(out_dir: Path | str) -> Path:
    """Write ``report.md`` from what the study folder holds (study table, frontier, plots, study.json)."""
    out_dir = require_owned(out_dir, ("study",))
    meta = read_study_meta(out_dir)
    lines = [f"# Study: {markdown_text(meta.get('name', out_dir.name))}", ""]
    if meta.get("description"):
        lines += [markdown_text(str(meta["description"]).strip()), ""]
    if meta.get("base"):
        overrides = meta.get("set") or {}
        tail = f", with {', '.join(f'`{k}={v}`' for k, v in overrides.items())}" if overrides else ""
        lines += [f"Base scenario: `{meta['base']}`{tail}.", ""]

    table_path = out_dir / TABLE_FILE
    if table_path.exists():
        lines += _sweep_section(_read_table(table_path), meta, out_dir)
    frontier_path = out_dir / FRONTIER_FILE
    if frontier_path.exists():
        lines += _frontier_section(_read_table(frontier_path), meta, out_dir)
    path = out_dir / "report.md"
    write_text_atomic(path, "\n".join(lines).rstrip() + "\n")
    return path


def _sweep_section(table: pd.DataFrame, meta: dict, out_dir: Path) -> list[str]:
    varied = [key for key in meta.get("varied", []) if key in table.columns]
    counts = table["status"].value_counts()
    lines = ["## Runs", ""]
    if meta.get("grid"):
        lines.append("Grid (full factorial):")
        lines += [f"- `{key}`: {', '.join(str(v) for v in values)}" for key, values in meta["grid"].items()]
    if meta.get("distributions"):
        method, sampling = meta.get("sensitivity"), meta.get("sampling") or "random"
        spread = {"lhs": "Latin hypercube", "sobol": "Sobol' sequence"}.get(sampling, "random draws")
        if method:
            design = "Saltelli" if method == "sobol" else "Morris trajectories"
            lines.append(f"Sensitivity design ({design}): base size {meta.get('samples')}, seed {meta.get('seed', 0)}:")
        else:
            lines.append(f"Monte Carlo: {meta.get('samples')} samples ({spread}), seed {meta.get('seed', 0)}:")
        for key, spec in meta["distributions"].items():
            shown = ", ".join(f"{k} {v}" for k, v in spec.items() if k != "dist" and v is not None)
            lines.append(f"- `{key}`: {spec.get('dist')} ({shown})")
    for name, keys in (meta.get("factors") or {}).items():
        lines.append(f"- factor `{name}` multiplies the base values of {', '.join(f'`{k}`' for k in keys)}")
    statuses = ", ".join(f"{counts[s]} {s}" for s in counts.index)
    total_s = float(table["wall_s"].fillna(0).sum())
    lines += [
        "",
        f"{len(table)} runs: {statuses}. Solver wall time {total_s:,.1f} s in all "
        f"({total_s / max(len(table), 1):.2f} s per run; runs sharing one LP are warm-started).",
        "",
    ]

    figures = [f for f in meta.get("outputs") or FIGURES if f in table.columns and f in FIGURES]
    if "sample" in table.columns:
        summary = summarise_samples(table, figures)
        stats = summary[~summary["figure"].str.startswith(NEW_MW_PREFIX) & summary["p50"].notna()]
        lines += ["### Percentiles over the solved samples", ""]
        lines += _md_table(
            ["figure", "unit", "p5", "p50", "p95"],
            [
                [
                    figure_name(r.figure),
                    _unit(r.figure),
                    _fmt(r.p5, r.figure),
                    _fmt(r.p50, r.figure),
                    _fmt(r.p95, r.figure),
                ]
                for r in stats.itertuples()
            ],
        )
        clusters = _clusters().set_index("site")
        built = summary[summary["figure"].str.startswith(NEW_MW_PREFIX)].copy()
        built["site"] = built["figure"].str.removeprefix(NEW_MW_PREFIX)
        built = built[built["site"].isin(clusters.index)].sort_values("built_share", ascending=False)
        lines += ["", "### Clusters built", ""]
        lines += _md_table(
            ["cluster", "hub", "built in [% of runs]", "new GW p5", "p50", "p95"],
            [
                [
                    clusters.loc[r.site, "name"],
                    clusters.loc[r.site, "hub_class"],
                    f"{r.built_share:.0%}",
                    f"{r.p5 / 1e3:.2f}",
                    f"{r.p50 / 1e3:.2f}",
                    f"{r.p95 / 1e3:.2f}",
                ]
                for r in built.itertuples()
            ],
        )
    elif len(table) <= 60:
        shown = [
            f
            for f in (
                "total_cost_cny",
                "emissions_tco2",
                "west_share",
                "new_capacity_west_mw",
                "carbon_shadow_price_cny_per_tco2",
            )
            if f in figures and table[f].notna().any()
        ]
        lines += ["### Results", ""]
        lines += _md_table(
            [*varied, *(f"{figure_name(f)} [{_unit(f)}]" for f in shown), "status"],
            [
                [_fmt(r[k], k) for k in varied] + [_fmt(r[f], f) for f in shown] + [r["status"]]
                for r in table.to_dict("records")
            ],
        )
    failed = table[table["status"] != PlanStatus.OPTIMAL]
    if len(failed):
        lines += ["", "### Runs without a plan", ""]
        for r in failed.head(10).to_dict("records"):
            values = ", ".join(f"{k}={r[k]:.4g}" if isinstance(r[k], float) else f"{k}={r[k]}" for k in varied)
            lines.append(f"- run {r['run']} ({values}): **{r['status']}**: {r['message']}")
        if len(failed) > 10:
            lines.append(f"- … and {len(failed) - 10} more (see `{TABLE_FILE}`).")
    lines += _sensitivity_section(meta, out_dir)
    charts = [
        (name, title)
        for name, title in (
            ("response", "Response of the key figures"),
            ("clusters", "Clusters built"),
            ("tornado", "Sensitivity (tornado)"),
            ("sensitivity", "Global sensitivity"),
        )
        if (out_dir / f"{name}.png").exists()
    ]
    if charts:
        lines += ["", "### Charts", ""]
        for name, title in charts:
            lines += [f"![{title}]({name}.png)", f"({name}.svg)", ""]
    lines += [f"Full table: `{TABLE_FILE}` (one row per run).", ""]
    return lines


def _sensitivity_section(meta: dict, out_dir: Path) -> list[str]:
    from planner.studies.sensitivity import INDICES_FILE

    method = meta.get("sensitivity")
    if not method:
        return []
    lines = ["", f"### Global sensitivity ({'Sobol' if method == 'sobol' else 'Morris'})", ""]
    path = out_dir / INDICES_FILE
    if path.exists():
        indices = pd.read_csv(io.BytesIO(read_regular_file(path, MAX_META_BYTES)))
        if method == "sobol":
            lines += [
                "Share of each figure's variance due to each key alone (first order S1) and with all its "
                "interactions (total order ST), with 95 % bootstrap intervals. Keys with ST near 0 can be "
                "fixed at any value in their range.",
                "",
            ]
            header = ["figure", "key", "S1", "ST"]
            rows = [[figure_name(r.figure), f"`{r.key}`", f"{r.S1:.2f} ± {r.S1_conf:.2f}",
                     f"{r.ST:.2f} ± {r.ST_conf:.2f}"] for r in indices.itertuples()]
        else:
            lines += [
                "Morris screening: μ* is the mean absolute change of the figure when a key moves across its "
                "distribution's whole quantile range; σ large beside μ* means interactions or a non-linear effect.",
                "",
            ]
            header = ["figure", "unit", "key", "μ*", "σ"]
            rows = [[figure_name(r.figure), _unit(r.figure), f"`{r.key}`", _fmt(r.mu_star, r.figure),
                     _fmt(r.sigma, r.figure)] for r in indices.itertuples()]
        lines += _md_table(header, rows)
        lines += ["", f"Indices: `{INDICES_FILE}`.", ""]
    for note in meta.get("sensitivity_skipped") or []:
        lines.append(f"- not computed for {markdown_text(note)}.")
    return lines


def _frontier_section(frontier: pd.DataFrame, meta: dict, out_dir: Path) -> list[str]:
    latency = "latency_cap_ms" in frontier.columns
    x = "load_weighted_latency_ms" if latency else "emissions_tco2"
    price = "latency_shadow_price_cny_per_ms" if latency else "carbon_shadow_price_cny_per_tco2"
    solved = frontier[frontier["status"] == PlanStatus.OPTIMAL]
    lines = ["## Frontier: cost against " + ("load-weighted latency" if latency else "emissions"), ""]
    method = (
        "a cap on load-weighted one-way latency (a row added to the LP; class limits stay)"
        if latency
        else "a cap on annual emissions (`carbon.cap_tco2`)"
    )
    lines += [
        f"ε-constraint method, {len(frontier)} points: the least-cost plan without a cap, the least "
        f"achievable value (cost-minimised just above it), and caps evenly spaced between them, each "
        f"solved for least cost under {method}. {len(solved)} of {len(frontier)} points solved.",
        "",
    ]
    if len(solved) >= 2:
        top, bottom = solved.iloc[0], solved.iloc[-1]
        lines += [
            f"From {_fmt(top[x], x)} to {_fmt(bottom[x], x)} {_unit(x)}, cost rises from "
            f"{_fmt(top['total_cost_cny'], 'total_cost_cny')} to {_fmt(bottom['total_cost_cny'], 'total_cost_cny')} "
            f"bn CNY/yr.",
            "",
        ]
    price_unit = "bn CNY/yr per ms" if latency else "CNY/tCO2"
    rows = []
    for r in frontier.to_dict("records"):
        shadow = r.get(price)
        shadow = shadow / 1e9 if latency and shadow is not None and np.isfinite(shadow) else shadow
        rows.append(
            [
                str(r["point"]),
                r["role"],
                _fmt(r[x], x),
                _fmt(r["total_cost_cny"], "total_cost_cny"),
                "–" if shadow is None or not np.isfinite(shadow) else f"{shadow:,.1f}",
                _fmt(r.get("west_share"), "west_share"),
                r["status"],
            ]
        )
    lines += _md_table(
        [
            "point",
            "role",
            f"{figure_name(x)} [{_unit(x)}]",
            "cost [bn CNY/yr]",
            f"shadow price [{price_unit}]",
            "west [%]",
            "status",
        ],
        rows,
    )
    if (out_dir / "frontier.png").exists():
        lines += ["", "![Frontier](frontier.png)", "(frontier.svg)", ""]
    lines += [f"Full table: `{FRONTIER_FILE}`.", ""]
    return lines

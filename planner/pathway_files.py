"""Reading a pathway run directory's growth.csv back (``edwc growth RUN_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from planner.pathway import REGIONS

__all__ = ["GROWTH_COLUMNS", "read_growth"]


#: Columns of growth.csv: per region and year, the plan's and the counterfactual's paths.
GROWTH_COLUMNS = ("region", "year", "calibration", "consumption",
                  *(f"{v}_{run}" for run in ("plan", "counterfactual") for v in ("tau", "Y", "C", "g_Y", "g_C")))
#: Largest growth.csv read back. [bytes]
MAX_GROWTH_BYTES = 64_000_000


def read_growth(run_dir: Path | str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Plan and counterfactual frames of a pathway run directory's ``growth.csv``, validated.

    The run directory is checked as :func:`planner.rundir.read_run_checked` checks it (marker,
    files, scenario schema, input hash, finite numbers); ``growth.csv`` must be a regular file
    with every column and finite numbers.

    Returns
    -------
    dict
        ``region -> (plan, counterfactual)``, ``national`` first; each frame indexed by year
        with columns tau, Y, C, g_Y, g_C (what :func:`planner.growth_plot.plot_growth_paths`
        reads) and ``attrs["calibration"]``, ``attrs["consumption"]``.

    Raises
    ------
    planner.rundir.RunDirError
        Not a (pathway) run directory, or one whose files do not check out.
    """
    import io

    from edwc_data.files import FileRefused, read_regular_file
    from edwc_data.outputs import shown_path

    from planner.rundir import RunDirError, read_run_checked

    read_run_checked(run_dir)
    path = Path(run_dir) / "growth.csv"
    where = shown_path(path)
    if not os.path.lexists(path):
        msg = (
            "no growth.csv: not a pathway run. Run `edwc run` on a scenario with horizon.end_year "
            "set, e.g. `edwc run pathway-2035`."
        )
        raise RunDirError(msg, source=shown_path(run_dir))
    try:
        growth = pd.read_csv(io.BytesIO(read_regular_file(path, MAX_GROWTH_BYTES, what=where)))
    except FileRefused as exc:
        raise RunDirError(exc.message, source=where) from None
    except Exception:  # noqa: BLE001 - any parse failure: not the file the tool wrote
        msg = "cannot be read as a table. Rerun `edwc run` on the pathway."
        raise RunDirError(msg, source=where) from None
    missing = [column for column in GROWTH_COLUMNS if column not in growth.columns]
    if missing or growth.empty:
        msg = (
            f"has no {'rows' if not missing else 'column ' + ', '.join(missing[:3])}. "
            "Rerun `edwc run` on the pathway."
        )
        raise RunDirError(msg, source=where)
    for column in GROWTH_COLUMNS:
        if column in ("region", "calibration", "consumption"):
            continue
        values = pd.to_numeric(growth[column], errors="coerce").to_numpy(float)
        # A growth rate is undefined (NaN, blank in the file) where a path has no year before it.
        allowed = np.isnan(values) & (growth[column].isna().to_numpy() if column.startswith("g_") else False)
        if not (np.isfinite(values) | allowed).all():
            msg = "holds a value that is not a finite number. Rerun `edwc run` on the pathway."
            raise RunDirError(msg,
                              source=where, field=column)
        growth[column] = values
    unknown = sorted(set(growth["region"].astype(str)) - {"national", *REGIONS})
    if unknown:  # region names become file names: only the model's own
        msg = f"holds the unknown region {unknown[0][:40]!r}. Rerun `edwc run` on the pathway."
        raise RunDirError(msg,
                          source=where, field="region")
    frames = {}
    for region, group in growth.groupby("region", sort=False):
        pair = []
        for run in ("plan", "counterfactual"):
            frame = pd.DataFrame({
                "tau": group[f"tau_{run}"].to_numpy(), "Y": group[f"Y_{run}"].to_numpy(),
                "C": group[f"C_{run}"].to_numpy(), "g_Y": group[f"g_Y_{run}"].to_numpy(),
                "g_C": group[f"g_C_{run}"].to_numpy(),
            }, index=pd.Index(group["year"].to_numpy().astype(int), name="year"))
            frame.attrs.update(calibration=str(group["calibration"].iloc[0]),
                               consumption=str(group["consumption"].iloc[0]))
            pair.append(frame)
        frames[str(region)] = tuple(pair)
    if "national" not in frames:
        msg = "has no national rows. Rerun `edwc run` on the pathway."
        raise RunDirError(msg, source=where, field="region")
    return {"national": frames.pop("national"), **frames}

"""A plan as a labelled netCDF dataset: flows, capacity, energy and emissions on province/site/workload/period axes.

:func:`results_dataset` turns the plain tables of :class:`optimizer.results.Results` into an
:class:`xarray.Dataset` (the flow table's sparse rows become a dense array, 0 where no route
exists); :func:`write_netcdf` writes it with the netCDF4 engine. Every variable carries ``units``,
``long_name`` and ``long_name_zh`` (from ``data/labels.yaml``); the dataset's attributes hold the
run's metadata. See ``docs/exports.md`` for the variable table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edwc_data.labels import t

if TYPE_CHECKING:
    import xarray as xr

    from optimizer.results import Results

#: Site-table columns exported per site: variable name -> (column, units).
SITE_VARIABLES = {
    "site_existing_mw": ("existing_mw", "MW"),
    "site_new_mw": ("new_mw", "MW"),
    "site_fitout_mw": ("fitout_mw", "MW"),
    "site_capacity_mw": ("capacity_mw", "MW"),
    "site_peak_load_mw": ("peak_load_mw", "MW"),
    "site_energy_mwh": ("energy_mwh", "MWh/yr"),
    "site_green_mwh": ("green_mwh", "MWh/yr"),
    "site_emissions_tco2": ("emissions_tco2", "tCO2/yr"),
    "site_total_cost_cny": ("total_cost_cny", "CNY/yr"),
}
#: Province-table columns exported per province: variable name -> (column, units).
PROVINCE_VARIABLES = {
    "province_demand_mw": ("demand_mw", "MW"),
    "province_demand_mwh": ("demand_mwh", "MWh/yr"),
    "province_emissions_tco2": ("emissions_tco2", "tCO2/yr"),
}
#: Variables built from the flow table: variable name -> units.
FLOW_VARIABLES = {"flow_mw": "MW", "site_load_mw": "MW", "period_hours": "h/yr"}


def _attribute(value) -> str | float | int:
    # netCDF attributes hold text and numbers only: booleans, None and mappings are written as text.
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float | str):
        return value
    return str(value)


def _describe(array: xr.DataArray, name: str, units: str) -> xr.DataArray:
    array.attrs.update(units=units, long_name=t(f"nc_{name}", "en"), long_name_zh=t(f"nc_{name}", "zh"))
    return array


def results_dataset(results: Results) -> xr.Dataset:
    """The plan as an xarray Dataset.

    Parameters
    ----------
    results : Results
        A solved plan (from a run or read back from a run directory).

    Returns
    -------
    xarray.Dataset
        Dimensions ``province``, ``site``, ``workload`` and ``period``. ``flow_mw`` [MW] is the load
        each province sends to each site per workload class and period (0 where no route carries
        load); ``site_load_mw`` [MW] its sum over provinces and workloads; ``period_hours`` [h/yr]
        the periods' weights; per-site capacity, energy, emissions and cost, per-province demand.
        Attributes: scenario, input hash, status, objective, tool version and the data register.
    """
    import xarray as xr

    flows = results.flows
    provinces = list(dict.fromkeys([*results.provinces["province"], *flows["province"]]))
    sites = list(dict.fromkeys([*results.sites["site"], *flows["site"]]))
    workloads = list(dict.fromkeys(flows["workload"]))
    periods = list(dict.fromkeys(flows["period"]))
    # The flow table keeps only non-zero rows; reindexing fills every absent route with 0.
    dense = (flows.groupby(["province", "site", "workload", "period"])["load_mw"].sum()
             .to_xarray().reindex(province=provinces, site=sites, workload=workloads, period=periods)
             .fillna(0.0))
    data = {
        "flow_mw": dense,
        "site_load_mw": dense.sum(["province", "workload"]),
        "period_hours": flows.groupby("period")["hours"].first().to_xarray().reindex(period=periods),
    }
    site_table = results.sites.set_index("site")
    for name, (column, _units) in SITE_VARIABLES.items():
        data[name] = xr.DataArray(site_table[column].reindex(sites).fillna(0.0).to_numpy(float),
                                  coords={"site": sites}, dims="site")
    province_table = results.provinces.set_index("province")
    for name, (column, _units) in PROVINCE_VARIABLES.items():
        data[name] = xr.DataArray(province_table[column].reindex(provinces).fillna(0.0).to_numpy(float),
                                  coords={"province": provinces}, dims="province")
    units = {**FLOW_VARIABLES, **{n: u for n, (_c, u) in (SITE_VARIABLES | PROVINCE_VARIABLES).items()}}
    dataset = xr.Dataset({name: _describe(array.astype(float), name, units[name]) for name, array in data.items()})
    for dim in ("province", "site", "workload", "period"):
        dataset[dim] = dataset[dim].astype(str)  # plain text labels, as netCDF stores them
    summary, metadata = results.summary, results.metadata
    dataset.attrs.update({
        "title": t("nc_title", "en", scenario=summary.scenario),
        "scenario": summary.scenario,
        "input_hash": _attribute(metadata.get("input_hash")),
        "status": str(summary.status),
        "objective_cny": _attribute(metadata.get("objective_cny", summary.total_cost_cny)),
        "total_cost_cny": float(summary.total_cost_cny),
        "emissions_tco2": float(summary.emissions_tco2),
        "tool": "edwc-planner",
        "tool_version": _attribute(metadata.get("package_version")),
        "data_sources": "data/sources.csv and data/SOURCES.md of the tool version above "
                        "(edwc datapackage writes them with the tables)",
        "Conventions": "CF-1.8",
    })
    return dataset


def write_netcdf(results: Results, path: Path | str) -> Path:
    """Write :func:`results_dataset` of ``results`` to ``path`` (netCDF4), atomically; returns ``path``.

    The caller checks that the folder is the tool's to write (:func:`edwc_data.outputs.claim_folder`).
    """
    from edwc_data.files import write_atomic

    dataset = results_dataset(results)
    return write_atomic(Path(path), lambda tmp: dataset.to_netcdf(tmp, engine="netcdf4"))

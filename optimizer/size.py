"""How large a planning LP will be, worked out from its dimensions before anything is built, and the memory it may use.

A scenario file of 38 bytes (``time: {days: 366, hours_per_day: 24}``) asks for an LP of some twenty
million columns, which grows past the memory of most machines long before HiGHS starts. The counts
below follow :mod:`optimizer.formulation` family by family, from PlanInputs-level dimensions, so a
caller can refuse such a scenario in microseconds (:mod:`planner.sizing`).

Memory is an upper bound fitted above measured peaks (resident set size of ``edwc run --no-map``
on the default dataset, HiGHS matrix path): 42,905 columns 0.21 GB, 171,497 columns 0.35 GB,
514,409 columns 0.73 GB, 244,361 columns with clustered days and deferral 0.56 GB; through PuLP,
171,497 columns 0.50 GB. The estimate gives 0.5, 0.8, 1.5 and 1.1 GB (1.2 GB through PuLP) for the
same scenarios, as counted from the scenario (every cluster reachable).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

#: Memory of the process before the LP: Python, numpy, pandas, HiGHS, the map stack. [bytes]
BASE_MEMORY_BYTES = 400_000_000
#: Memory per LP column, all copies included (arrays, the solver's model, the flow table). [bytes]
BYTES_PER_COLUMN = {"highs": 700, "pulp": 1_500}
#: Memory per non-zero coefficient (triplets, the CSC matrix, the solver's factorisation). [bytes]
BYTES_PER_NONZERO = {"highs": 300, "pulp": 600}
#: Above this many columns 'auto' solves through the matrix path (optimizer.solve.AUTO_PULP_MAX_COLUMNS).
AUTO_PULP_MAX_COLUMNS = 20_000
#: Share of the available memory a plan may take unless the scenario sets its own budget. [-]
DEFAULT_BUDGET_SHARE = 0.5
#: Bytes in the gigabyte of ``solver.memory_budget_gb``. [bytes/GB]
BYTES_PER_GB = 1e9


@dataclass(frozen=True)
class LPSize:
    """Estimated size of a planning LP.

    Attributes
    ----------
    columns, rows, nonzeros : int
        Counts of the LP (upper bounds when the allowed share is).
    memory_bytes : int
        Peak memory of building, solving and tabulating it. [bytes]
    """

    columns: int
    rows: int
    nonzeros: int
    memory_bytes: int

    def describe(self) -> str:
        """``'21,012,480 columns, 8,361,936 rows and 63,138,708 non-zeros (about 33.9 GB)'``."""
        return (f"{self.columns:,} columns, {self.rows:,} rows and {self.nonzeros:,} non-zeros "
                f"(about {self.memory_bytes / BYTES_PER_GB:,.1f} GB)")


def estimate_lp_size(
    provinces: int,
    sites: int,
    classes: int,
    slices: int,
    allowed_share: float,
    *,
    days: int = 1,
    deferrable_share: float = 0.0,
    green_sites: int | None = None,
    carbon_cap: bool = False,
    latency_cap: bool = False,
    hub_share: bool = False,
    defer_peak_factor: bool = False,
    policy_families: int = 0,
    network_links: int = 0,
    network_split_pairs: int = 0,
    network_path_links: int = 0,
    backend: str = "auto",
) -> LPSize:
    """Columns, rows, non-zeros and peak memory of the planning LP, from its dimensions.

    Parameters
    ----------
    provinces, sites, classes, slices : int
        P, S, K and T of :class:`optimizer.inputs.PlanInputs`.
    allowed_share : float
        Share of the P·S·K (province, site, class) triples that may connect (within the latency
        limit, reachable, with demand); an upper bound gives an upper bound. [-]
    days : int
        Day windows W over which deferrable load moves (the representative days).
    deferrable_share : float
        Share of the triples in classes that defer load within the day (0 without deferral). [-]
    green_sites : int, optional
        Sites with green-power columns (default: every site).
    carbon_cap, latency_cap, hub_share, defer_peak_factor : bool
        Whether those rows exist.
    policy_families : int
        Other policy families in force (optimizer.policies: least green shares, PUE caps, 上架率,
        water caps), each bounded by one row per site over every load and green column.
    network_links, network_split_pairs, network_path_links : int
        Links on some path (each with a new-capacity column and one row per slice), (origin node,
        cluster) pairs with a direct path (a flow column and two rows per slice), and the most links
        on one path (how many link rows a load column enters); 0 without a network (optimizer.network).
    backend : {'auto', 'highs', 'pulp'}
        Solve path ('auto' as :func:`optimizer.solve.solve_lp` picks it).

    Returns
    -------
    LPSize
    """
    green = sites if green_sites is None else green_sites
    triples = allowed_share * provinces * sites * classes
    routes = triples * deferrable_share  # deferrable classes' (p, s, k): one column per day window
    x = (triples - routes) * slices
    n = sites
    g = green * slices
    deferring = routes > 0
    defer_sites = sites if deferring else 0
    y = routes * days
    mu = defer_sites * days
    z = defer_sites * slices
    f = c = sites  # fit-out of vacant capacity and green certificates, one column per site each
    columns = x + n + g + y + mu + z + f + c

    pairs_fixed = provinces * classes * (1.0 - deferrable_share)
    rows = pairs_fixed * slices + sites * slices + 2 * green * slices  # demand, capacity, green use and supply
    nonzeros = 3 * x + n * slices + 3 * green * slices + 2 * z  # x in demand, capacity, green use; n; g
    if deferring:
        rows += provinces * classes * deferrable_share * days + 2 * defer_sites * days
        nonzeros += 2 * y + 2 * defer_sites * days + z
        if defer_peak_factor:
            rows += defer_sites * slices
            nonzeros += 2 * z
    rows += sites  # certificates within each site's electricity
    nonzeros += x + g + c + f
    rows += policy_families * sites
    nonzeros += policy_families * (x + g + 3 * sites)
    if carbon_cap:
        rows += 1
        nonzeros += x + g + z + c
    if latency_cap:
        rows += 1
        nonzeros += x + y
    if hub_share:
        rows += 1
        nonzeros += n
    if network_links:
        h = network_split_pairs * slices
        columns += h + network_links
        rows += network_links * slices + 2 * h
        traffic = x + routes * slices  # load entries, a deferrable route's in every slice of its day
        nonzeros += network_path_links * traffic + 2 * traffic + (2 * network_path_links + 2) * h
        nonzeros += network_links * slices
    path = "pulp" if backend == "pulp" or (backend == "auto" and columns <= AUTO_PULP_MAX_COLUMNS) else "highs"
    memory = BASE_MEMORY_BYTES + BYTES_PER_COLUMN[path] * columns + BYTES_PER_NONZERO[path] * nonzeros
    return LPSize(math.ceil(columns), math.ceil(rows), math.ceil(nonzeros), math.ceil(memory))


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    # A container may hold less than the machine: cgroup v2, then v1.
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text(encoding="ascii").strip()
            usage = Path(usage_file).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit() and int(limit) < 1 << 60:
            return max(int(limit) - int(usage), 0)
    return None


def available_memory_bytes() -> int | None:
    """Memory this process could use now without swapping (/proc/meminfo, a container's limit, or sysconf). [bytes]

    None when the operating system does not say.
    """
    candidates = [value for value in (_meminfo_available(), _cgroup_headroom()) if value is not None]
    if not candidates:
        try:
            candidates = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (AttributeError, ValueError, OSError):
            return None
    return min(candidates)


def memory_budget_bytes(budget_gb: float | None = None) -> int | None:
    """The most memory a plan may take: ``budget_gb`` when given, else half of the available memory. [bytes]"""
    if budget_gb is not None:
        return int(budget_gb * BYTES_PER_GB)
    available = available_memory_bytes()
    return None if available is None else int(DEFAULT_BUDGET_SHARE * available)

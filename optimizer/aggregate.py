"""Smaller LPs: merge what the plan cannot tell apart, solve, and map the solution back exactly.

Two demand rows (a province's class in a slice, or a deferrable class's energy on a day) can be
merged when their columns pair up one to one into columns the rest of the LP cannot tell apart:
the same cost, the same lower bound, the same coefficients in every other row, and upper bounds
in the same proportion to the rows' right-hand sides. Two classes of a province with the same
latency reach and the same cost per MWh on every route are such a pair; so are two provinces whose
routes are identical. The merged LP has one row for the pair, with the summed right-hand side, and
one column for each pair of columns, with the summed upper bound.

Nothing here knows the formulation's families: candidate rows are the equality rows whose
coefficients are all 1 and whose columns enter no other such row, and columns are compared by
their numbers, so any constraint family added later that treats two columns differently keeps them
apart. The two LPs have the same optimum: a merged solution split in proportion to the rows'
right-hand sides is feasible for the original at the same cost, and every row of a merged pair takes
the merged row's dual, which leaves every split column with the merged column's reduced cost. The
mapped-back solution is then checked as every solution is (:func:`optimizer.plan.tabulate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.lp import LinearProgram
from optimizer.solve import Solution, dual_objective


@dataclass
class Aggregation:
    """A merged LP and how to map its solution back to the original.

    Attributes
    ----------
    lp : LinearProgram
        The merged LP (one column family 'merged', one row family 'merged').
    keep_columns, keep_rows : numpy.ndarray
        Original columns and rows the merged LP keeps, in its order.
    column_source, column_share : numpy.ndarray, shape (original columns,)
        Merged column each original column takes its value from, and the share it takes.
    row_source : numpy.ndarray, shape (original rows,)
        Merged row each original row takes its dual from.
    """

    lp: LinearProgram
    keep_columns: np.ndarray
    keep_rows: np.ndarray
    column_source: np.ndarray
    column_share: np.ndarray
    row_source: np.ndarray
    merged_rows: int

    @property
    def removed_columns(self) -> int:
        """Columns the merge removed."""
        return int(self.column_source.size - self.keep_columns.size)

    def map_back(self, solution: Solution, original: LinearProgram, tolerance: float = 1e-9) -> Solution:
        """The merged LP's solution as a solution of ``original``, with its own dual objective.

        Raises
        ------
        ValueError
            When the mapped duals are not dual feasible for ``original`` (then the merge was not
            exact, and the original must be solved instead).
        """
        arrays = original.arrays()
        cost, col_lower, col_upper, matrix, _, _ = arrays
        values = self.column_share * solution.values[self.column_source]
        row_duals = solution.row_duals[self.row_source]
        reduced = cost - matrix.T @ row_duals
        # A reduced cost of the wrong sign is allowed only at a bound that holds it there.
        scale = max(float(np.abs(cost).max(initial=0.0)), 1.0)
        wrong = np.where(values > col_lower + 1e-9 * np.maximum(np.abs(col_lower), 1.0), np.maximum(reduced, 0), 0.0)
        wrong += np.where(values < col_upper - 1e-9 * np.maximum(np.abs(col_upper), 1.0), np.maximum(-reduced, 0), 0)
        if float(wrong.max(initial=0.0)) > tolerance * scale:
            msg = "aggregate | the merged solution does not map back to an optimum of the original LP"
            raise ValueError(msg)
        timings = {**solution.timings, "aggregated_columns": float(self.removed_columns)}
        return Solution(values, row_duals, solution.objective, dual_objective(arrays, row_duals, reduced),
                        solution.backend, solution.model_status, timings, solution.iterations)


def _signatures(matrix: sp.csr_matrix, candidate_row: np.ndarray, seed: int = 20240601):
    # Two random projections of each column's coefficients outside the candidate rows: columns with
    # equal coefficients get equal numbers (same entries, same order of summation); others almost
    # surely not, and every match is confirmed exactly afterwards.
    rng = np.random.default_rng(seed)
    weights = rng.random((matrix.shape[0], 2)) * (~candidate_row)[:, None]
    return np.asarray(matrix.T @ weights)


def aggregate(lp: LinearProgram) -> Aggregation | None:
    """The merged LP of ``lp``, or None when nothing can be merged."""
    cost, col_lower, col_upper, matrix, row_lower, row_upper = lp.arrays()
    csr = matrix.tocsr()
    counts = np.diff(csr.indptr)
    all_one = (_row_sums(csr.data == 1.0, csr.indptr) == counts) & (counts > 0)
    candidate = (row_lower == row_upper) & all_one & (row_upper > 0)
    in_candidates = np.asarray(csr[candidate].sum(axis=0)).ravel()
    single = in_candidates == 1  # columns in exactly one candidate row
    row_ok = candidate & (_row_sums(single[csr.indices], csr.indptr) == counts)
    if not row_ok.any():
        return None
    projection = _signatures(csr, candidate)
    row_of_column = np.full(lp.num_cols, -1)
    coo = csr[row_ok].tocoo()
    rows_ok = np.nonzero(row_ok)[0]
    row_of_column[coo.col] = rows_ok[coo.row]
    columns = np.nonzero(row_of_column >= 0)[0]
    ratio = np.where(np.isfinite(col_upper[columns]), col_upper[columns] / row_upper[row_of_column[columns]], np.inf)
    signature = np.column_stack([cost[columns], col_lower[columns], projection[columns], ratio])
    # Group the candidate rows by the multiset of their columns' signatures.
    order = np.lexsort((*signature.T[::-1], row_of_column[columns]))
    columns, signature = columns[order], signature[order]
    groups: dict[bytes, list[int]] = {}
    starts = np.flatnonzero(np.r_[True, np.diff(row_of_column[columns]) != 0])
    for start, stop in zip(starts, np.r_[starts[1:], columns.size], strict=True):
        key = signature[start:stop].tobytes()
        groups.setdefault(key, []).append(start)
    column_source = np.arange(lp.num_cols)
    column_share = np.ones(lp.num_cols)
    row_source = np.arange(lp.num_rows)
    new_upper, new_rhs = col_upper.copy(), row_upper.copy()
    removed_rows, removed_cols = [], []
    starts_of = dict(zip(starts.tolist(), np.r_[starts[1:], columns.size].tolist(), strict=True))
    csc = csr.tocsc()
    for members in groups.values():
        if len(members) < 2:
            continue
        blocks = [columns[start:starts_of[start]] for start in members]
        if not all(_same_columns(csc, cost, col_lower, blocks[0], block, candidate) for block in blocks[1:]):
            continue
        rows = [int(row_of_column[block[0]]) for block in blocks]
        total = float(sum(row_upper[r] for r in rows))
        keep_row, keep_block = rows[0], blocks[0]
        for row, block in zip(rows, blocks, strict=True):
            share = row_upper[row] / total
            column_source[block] = keep_block
            column_share[block] = share
            row_source[row] = keep_row
        new_rhs[keep_row] = total
        new_upper[keep_block] = np.sum([col_upper[block] for block in blocks], axis=0)
        removed_rows.extend(rows[1:])
        removed_cols.extend(np.concatenate(blocks[1:]).tolist())
    if not removed_rows:
        return None
    keep_columns = np.setdiff1d(np.arange(lp.num_cols), removed_cols)
    keep_rows = np.setdiff1d(np.arange(lp.num_rows), removed_rows)
    position_col = np.full(lp.num_cols, -1)
    position_col[keep_columns] = np.arange(keep_columns.size)
    position_row = np.full(lp.num_rows, -1)
    position_row[keep_rows] = np.arange(keep_rows.size)
    merged = LinearProgram()
    merged.add_columns("merged", cost[keep_columns], col_lower[keep_columns], new_upper[keep_columns])
    sub = csr[keep_rows][:, keep_columns].tocoo()
    lower = np.where(row_lower[keep_rows] == row_upper[keep_rows], new_rhs[keep_rows], row_lower[keep_rows])
    merged.add_rows("merged", keep_rows.size, sub.row, sub.col, sub.data, lower, new_rhs[keep_rows])
    return Aggregation(merged, keep_columns, keep_rows, position_col[column_source], column_share,
                       position_row[row_source], len(removed_rows))


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each row of a CSR layout (empty rows give 0)."""
    return np.diff(np.concatenate([[0], np.cumsum(values, dtype=np.int64)])[indptr])


def _same_columns(csc, cost, col_lower, first: np.ndarray, other: np.ndarray, candidate: np.ndarray) -> bool:
    # Exact check of a pairing found by signature: equal costs, bounds and coefficients outside the
    # candidate rows, column by column.
    if first.size != other.size or not (np.array_equal(cost[first], cost[other])
                                        and np.array_equal(col_lower[first], col_lower[other])):
        return False
    for a, b in zip(first, other, strict=True):
        ra, rb = csc.indices[csc.indptr[a]:csc.indptr[a + 1]], csc.indices[csc.indptr[b]:csc.indptr[b + 1]]
        va, vb = csc.data[csc.indptr[a]:csc.indptr[a + 1]], csc.data[csc.indptr[b]:csc.indptr[b + 1]]
        keep_a, keep_b = ~candidate[ra], ~candidate[rb]
        if not (np.array_equal(ra[keep_a], rb[keep_b]) and np.array_equal(va[keep_a], vb[keep_b])):
            return False
    return True

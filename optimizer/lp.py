"""The LP container every formulation fills: columns and rows by family, coefficients as arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

INF = np.inf


@dataclass
class Block:
    """A contiguous range of columns or rows belonging to one family."""

    family: str
    start: int
    stop: int


@dataclass
class LinearProgram:
    """min c·x  subject to  row_lower ≤ A·x ≤ row_upper,  col_lower ≤ x ≤ col_upper.

    Rows are equalities (lower = upper), ≤ rows (lower = -inf) or ≥ rows (upper = inf);
    no ranged rows, so every backend can state them with a single sense.
    """

    cost: list[np.ndarray] = field(default_factory=list)
    col_lower: list[np.ndarray] = field(default_factory=list)
    col_upper: list[np.ndarray] = field(default_factory=list)
    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    _coo_rows: list[np.ndarray] = field(default_factory=list)
    _coo_cols: list[np.ndarray] = field(default_factory=list)
    _coo_vals: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    num_cols: int = 0
    num_rows: int = 0
    _arrays: tuple | None = field(default=None, repr=False, compare=False)

    def add_columns(self, family: str, cost, lower, upper) -> Block:
        """Append a family of columns and return its block."""
        cost = np.asarray(cost, float)
        count = cost.size
        self.cost.append(cost)
        self.col_lower.append(np.broadcast_to(np.asarray(lower, float), count).copy())
        self.col_upper.append(np.broadcast_to(np.asarray(upper, float), count).copy())
        block = Block(family, self.num_cols, self.num_cols + count)
        self.columns[family] = block
        self.num_cols += count
        self._arrays = None
        return block

    def add_rows(self, family: str, count: int, row, col, val, lower, upper) -> Block:
        """Append ``count`` rows given as triplets with row numbers local to the family."""
        block = Block(family, self.num_rows, self.num_rows + count)
        val = np.asarray(val, float)
        keep = val != 0  # explicit zeros slow HiGHS's row loading down
        self._coo_rows.append(np.asarray(row, np.int64)[keep] + self.num_rows)
        self._coo_cols.append(np.asarray(col, np.int64)[keep])
        self._coo_vals.append(val[keep])
        self._row_lower.append(np.broadcast_to(np.asarray(lower, float), count).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, float), count).copy())
        self.rows[family] = block
        self.num_rows += count
        self._arrays = None
        return block

    def add_entries(self, rows, cols, vals) -> None:
        """Add coefficients at existing rows and columns (e.g. slack columns entering existing rows)."""
        vals = np.asarray(vals, float)
        keep = vals != 0
        self._coo_rows.append(np.asarray(rows, np.int64)[keep])
        self._coo_cols.append(np.asarray(cols, np.int64)[keep])
        self._coo_vals.append(vals[keep])
        self._arrays = None

    def copy(self, cost: np.ndarray | None = None) -> LinearProgram:
        """A copy sharing no mutable state, optionally with another objective on the same columns."""
        out = LinearProgram(
            cost=[part.copy() for part in self.cost],
            col_lower=[part.copy() for part in self.col_lower],
            col_upper=[part.copy() for part in self.col_upper],
            columns=dict(self.columns),
            rows=dict(self.rows),
            _coo_rows=list(self._coo_rows),
            _coo_cols=list(self._coo_cols),
            _coo_vals=list(self._coo_vals),
            _row_lower=list(self._row_lower),
            _row_upper=list(self._row_upper),
            num_cols=self.num_cols,
            num_rows=self.num_rows,
        )
        if cost is not None:
            cost = np.asarray(cost, float)
            if cost.size != self.num_cols:
                msg = f"LinearProgram.copy | cost has {cost.size} entries for {self.num_cols} columns"
                raise ValueError(msg)
            out.cost = [cost.copy()]
        return out

    def with_slack(self, family: str, cost, upper, rows, cols, vals) -> LinearProgram:
        """A copy with one family of non-negative slack columns that enter existing rows.

        Parameters
        ----------
        family : str
            Name of the new column family.
        cost, upper : array or float
            Cost and upper bound of each slack column (the family's size is ``len(cost)``).
        rows, cols, vals : arrays
            Entries: absolute row number, slack column number within the family, coefficient.
        """
        out = self.copy()
        block = out.add_columns(family, cost, 0.0, upper)
        out.add_entries(rows, block.start + np.asarray(cols, np.int64), vals)
        return out

    def arrays(self):
        """(c, col_lower, col_upper, A as CSR, row_lower, row_upper); read-only.

        Built once and kept until a family is added: the solve, the dual objective and the
        diagnosis all ask for them, and at national size building the matrix costs a tenth of
        a second each time.
        """
        if self._arrays is None:
            self._arrays = self._build_arrays()
        return self._arrays

    def _build_arrays(self):
        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0)

        matrix = sp.csr_matrix(
            (cat(self._coo_vals), (cat(self._coo_rows).astype(np.int64), cat(self._coo_cols).astype(np.int64))),
            shape=(self.num_rows, self.num_cols),
        )
        matrix.sum_duplicates()
        return (
            cat(self.cost),
            cat(self.col_lower),
            cat(self.col_upper),
            matrix,
            cat(self._row_lower),
            cat(self._row_upper),
        )

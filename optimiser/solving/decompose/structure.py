"""Which scheme each column belongs to, and which rows couple schemes.

Works on the compiled matrix, not on the model's code, so that a new constraint family needs
no change here: a column's scheme is read from its Pyomo variable's index (a scheme id, or a
resident or care route, which belong to one scheme); every other column (framework admission,
provider hours, total hours...) is a *global* column. A row is *local* to a block when all its
columns are, and *coupling* when its columns span two or more blocks (docs/decomposition.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimiser.inputs.params import Params
from optimiser.solving.highs import Compiled

GLOBAL = "(global)"  # the block of columns that belong to no single scheme


def owners(p: Params) -> tuple[set, dict, dict]:
    """(scheme ids, resident -> scheme, care route -> scheme) from the parameter tables."""
    schemes = set(p.data.schemes["scheme_id"])
    residents = dict(zip(p.packages["resident_id"], p.packages["scheme_id"], strict=True))
    routes = dict(zip(p.routes["route"], p.routes["scheme_id"], strict=True))
    return schemes, residents, routes


def column_scheme(index: object, schemes: set, residents: dict, routes: dict) -> str:
    """The scheme a variable belongs to, from its index alone: a scheme id anywhere in the
    index; else a resident's or (for a single integer index) a care route's scheme; else
    global. Slots and patterns are integers or names too, but only ever beside a scheme id."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, str) and part in schemes:
            return part
    for part in parts:
        if isinstance(part, str) and part in residents:
            return residents[part]
    if len(parts) == 1 and isinstance(parts[0], (int, np.integer)) and parts[0] in routes:
        return routes[parts[0]]
    return GLOBAL


@dataclass
class Structure:
    """The blocks of the compiled model and the rows that couple them.

    blocks: block names, the schemes in data order then GLOBAL; column_block[c] and
    row_block[i] index into it (row_block is -1 for a coupling row)."""

    blocks: list[str]
    column_block: np.ndarray
    row_block: np.ndarray
    csr: sp.csr_matrix
    integer: np.ndarray  # per column: integer or binary

    @property
    def coupling_rows(self) -> np.ndarray:
        return np.flatnonzero(self.row_block < 0)

    def columns_of(self, b: int) -> np.ndarray:
        return np.flatnonzero(self.column_block == b)

    def rows_of(self, b: int) -> np.ndarray:
        return np.flatnonzero(self.row_block == b)

    @property
    def schemes(self) -> int:
        """Blocks that are schemes (every block but the global one)."""
        return len(self.blocks) - 1


def matrix(compiled: Compiled) -> sp.csc_matrix:
    """The constraint matrix of a compiled model as scipy CSC."""
    a = compiled.lp.a_matrix_
    shape = (compiled.lp.num_row_, compiled.lp.num_col_)
    return sp.csc_matrix((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
                         shape=shape)


def detect(compiled: Compiled, p: Params) -> Structure:
    """Tag every column with its block and classify every row."""
    schemes, residents, routes = owners(p)
    order = [s for s in p.data.schemes["scheme_id"]]
    blocks = [*order, GLOBAL]
    position = {name: i for i, name in enumerate(blocks)}
    column_block = np.array(
        [position[column_scheme(v.index(), schemes, residents, routes)]
         for v in compiled.columns], dtype=np.int64)
    csr = matrix(compiled).tocsr()
    row_block = _row_blocks(csr, column_block, position[GLOBAL])
    integer = np.array([v.is_integer() or v.is_binary() for v in compiled.columns], dtype=bool)
    row_block = _price_rows_on_scheme_sums(csr, row_block, column_block, integer,
                                           position[GLOBAL])
    return Structure(blocks=blocks, column_block=column_block, row_block=row_block, csr=csr,
                     integer=integer)


def _price_rows_on_scheme_sums(csr: sp.csr_matrix, row_block: np.ndarray,
                               column_block: np.ndarray, integer: np.ndarray,
                               global_block: int) -> np.ndarray:
    """Make coupling the global rows over continuous global columns that coupling rows tie
    to the schemes' activity (a provider's capacity and market share, over its hours summed
    from every scheme). Kept in the global block they would hold only that block's own copy
    of the sums, so the schemes' answers could break them unseen and no price would steer the
    schemes away; as coupling rows they are priced like any other."""
    coupling = row_block < 0
    in_coupling = np.zeros(csr.shape[1], dtype=bool)
    in_coupling[np.unique(csr[coupling].indices)] = True
    sums = (column_block == global_block) & ~integer & in_coupling
    touches = np.asarray(abs(csr) @ sums.astype(float)).ravel() > 0
    out = row_block.copy()
    out[(row_block == global_block) & touches] = -1
    return out


def _row_blocks(csr: sp.csr_matrix, column_block: np.ndarray, global_block: int) -> np.ndarray:
    """The one block a row's columns lie in, or -1 if they span several (an empty row is
    global)."""
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    tags = column_block[csr.indices]
    low = np.full(csr.shape[0], np.iinfo(np.int64).max)
    high = np.full(csr.shape[0], -1)
    np.minimum.at(low, rows, tags)
    np.maximum.at(high, rows, tags)
    out = np.where(low == high, low, -1)
    out[high < 0] = global_block
    return out

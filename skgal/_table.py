"""Parameter tables: galaxies as rows, read by column name.

A table is either a dataframe (pandas, polars: anything with ``columns``), read by
name, or a plain 2-D array, read by position. This module imports nothing from skgal.

Columns (units in brackets):

==================  =====================================================================
``I_e``             disc-plane intensity at ``R_e`` [flux per unit length^3], > 0
``R_e``             half-light radius of the face-on disc [length units], > 0
``n``               Sérsic index [dimensionless], > 0
``q``               intrinsic flattening [dimensionless], in (0, 1]
``inclination``     [degrees], in [0, 90]; 0 is face-on. Optional
``position_angle``  of the major axis, counter-clockwise from +x [degrees]. Optional
``x_offset``        of the galaxy's centre from the stamp's centre, towards higher
                    column index [pixels]. Optional, with ``y_offset``
``y_offset``        the same towards higher row index [pixels]. Optional
``seed``            the galaxy's own noise seed, an integer >= 0 (the noise steps take it
                    as ``seeds``, so one galaxy's rows may carry several noise draws).
                    Optional; rendering ignores it
==================  =====================================================================

A plain array's columns are a prefix of that order: 4 columns are ``I_e, R_e, n, q``;
5 add ``inclination``; 6 add ``position_angle``; 8 add both offsets; 9 add ``seed``. A
table that skips a column (a position angle without an inclination, say) needs names.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_array

REQUIRED_COLUMNS = ("I_e", "R_e", "n", "q")
OPTIONAL_COLUMNS = ("inclination", "position_angle", "x_offset", "y_offset", "seed")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: widths of a plain array, read by position
POSITIONAL_WIDTHS = (4, 5, 6, 8, 9)

_RULES = {
    "I_e": (lambda v: v > 0, "> 0"),
    "R_e": (lambda v: v > 0, "> 0"),
    "n": (lambda v: v > 0, "> 0"),
    "q": (lambda v: (v > 0) & (v <= 1), "in (0, 1]"),
    "inclination": (lambda v: (v >= 0) & (v <= 90), "in [0, 90] degrees"),
    # integers a float64 holds exactly
    "seed": (lambda v: (v >= 0) & (v < 2.0**53) & (v == np.floor(v)), "an integer >= 0"),
}


class ParameterTable:
    """A validated table: ``columns`` maps each given name to a float64 array.

    Parameters
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
    names : tuple of str
        The column names in the order the user gave them.
    from_frame : bool
        Whether the names came from a dataframe (rather than by position).
    """

    def __init__(self, columns, names, from_frame):
        self.columns = columns
        self.names = names
        self.from_frame = from_frame

    def __len__(self):
        return len(self.columns["I_e"])

    def __contains__(self, name):
        return name in self.columns

    def get(self, name, default):
        """The column ``name``, or ``default`` broadcast to the table's length."""
        if name in self.columns:
            return self.columns[name]
        return np.full(len(self), float(default))

    def seeds(self):
        """The ``seed`` column as int64, or None when the table has none."""
        return self.columns["seed"].astype(np.int64) if "seed" in self.columns else None

    def to_array(self, names=None):
        """The columns ``names`` (default: all, in the given order) as an (n, k) array."""
        names = self.names if names is None else names
        return np.column_stack([self.columns[c] for c in names])


def _is_frame(X):
    return hasattr(X, "columns") and not isinstance(X, np.ndarray)


def read_parameter_table(X, *, name="X"):
    """Validate a parameter table (dataframe or array); returns a :class:`ParameterTable`.

    Raises
    ------
    ValueError
        Missing, unknown or repeated columns, a plain array of a width that is not
        a prefix of the canonical order, or a value out of its range (the message
        names the column, the row and the allowed range).
    TypeError
        A table that is not numeric.
    """
    if _is_frame(X):
        names = tuple(str(c) for c in X.columns)
        repeated = sorted({c for c in names if names.count(c) > 1})
        if repeated:
            raise ValueError(f"{name} has repeated columns {repeated}")
        unknown = [c for c in names if c not in ALL_COLUMNS]
        if unknown:
            raise ValueError(
                f"{name} has unknown columns {unknown}; allowed: {list(ALL_COLUMNS)}")
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ValueError(f"{name} lacks the required columns {missing}; a table needs "
                             f"{list(REQUIRED_COLUMNS)} and may have {list(OPTIONAL_COLUMNS)}")
        if ("x_offset" in names) != ("y_offset" in names):
            raise ValueError(f"{name} must have both 'x_offset' and 'y_offset', or neither")
        try:
            values = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X,
                                dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold numbers in every column") from None
        values = check_array(values, dtype=np.float64, ensure_all_finite=True,
                             ensure_min_samples=1, input_name=name)
        from_frame = True
    else:
        values = check_array(X, dtype=np.float64, ensure_all_finite=True,
                             ensure_min_samples=1, input_name=name)
        if values.shape[1] not in POSITIONAL_WIDTHS:
            raise ValueError(
                f"{name} must have 4 columns {REQUIRED_COLUMNS}, optionally followed by "
                f"'inclination' (5), 'position_angle' (6), 'x_offset', 'y_offset' (8) and "
                f"'seed' (9); "
                f"got {values.shape[1]} columns. Use a dataframe to name other layouts")
        names = ALL_COLUMNS[:values.shape[1]]
        from_frame = False
    columns = {c: np.ascontiguousarray(values[:, j]) for j, c in enumerate(names)}
    for column, (rule, allowed) in _RULES.items():
        if column not in columns:
            continue
        ok = rule(columns[column])
        if not np.all(ok):
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"{name}: column {column!r} must be {allowed}; row {row} has "
                             f"{columns[column][row]!r}")
    return ParameterTable(columns, names, from_frame)


def as_table(values, names, *, as_frame):
    """An (n, k) array with column ``names`` as an ndarray or a pandas DataFrame."""
    if as_frame:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a dependency
            raise ImportError("as_frame=True needs pandas") from None
        return pd.DataFrame(values, columns=list(names))
    return values


def is_positional(names):
    """Whether ``names`` is a prefix of the canonical order (an array can hold it)."""
    names = tuple(names)
    return len(names) in POSITIONAL_WIDTHS and names == ALL_COLUMNS[:len(names)]


def check_count(value, name):
    """An integer >= 1 (not a bool)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)

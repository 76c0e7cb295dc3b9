"""Scoring responses: validation, reverse keying, proration, subscale and total scores.

Two paths give identical results (a hypothesis property test holds them to it):

* :func:`score_response` scores one response given as ``{item_id: value}``;
* :func:`score_table` scores a pandas table with one row per response and one column
  per item, vectorised with NumPy, carrying any other columns through.

Rules
-----
* A value must be a number (numeric text such as ``"4"`` is accepted), inside the item's
  response scale and, for whole-number scales, a whole number. Anything else raises
  :class:`~alliance.errors.ScoringError` naming the item and the value; nothing is clamped.
* Missing answers (``None``, NaN, empty text) are allowed. Under the default ``prorate``
  rule a subscale with at most ``max_missing_per_subscale`` missing items (and at least one
  answered) is prorated: for sum scoring ``raw = mean(answered) * n_items``; for mean
  scoring ``raw = mean(answered)``. More missing makes the subscale invalid, and says why.
  Under the ``complete`` rule any missing item invalidates its subscale.
* The total is invalid when any subscale is; otherwise it is the sum of the subscale raw
  scores (sum scoring) or the item-weighted mean of subscale means (mean scoring). An
  instrument without subscales applies the missing rule to all its items as one unit.
* Reverse-keyed items are scored as ``min + max - value``.
* ``pom`` (percent of maximum) is ``100 * (raw - lowest) / (highest - lowest)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from alliance.errors import ScoringError
from alliance.instruments.spec import TOTAL, Instrument, Item

Status = Literal["complete", "prorated", "invalid"]
SUFFIXES = ("raw", "pom", "status", "note")


@dataclass(frozen=True)
class ScaleScore:
    """One score (a subscale or the total) of one response."""

    name: str
    raw: float | None
    pom: float | None
    status: Status
    answered: int
    items: int
    note: str = ""

    @property
    def valid(self) -> bool:
        return self.status != "invalid"


@dataclass(frozen=True)
class Score:
    """Every score of one response, in the instrument's order (subscales, then total)."""

    instrument: str
    scores: Mapping[str, ScaleScore]

    @property
    def total(self) -> ScaleScore:
        return self.scores[TOTAL]

    def __getitem__(self, name: str) -> ScaleScore:
        return self.scores[name]

    def as_row(self) -> dict[str, Any]:
        """Flat ``{score}_{raw,pom,status,note}`` columns, as :func:`score_table` writes them."""
        row: dict[str, Any] = {}
        for name, sc in self.scores.items():
            row[f"{name}_raw"] = sc.raw
            row[f"{name}_pom"] = sc.pom
            row[f"{name}_status"] = sc.status
            row[f"{name}_note"] = sc.note
        return row


def _fmt(value: Any) -> str:
    """An answer as the user wrote it: numbers plain, non-numeric text quoted."""
    if isinstance(value, str):
        try:
            return _fmt(float(value.strip()))
        except ValueError:
            return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_value(item: Item, value: Any) -> float | None:
    """The numeric value of one answer, ``None`` when missing; raises on a bad answer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | np.number):
        raise ScoringError(f"item {item.id!r}: {value!r} is not a number; expected "
                           f"{item.scale.describe()}", item=item.id, value=value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise ScoringError(f"item {item.id!r}: {value!r} is not a number; expected "
                               f"{item.scale.describe()}", item=item.id, value=value) from None
    else:
        try:
            number = float(value)
        except OverflowError:  # an integer past the float range is past any scale's maximum
            number = math.inf
    if math.isnan(number):
        return None
    if math.isinf(number) or not item.scale.min <= number <= item.scale.max:
        raise ScoringError(f"item {item.id!r}: {_fmt(value)} is out of range; expected "
                           f"{item.scale.describe()}", item=item.id, value=value)
    if item.scale.integer and not number.is_integer():
        raise ScoringError(f"item {item.id!r}: {_fmt(value)} is not a whole number; expected "
                           f"{item.scale.describe()}", item=item.id, value=value)
    return number


def _units(instrument: Instrument) -> list[tuple[str, tuple[str, ...]]]:
    if instrument.subscales:
        return [(s.id, s.items) for s in instrument.subscales]
    return [(TOTAL, instrument.item_ids)]


def _pom(instrument: Instrument, name: str, raw: float) -> float:
    lo, hi = instrument.score_range(name)
    return 100.0 * (raw - lo) / (hi - lo)


def _missing_note(missing: int, n: int, allowed: int, rule: str) -> str:
    if rule == "complete":
        return f"{missing} of {n} items missing; this instrument requires every item"
    return f"{missing} of {n} items missing; at most {allowed} may be missing"


def score_response(instrument: Instrument, answers: Mapping[str, Any]) -> Score:
    """Score one response.

    A value out of range is refused; a missing answer leaves its subscale and the total
    invalid when the instrument's missing rule allows no gap there (pulse-3: one item each).

    >>> from alliance.instruments import get_instrument
    >>> s = score_response(get_instrument("pulse-3"), {"bond": 6, "goal": 7, "task": None})
    >>> s["bond"].raw, s["task"].status, s.total.status
    (6.0, 'invalid', 'invalid')
    >>> score_response(get_instrument("pulse-3"), {"bond": 9, "goal": 7, "task": 7})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    alliance.errors.ScoringError: item 'bond': 9 is out of range; expected a whole number ...
    """
    if not isinstance(answers, Mapping):
        raise ScoringError(f"a response must map item ids to values, not "
                           f"{type(answers).__name__}")
    known = set(instrument.item_ids)
    unknown = [k for k in answers if k not in known]
    if unknown:
        raise ScoringError(f"{instrument.id}: unknown item {unknown[0]!r}; its items are "
                           f"{', '.join(instrument.item_ids)}", item=unknown[0])
    keyed: dict[str, float | None] = {}
    for item in instrument.items:
        v = check_value(item, answers.get(item.id))
        if v is not None and item.reverse:
            v = item.scale.min + item.scale.max - v
        keyed[item.id] = v

    rule = instrument.missing
    scores: dict[str, ScaleScore] = {}
    for name, ids in _units(instrument):
        present = [keyed[i] for i in ids if keyed[i] is not None]
        n, answered = len(ids), len(present)
        missing = n - answered
        allowed = 0 if rule.rule == "complete" else rule.max_missing_per_subscale
        if answered == 0 or missing > allowed:
            scores[name] = ScaleScore(name, None, None, "invalid", answered, n,
                                      _missing_note(missing, n, allowed, rule.rule))
            continue
        mean = sum(present) / answered  # type: ignore[arg-type]
        raw = mean * n if instrument.method == "sum" else mean
        status: Status = "prorated" if missing else "complete"
        note = f"prorated from {answered} of {n} items" if missing else ""
        scores[name] = ScaleScore(name, raw, _pom(instrument, name, raw), status, answered, n, note)

    if instrument.subscales:
        subs = [scores[s.id] for s in instrument.subscales]
        n = len(instrument.items)
        answered = sum(s.answered for s in subs)
        bad = [s.name for s in subs if not s.valid]
        if bad:
            scores[TOTAL] = ScaleScore(TOTAL, None, None, "invalid", answered, n,
                                       f"invalid subscale: {', '.join(bad)}")
        else:
            if instrument.method == "sum":
                raw = sum(s.raw or 0.0 for s in subs)
            else:
                raw = sum((s.raw or 0.0) * s.items for s in subs) / n
            prorated = [s.name for s in subs if s.status == "prorated"]
            scores[TOTAL] = ScaleScore(
                TOTAL, raw, _pom(instrument, TOTAL, raw), "prorated" if prorated else "complete",
                answered, n, f"prorated subscale: {', '.join(prorated)}" if prorated else "")
    return Score(instrument.id, scores)


def _problem(row: int, ident: str, item: Item, value: Any, what: str) -> str:
    where = f"row {row + 1}" + (f" ({ident})" if ident else "")
    return f"{where}, item {item.id!r}: {_fmt(value)} {what}; expected {item.scale.describe()}"


def item_matrix(instrument: Instrument, table: pd.DataFrame,
                id_columns: list[str] | None = None) -> np.ndarray:
    """The validated, reverse-keyed ``n x k`` float matrix (NaN = missing) of a table.

    Raises :class:`ScoringError` listing the first problems (row, item, value) when any
    value is non-numeric, out of range or not a whole number, or an item column is absent.
    """
    absent = [i for i in instrument.item_ids if i not in table.columns]
    if absent:
        raise ScoringError(f"{instrument.id}: the table has no column for item(s) "
                           f"{', '.join(absent)}; item columns must be named by item id",
                           item=absent[0])
    n = len(table)
    out = np.empty((n, len(instrument.items)), dtype=np.float64)
    problems: list[str] = []
    count = 0
    ident_cols = [c for c in (id_columns or []) if c in table.columns][:1]

    def ident(row: int) -> str:
        return f"{ident_cols[0]}={table[ident_cols[0]].iloc[row]}" if ident_cols else ""

    for j, item in enumerate(instrument.items):
        col = table[item.id]
        if pd.api.types.is_bool_dtype(col.dtype):
            values = np.full(n, np.nan)
            bad_text = col.notna().to_numpy()
        elif pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            bad_text = np.zeros(n, dtype=bool)
        else:
            as_text = col.astype("string").str.strip()
            blank = as_text.isna() | (as_text == "")
            values = pd.to_numeric(as_text.mask(blank), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan)
            bad_text = ~blank.to_numpy() & np.isnan(values)
        finite = ~np.isnan(values)
        out_of_range = finite & ((values < item.scale.min) | (values > item.scale.max))
        out_of_range |= np.isinf(values)
        fractional = (finite & ~out_of_range & (values != np.floor(values))) if item.scale.integer \
            else np.zeros(n, dtype=bool)
        for mask, what in ((bad_text, "is not a number"), (out_of_range, "is out of range"),
                           (fractional, "is not a whole number")):
            if mask.any():
                rows = np.flatnonzero(mask)
                count += len(rows)
                for r in rows[: max(0, 10 - len(problems))]:
                    problems.append(_problem(int(r), ident(int(r)), item, col.iloc[r], what))
        if item.reverse:
            values = item.scale.min + item.scale.max - values
        out[:, j] = values
    if count:
        more = f" (and {count - len(problems)} more)" if count > len(problems) else ""
        raise ScoringError(f"{instrument.id}: {count} invalid value(s){more}:\n  "
                           + "\n  ".join(problems), problems=problems, count=count)
    return out


def score_table(instrument: Instrument, table: pd.DataFrame,
                id_columns: list[str] | None = None) -> pd.DataFrame:
    """Score every row of ``table``; returns its non-item columns followed by the scores.

    Columns per score (subscales, then ``total``): ``{score}_raw``, ``{score}_pom``,
    ``{score}_status`` (complete / prorated / invalid) and ``{score}_note``; status and note
    are categoricals (few distinct values, cheap to store). Results equal
    :func:`score_response` row by row.
    """
    if not isinstance(table, pd.DataFrame):
        raise ScoringError(f"expected a pandas DataFrame, not {type(table).__name__}")
    carried = [c for c in table.columns if c not in set(instrument.item_ids)]
    if id_columns is None:
        id_columns = carried
    x = item_matrix(instrument, table, id_columns)
    index = {iid: j for j, iid in enumerate(instrument.item_ids)}
    n = len(table)
    rule = instrument.missing
    allowed = 0 if rule.rule == "complete" else rule.max_missing_per_subscale
    cols: dict[str, Any] = {c: table[c] for c in carried}

    unit_raw: dict[str, np.ndarray] = {}
    unit_status: dict[str, np.ndarray] = {}
    for name, ids in _units(instrument):
        block = x[:, [index[i] for i in ids]]
        present = ~np.isnan(block)
        answered = present.sum(axis=1)
        k = len(ids)
        missing = k - answered
        sums = np.where(present, block, 0.0).sum(axis=1)
        invalid = (answered == 0) | (missing > allowed)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums / answered
        raw = mean * k if instrument.method == "sum" else mean
        raw = np.where(invalid, np.nan, raw)
        status = np.where(invalid, 2, np.where(missing > 0, 1, 0)).astype(np.int8)
        # Notes by code: 0 = none, 1..k = "prorated from a of k", k+1..2k+1 = missing m (0..k).
        notes = ["", *(f"prorated from {a} of {k} items" for a in range(1, k + 1)),
                 *(_missing_note(m, k, allowed, rule.rule) for m in range(k + 1))]
        code = np.where(invalid, k + 1 + missing, np.where(missing > 0, answered, 0))
        unit_raw[name], unit_status[name] = raw, status
        cols.update(_score_columns(instrument, name, raw, status, code, notes))

    if instrument.subscales:
        names = [s.id for s in instrument.subscales]
        inv_mask = np.zeros(n, dtype=np.int64)
        pro_mask = np.zeros(n, dtype=np.int64)
        for bit, s in enumerate(names):
            inv_mask |= (unit_status[s] == 2).astype(np.int64) << bit
            pro_mask |= (unit_status[s] == 1).astype(np.int64) << bit
        if instrument.method == "sum":
            raw = sum(unit_raw[s] for s in names)
        else:
            sizes = {s.id: len(s.items) for s in instrument.subscales}
            raw = sum(unit_raw[s] * sizes[s] for s in names) / len(instrument.items)
        raw = np.where(inv_mask > 0, np.nan, raw)
        status = np.where(inv_mask > 0, 2, np.where(pro_mask > 0, 1, 0)).astype(np.int8)
        combos = range(1, 2 ** len(names))

        def listed(mask: int) -> str:
            return ", ".join(s for bit, s in enumerate(names) if mask >> bit & 1)

        notes = ["", *(f"invalid subscale: {listed(m)}" for m in combos),
                 *(f"prorated subscale: {listed(m)}" for m in combos)]
        offset = len(combos)
        code = np.where(inv_mask > 0, inv_mask, np.where(pro_mask > 0, offset + pro_mask, 0))
        cols.update(_score_columns(instrument, TOTAL, raw, status, code, notes))
    return pd.DataFrame(cols, index=table.index)


STATUSES = ("complete", "prorated", "invalid")


def _score_columns(instrument: Instrument, name: str, raw: np.ndarray, status: np.ndarray,
                   note_code: np.ndarray, notes: list[str]) -> dict[str, Any]:
    lo, hi = instrument.score_range(name)
    return {f"{name}_raw": raw, f"{name}_pom": 100.0 * (raw - lo) / (hi - lo),
            f"{name}_status": pd.Categorical.from_codes(status, categories=pd.Index(STATUSES)),
            f"{name}_note": pd.Categorical.from_codes(note_code.astype(np.int64),
                                                      categories=pd.Index(notes))}

"""Within- and between-person parts of a repeated predictor, and next-session pairs.

A client's alliance rating in a session mixes a stable, trait-like level (how this client
rates alliances in general) and a state-like fluctuation (this session was better or worse
than usual). The two can predict outcome differently (Zilcha-Mano 2017), so they are
separated by **person-mean centring** (Curran & Bauer 2011; Falkenström et al. 2017):

* ``between = mean_i(alliance) - mean over persons of mean_i(alliance)``: the client's
  level relative to the sample (each person counted once);
* ``within = alliance_it - mean_i(alliance)``: the session's departure from the client's own
  level; it sums to zero within each client and is uncorrelated with ``between``.

For temporal precedence the predictor comes one session before the outcome: each row of
:func:`lagged_pairs` joins session ``t``'s alliance parts with session ``t + 1``'s outcome
(and session ``t``'s outcome, for models that adjust for it). Only *consecutive* sessions
pair; a missed session breaks the chain rather than bridging a longer gap.

References: Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person and
between-person effects in longitudinal models of change. *Annual Review of Psychology, 62*,
583-619. Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R. (2017).
Dynamic models of individual change in psychotherapy process research. *Journal of
Consulting and Clinical Psychology, 85*(6), 537-549. Zilcha-Mano, S. (2017). Is the alliance
really therapeutic? *American Psychologist, 72*(4), 311-325.

>>> import pandas as pd
>>> t = pd.DataFrame({"client": ["a", "a", "a", "b", "b"], "session": [1, 2, 3, 1, 2],
...                   "alliance": [4.0, 5.0, 6.0, 2.0, 4.0], "outcome": [10, 9, 7, 12, 12]})
>>> parts = person_mean_centre(t, person="client", column="alliance")
>>> parts[["alliance_within", "alliance_between"]].to_numpy().tolist()
[[-1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]
>>> lagged_pairs(t, person="client", session="session", alliance="alliance",
...              outcome="outcome")["outcome_next"].tolist()
[9.0, 7.0, 12.0]
"""

from __future__ import annotations

import pandas as pd

from alliance.errors import AnalysisError


def _require(table: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError(f"expected a pandas DataFrame, not {type(table).__name__}")
    for col in columns:
        if col not in table.columns:
            raise AnalysisError(f"no column {col!r}; the table has "
                                f"{', '.join(map(str, table.columns))}")


def _numeric(table: pd.DataFrame, column: str, person: str) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = table[column].notna() & values.isna()
    if bad.any():
        row = table[bad].iloc[0]
        raise AnalysisError(f"{person} {row[person]}: {column} {row[column]!r} is not a number")
    return values.astype(float)


def person_mean_centre(table: pd.DataFrame, *, person: str, column: str) -> pd.DataFrame:
    """``table`` with ``{column}_within``, ``{column}_between`` and ``{column}_mean`` added.

    Missing values are left out of a person's mean and keep a missing within part.
    """
    _require(table, [person, column])
    values = _numeric(table, column, person)
    means = values.groupby(table[person]).transform("mean")
    grand = values.groupby(table[person]).mean().mean()
    return table.assign(**{f"{column}_mean": means, f"{column}_within": values - means,
                           f"{column}_between": means - grand})


def lagged_pairs(table: pd.DataFrame, *, person: str, session: str, alliance: str,
                 outcome: str) -> pd.DataFrame:
    """One row per consecutive-session pair: alliance parts at ``t``, outcome at ``t + 1``.

    Columns: ``person, session`` (of the predictor), ``alliance, alliance_within,
    alliance_between, outcome`` (at ``t``), ``outcome_next`` and ``session_next``.
    Sessions must be whole numbers, unique within a person.
    """
    _require(table, [person, session, alliance, outcome])
    if table[person].isna().any():
        raise AnalysisError(f"a row has no {person}")
    sessions = pd.to_numeric(table[session], errors="coerce")
    if sessions.isna().any() or not (sessions == sessions.round()).all():
        row = table[sessions.isna() | (sessions != sessions.round())].iloc[0]
        raise AnalysisError(f"{person} {row[person]}: {session} {row[session]!r} is not a "
                            f"whole session number")
    frame = pd.DataFrame({"person": table[person].to_numpy(),
                          "session": sessions.astype(int).to_numpy(),
                          "alliance": _numeric(table, alliance, person).to_numpy(),
                          "outcome": _numeric(table, outcome, person).to_numpy()})
    dup = frame.duplicated(["person", "session"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise AnalysisError(f"{person} {row['person']}: session {row['session']} appears "
                            f"more than once")
    frame = person_mean_centre(frame, person="person", column="alliance")
    frame = frame.sort_values(["person", "session"], kind="stable")
    nxt = frame.groupby("person", sort=False)[["session", "outcome"]].shift(-1)
    frame = frame.assign(session_next=nxt["session"], outcome_next=nxt["outcome"])
    pairs = frame[(frame["session_next"] == frame["session"] + 1)
                  & frame["alliance"].notna() & frame["outcome_next"].notna()]
    return pairs.astype({"session_next": int}).reset_index(drop=True)

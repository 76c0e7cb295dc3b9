"""Training: practice cases, a simulated client with a rupture state, scored feedback.

Pure: no database, web or CLI. Importing this package never imports torch; only the
``hybrid`` practice coder (:func:`~alliance.training.coders.practice_coder`) loads the model.
"""

from alliance.training.casebook import (
    Casebook,
    TrainingCase,
    case_schema,
    load_case_file,
    load_casebook,
)
from alliance.training.client import RuptureState, alliance12_rating, next_state
from alliance.training.exam import ExamSession
from alliance.training.feedback import ResponseScore, score_trainee_response
from alliance.training.session import PracticeRecord, PracticeSession, render_replay

__all__ = [
    "Casebook",
    "ExamSession",
    "PracticeRecord",
    "PracticeSession",
    "ResponseScore",
    "RuptureState",
    "TrainingCase",
    "alliance12_rating",
    "case_schema",
    "load_case_file",
    "load_casebook",
    "next_state",
    "render_replay",
    "score_trainee_response",
]

"""The clinical vocabulary, defined once: the monitoring core, the store, the web forms and
the case-file schema all read these (issue 9: one vocabulary).

>>> "late_cancelled" in ATTENDANCE and "late" in HELD
True
>>> SEVERITY_RANK["act"] > SEVERITY_RANK["watch"] > SEVERITY_RANK["info"]
True
"""

from __future__ import annotations

from typing import Literal

Modality = Literal["individual", "couple", "family", "group"]
MODALITIES: tuple[str, ...] = ("individual", "couple", "family", "group")
ATTENDANCE: tuple[str, ...] = ("attended", "late", "cancelled", "late_cancelled", "no_show")
HELD: frozenset[str] = frozenset({"attended", "late"})
HOMEWORK: tuple[str, ...] = ("none", "completed", "partial", "not_done")
PROFESSIONAL_RATERS: tuple[str, ...] = ("therapist", "observer")
# Cues that can be respectful norms rather than withdrawal (docs/case-file.md, context).
NORMATIVE_CUES: tuple[str, ...] = ("deference", "silence", "limited_eye_contact",
                                   "indirect_disagreement", "family_involvement")
# A session more than ten hours late is not a late session; the case-file schema's bound.
MAX_MINUTES_LATE = 600
SEVERITIES: tuple[str, ...] = ("info", "watch", "act")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}

#: The languages the client's pages and messages are written in (docs/web.md).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch"}

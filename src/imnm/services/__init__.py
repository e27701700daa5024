"""Use cases: the one place the CLI, the API, the web app, CDS Hooks and reports call.

Each takes a patient (a validated record, or answers for the screener), settings and the evaluation
date, and returns a typed result whose `as_dict()` is the `--json` document of the matching command.
"""

from __future__ import annotations

from imnm.services.activity import Activity, activity, options_from, response
from imnm.services.records import load_patient, parse_patient
from imnm.services.screen import Screening, screen
from imnm.services.trials import (
    CatalogChoice,
    ImportedStudy,
    ReviewEntry,
    ReviewsFile,
    TrialList,
    TrialMatch,
    TrialVerdict,
    approve_criteria,
    get_trial,
    import_study,
    list_trials,
    match_trials,
    parse_reviews,
    search_registry,
    update_catalog,
)
from imnm.services.workup import assess

__all__ = [
    "Activity",
    "CatalogChoice",
    "ImportedStudy",
    "ReviewEntry",
    "ReviewsFile",
    "Screening",
    "TrialList",
    "TrialMatch",
    "TrialVerdict",
    "activity",
    "approve_criteria",
    "assess",
    "get_trial",
    "import_study",
    "list_trials",
    "load_patient",
    "match_trials",
    "options_from",
    "parse_patient",
    "parse_reviews",
    "response",
    "screen",
    "search_registry",
    "update_catalog",
]

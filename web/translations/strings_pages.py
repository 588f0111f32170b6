"""Spanish and French strings of the signed-in pages, the study pages, the error pages and
the shared shell (English msgids).

The lead merges these into the catalogues (``make i18n``); until then, and for strings
that live outside ``web/`` (the loss steps of :mod:`fondo.studies.report`),
:func:`web.i18n.page_gettext` reads them directly. :data:`VALUE_MSGIDS` maps stored
enumerated values (stage, technology, status, phase, role) to their English msgid.
"""

#: Stored value → English msgid, per kind of value (translated through ES/FR below).
VALUE_MSGIDS = {
    "technology": {"pv": "Solar photovoltaic", "wind": "Wind"},
    "stage": {
        "screening": "Screening", "development": "Development", "consultation": "Consultation",
        "financing": "Financing", "construction": "Construction", "operation": "Operation",
        "withdrawn": "Withdrawn",
    },
    "status": {
        "PENDING": "Waiting", "STARTED": "Running", "PROGRESS": "Running", "SUCCESS": "Done",
        "FAILURE": "Failed",
    },
    "role": {"officer": "Fund officer", "investor": "Investor", "analyst": "Analyst",
             "admin": "Administrator"},
}

ES: dict[str, str] = {}
FR: dict[str, str] = {}

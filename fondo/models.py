"""Every table of Fondo, registered in one place (Alembic and the session factory read this).

Each feature keeps its tables in its own ``models.py``; this module imports them all, in
one written-out list, so that :data:`metadata` holds the whole schema. Nothing else lives
here: import a table from its feature (``fondo.fund.models.Project``).
"""

from __future__ import annotations

from fondo import idempotency, orm
from fondo.accounts import models as accounts_models
from fondo.consultation import models as consultation_models
from fondo.data import models as data_models
from fondo.finance import models as finance_models
from fondo.fund import models as fund_models
from fondo.orm import Base
from fondo.screening import models as screening_models
from fondo.studies import models as studies_models

#: The modules whose tables make up the schema, in the order of the migrations.
MODEL_MODULES = (
    accounts_models,
    data_models,
    fund_models,
    orm,
    screening_models,
    studies_models,
    consultation_models,
    finance_models,
    idempotency,
)

#: The whole schema.
metadata = Base.metadata

"""Database models of the fund (SQLAlchemy 2 declarative).

Every column that holds a quantity carries its unit in its name. Geometries are EPSG:4326
(see :mod:`fondo.geometry`). Times are UTC and timezone-aware. Rows created by
``fondo seed --demo`` carry ``is_demo = true`` and say so wherever they are shown.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fondo.geometry import Geometry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Current time, UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetime on every backend (SQLite drops the offset: put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: Fondo stores timezone-aware UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are deterministic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(str, enum.Enum):
    """Roles of signed-in users (the community portal needs no account)."""

    OFFICER = "officer"
    INVESTOR = "investor"
    ANALYST = "analyst"
    ADMIN = "admin"


class Technology(str, enum.Enum):
    """Generation technologies the fund invests in."""

    PV = "pv"
    WIND = "wind"


class PipelineStage(str, enum.Enum):
    """Stages a project moves through in the fund's pipeline."""

    SCREENING = "screening"
    DEVELOPMENT = "development"
    CONSULTATION = "consultation"
    FINANCING = "financing"
    CONSTRUCTION = "construction"
    OPERATION = "operation"
    WITHDRAWN = "withdrawn"


class JobState(str, enum.Enum):
    """States of a long-running task as shown to users."""

    PENDING = "PENDING"
    STARTED = "STARTED"
    PROGRESS = "PROGRESS"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        length=32,
    )


class User(Base):
    """A person who signs in: officer, investor, analyst or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class Corridor(Base):
    """An investment corridor defined from INEGI state boundaries."""

    __tablename__ = "corridors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "bajio", "noreste"
    name: Mapped[str] = mapped_column(String(200))
    state_keys: Mapped[list[Any]] = mapped_column(JSON)
    area_km2: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[Any] = mapped_column(Geometry())


class WeatherStation(Base):
    """A station with a bundled typical-year weather file."""

    __tablename__ = "weather_stations"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # WMO id
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    elevation_m: Mapped[float] = mapped_column(Float)
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    file: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    geometry: Mapped[Any] = mapped_column(Geometry())


class Site(Base):
    """A candidate site: a point or a polygon drawn or dropped by an officer."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    geometry: Mapped[Any] = mapped_column(Geometry())
    area_km2: Mapped[float | None] = mapped_column(Float)
    check_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Job(Base):
    """A long-running task (Celery) with its progress and where its result is."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the Celery task id
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_url: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScreeningRun(Base):
    """A screening of a corridor or polygon at a resolution, for one technology."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    geometry: Mapped[Any | None] = mapped_column(Geometry())
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    resolution_km: Mapped[float] = mapped_column(Float)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    cell_count: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cells_file: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class YieldStudy(Base):
    """A stored energy-yield study of a site (PV or wind)."""

    __tablename__ = "yield_studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hourly_file: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    energy_p50_mwh: Mapped[float | None] = mapped_column(Float)
    energy_p90_mwh: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Fund(Base):
    """The fund (a limited partnership) and its target size."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    target_size_usd: Mapped[float | None] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    limited_partners: Mapped[list[LimitedPartner]] = relationship(back_populates="fund")
    projects: Mapped[list[Project]] = relationship(back_populates="fund")


class LimitedPartner(Base):
    """An investor's commitment to the fund, in its own currency."""

    __tablename__ = "limited_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    kind: Mapped[str] = mapped_column(String(64))  # pension fund, DFI, development bank, ...
    commitment_amount: Mapped[float] = mapped_column(Float)
    commitment_currency: Mapped[str] = mapped_column(String(3))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    fund: Mapped[Fund] = relationship(back_populates="limited_partners")


class Project(Base):
    """A solar or wind park the fund develops or holds."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    capacity_ac_mw: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[PipelineStage] = mapped_column(
        _enum(PipelineStage, "pipeline_stage"), default=PipelineStage.SCREENING
    )
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    state_key: Mapped[str | None] = mapped_column(String(2))
    municipality_key: Mapped[str | None] = mapped_column(String(5))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    fund: Mapped[Fund | None] = relationship(back_populates="projects")
    site: Mapped[Site | None] = relationship()


class Consultation(Base):
    """A consultation of the communities around a project under the shared protocol."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    protocol_version: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(64))
    communities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsultationEvent(Base):
    """One link of a consultation's append-only, hash-chained record.

    ``hash`` = SHA-256 over ``prev_hash`` and the canonical JSON of the event; the code has
    no update or delete path for this table.
    """

    __tablename__ = "consultation_events"
    __table_args__ = (UniqueConstraint("consultation_id", "seq", name="uq_consultation_events_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[str] = mapped_column(String(40))  # UTC ISO-8601, as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LayerImport(Base):
    """Provenance of a geodata layer an officer imported or replaced."""

    __tablename__ = "layer_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer: Mapped[str] = mapped_column(String(100), index=True)
    original_filename: Mapped[str] = mapped_column(String(300))
    input_sha256: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    input_crs: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(String(200))
    imported_by: Mapped[str | None] = mapped_column(String(320))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def load_feature_models() -> None:
    """Import every ``fondo/models_*.py`` so that their tables join :data:`Base.metadata`.

    Feature areas (consultation, yield, finance, screening) keep their tables in modules of
    their own; Alembic and the services see one metadata.
    """
    import importlib
    import pkgutil

    import fondo

    for module in pkgutil.iter_modules(fondo.__path__):
        if module.name.startswith("models_"):
            importlib.import_module(f"fondo.{module.name}")


load_feature_models()

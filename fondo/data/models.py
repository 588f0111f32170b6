"""Tables of reference data: corridors, weather stations and provenance of imported layers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fondo.geometry import Geometry
from fondo.orm import Base, UTCDateTime, utcnow


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


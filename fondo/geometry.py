"""A geometry column that works on SQLite and on PostGIS.

On PostgreSQL the column is a real PostGIS ``geometry(Geometry, 4326)`` (so spatial
indexes and ``ST_*`` functions work); on SQLite, which has no spatial types without the
SpatiaLite extension, it is text. Either way the value travels as hex-encoded EWKB, which
PostGIS accepts as input and returns as output, and Python sees a shapely geometry.
"""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy.types import Text, TypeDecorator, UserDefinedType

#: Coordinate reference system of every stored geometry (WGS 84 longitude/latitude).
STORAGE_SRID = 4326


class _PostgisGeometry(UserDefinedType):
    cache_ok = True

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # Reflection passes the column's modifiers ("Geometry", 4326); the spec is fixed.
        super().__init__()

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry(Geometry,{STORAGE_SRID})"


class Geometry(TypeDecorator):
    """Shapely geometry in EPSG:4326, stored as PostGIS geometry or SQLite text (EWKB hex)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):  # noqa: D102 - SQLAlchemy hook
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostgisGeometry())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is None:
            return None
        if isinstance(value, str):
            value = shapely.from_wkt(value)
        if not isinstance(value, shapely.Geometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        value = shapely.set_srid(value, STORAGE_SRID)
        return shapely.to_wkb(value, hex=True, include_srid=True)

    def process_result_value(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is None:
            return None
        if isinstance(value, memoryview | bytes):
            return shapely.from_wkb(bytes(value))
        return shapely.from_wkb(value)


def _register_reflection() -> None:
    """Let SQLAlchemy (and Alembic's comparisons) recognise PostGIS columns it reflects."""
    from sqlalchemy.dialects.postgresql import base as pg_base

    pg_base.ischema_names.setdefault("geometry", _PostgisGeometry)


_register_reflection()

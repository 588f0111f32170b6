"""Request schemas of the data feature, shared by the REST API and the command line.

:class:`LayerImportSchema` is the form of ``POST /api/v1/data/layers`` (multipart, the
layer file in the part ``file``) and the options of ``fondo data import LAYER FILE``
(loaded with :func:`fondo.request_body.load_request`).

Examples
--------
>>> from fondo.data.schemas import LayerImportSchema
>>> body = LayerImportSchema().load({"layer": "protected_areas_federal", "source": "CONANP",
...                                  "licence": "CONANP datos abiertos", "replace": "true"})
>>> body["replace"], body["confirm_shrink"], body["source_layer"]
(True, False, None)
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields

from fondo.data.layer_validation import LayerImportError, expected_geometry

__all__ = ["LayerImportSchema"]


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _importable_layer(value: str) -> None:
    try:
        expected_geometry(value)
    except LayerImportError as exc:
        raise ValidationError(str(exc)) from None


class LayerImportSchema(Schema):
    """What to import a layer file as, and where the data come from.

    The file itself is not part of the schema: it is the multipart part ``file`` of the
    API request and the ``FILE`` argument of the command.
    """

    layer = fields.String(
        required=True, validate=_importable_layer,
        metadata={"description": "Target layer: a known layer name (e.g. "
                                 "`protected_areas_federal`, `localities_inpi`, `states`) or "
                                 "`extra_exclusion_<slug>`."})
    source = fields.String(
        required=True, validate=_not_blank,
        metadata={"description": "Where the data come from (publisher, edition, URL)."})
    licence = fields.String(
        required=True, validate=_not_blank,
        metadata={"description": "Terms the data are published under."})
    replace = fields.Boolean(
        load_default=False,
        metadata={"description": "Replace a layer imported before (else refused)."})
    confirm_shrink = fields.Boolean(
        load_default=False,
        metadata={"description": "Confirm a replacement that loses more than half of the "
                                 "served layer's features or area (else refused with a "
                                 "`shrink` summary: features and area in km² before and "
                                 "after)."})
    source_layer = fields.String(
        load_default=None, allow_none=True, validate=_not_blank,
        metadata={"description": "Layer inside a multi-layer GeoPackage, or shapefile stem "
                                 "inside a zip."})

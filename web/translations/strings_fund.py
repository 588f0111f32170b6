"""Spanish and French strings of the fund's projects and pipeline (issue 11 part A),
English msgids.

The lead merges these into the catalogues (``make i18n``); until then
:func:`web.api.register.stage_label` reads them directly. Stage names are looked up
dynamically (``fondo.fund.register.STAGE_LABELS``) and are listed here.
"""

ES = {
    "Origination": "Originación",
    "Screening": "Evaluación preliminar",
    "Due diligence": "Debida diligencia",
    "Consultation": "Consulta",
    "Financial close": "Cierre financiero",
    "Construction": "Construcción",
    "Operation": "Operación",
    "Dropped": "Descartado",
    "Public register of the fund's projects": "Registro público de los proyectos del fondo",
}

FR = {
    "Origination": "Origination",
    "Screening": "Présélection",
    "Due diligence": "Vérification diligente",
    "Consultation": "Consultation",
    "Financial close": "Bouclage financier",
    "Construction": "Construction",
    "Operation": "Exploitation",
    "Dropped": "Abandonné",
    "Public register of the fund's projects": "Registre public des projets du fonds",
}

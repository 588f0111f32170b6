"""Spanish and French strings of the long-term resource (issue 16), English msgids.

The labels of ``siting.resource.RESOURCE_METHOD_LABELS`` (what ``resource_method`` means, shown
with ``resource_confidence`` on the first page of a yield report, in a site check and on the
map) and the names of the two figures. The lead merges these into the catalogues
(``make i18n``).
"""

ES = {
    "Long-term resource": "Recurso de largo plazo",
    "Resource confidence": "Confianza en el recurso",
    "Resource method": "Método del recurso",
    "MERRA-2 irradiation corrected by the nearby weather stations":
        "Irradiación MERRA-2 corregida con las estaciones meteorológicas cercanas",
    "WRF mesoscale model, 80 m (1 km)": "Modelo de mesoescala WRF, 80 m (1 km)",
    "WRF mesoscale model blended at the edge of its domain":
        "Modelo de mesoescala WRF, mezclado en el borde de su dominio",
    "Weather stations calibrated on terrain against the WRF domains":
        "Estaciones meteorológicas calibradas por el relieve con los dominios WRF",
    "Weather station series, not scaled to the site": "Serie de la estación meteorológica, sin escalar al sitio",
}

FR = {
    "Long-term resource": "Ressource à long terme",
    "Resource confidence": "Confiance dans la ressource",
    "Resource method": "Méthode de la ressource",
    "MERRA-2 irradiation corrected by the nearby weather stations":
        "Irradiation MERRA-2 corrigée par les stations météorologiques voisines",
    "WRF mesoscale model, 80 m (1 km)": "Modèle de méso-échelle WRF, 80 m (1 km)",
    "WRF mesoscale model blended at the edge of its domain":
        "Modèle de méso-échelle WRF, fondu au bord de son domaine",
    "Weather stations calibrated on terrain against the WRF domains":
        "Stations météorologiques calibrées selon le relief sur les domaines WRF",
    "Weather station series, not scaled to the site": "Série de la station météorologique, non mise à l'échelle du site",
}

"""The map feature: raster tiles of screenings and resource, vector layers, point reports.

Reached through :mod:`fondo.maps.service`.
"""

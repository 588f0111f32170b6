"""Fixtures and loaders of the screening tests (imported by the test modules).

The loader below is the test-side gateway: it reads the bundled files under
``data/geo`` and ``data/resource`` and hands parsed frames to the pure
``siting.layers.layers_from_frames``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr

from siting.layers import WindLayer, layers_from_frames

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
#: Seconds per hour / Wh per kWh for the station table. [-]
WH_PER_KWH = 1000.0
HOURS_PER_DAY = 24.0
#: Height of the WRF wind layers (SOURCES-weather.md §2, ``zh``). [m]
WRF_HEIGHT_M = 80.0


def read_station_table(weather_dir: Path = DATA_DIR / "weather") -> pd.DataFrame:
    """Station table from the bundled EPW files (pvlib reader)."""
    import pvlib

    rows = []
    for path in sorted(weather_dir.glob("*.epw")):
        frame, meta = pvlib.iotools.read_epw(path)
        station_id = path.name.split("_TMYx")[0].rsplit(".", 1)[-1]  # "...Aguascalientes.765710_TMYx..."
        rows.append(
            {
                "station_id": station_id,
                "name": str(meta["city"]),
                "latitude": float(meta["latitude"]),
                "longitude": float(meta["longitude"]),
                "elevation_m": float(meta["altitude"]),
                "ghi_kwh_m2_day": float(frame["ghi"].sum()) / WH_PER_KWH / (len(frame) / HOURS_PER_DAY),
                "wind_speed_10m_m_s": float(frame["wind_speed"].mean()),
            }
        )
    return pd.DataFrame(rows)


def read_wind_layers(wrf_dir: Path = DATA_DIR / "resource" / "mexico_wrf_wind_80m") -> tuple[WindLayer, ...]:
    """WRF 80 m domains: annual mean = mean of the four seasonal means."""
    out = []
    for path in sorted(wrf_dir.glob("*_seasons.nc")):
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ws = ds["wind_speed"].values.mean(axis=0)
            out.append(
                WindLayer(
                    name=path.name.split("_")[0],
                    latitude=ds["lat"].values.astype(float),
                    longitude=ds["lon"].values.astype(float),
                    wind_speed_m_s=ws,
                    height_m=float(ds["zh"].values) if "zh" in ds else WRF_HEIGHT_M,
                )
            )
    return tuple(out)


def read_station_weather(weather_dir: Path = DATA_DIR / "weather"):
    """(StationWeather, station table) through ``siting.weather`` (yield engineer's parser)."""
    from siting.layers import station_table_from_weather
    from siting.weather import parse_epw, stack_weather

    parsed = [parse_epw(path.read_bytes(), path.name) for path in sorted(weather_dir.glob("*.epw"))]
    weather = stack_weather([(station, frame) for frame, station in parsed])
    return weather, station_table_from_weather(weather, [station.name for _, station in parsed])


@functools.lru_cache(maxsize=1)
def load_real_layers():
    """All bundled layers as ``ScreeningLayers`` (cached per test process)."""
    geo = DATA_DIR / "geo"
    with rasterio.open(geo / "dem_corridor_1km.tif") as src:
        dem = src.read(1)
        transform = src.transform
        nodata = src.nodata
    try:
        weather, stations = read_station_weather()
    except ImportError:  # the yield engine is not there: station table from pvlib, no hourly weather
        weather, stations = None, read_station_table()
    return layers_from_frames(
        states=gpd.read_file(geo / "corridor_states_inegi.geojson"),
        municipalities=gpd.read_file(geo / "corridor_municipios_inegi.geojson"),
        grid_lines=gpd.read_file(geo / "grid_lines_osm_mexico.geojson"),
        grid_nodes=gpd.read_file(geo / "grid_nodes_osm_mexico.geojson"),
        protected_areas=gpd.read_file(geo / "anp_estatales_conabio2009.geojson"),
        localities_polygons=gpd.read_file(geo / "localidades_amanzanadas_inegi.geojson"),
        localities_points=pd.read_csv(geo / "localidades_inegi_puntos.csv", dtype={"cvegeo": str, "cve_ent": str}),
        indigenous_typology=pd.read_csv(geo / "indigenous_municipal_typology_inpi2020.csv", dtype={"cvegeo": str}),
        water_bodies=gpd.read_file(geo / "water_bodies_gshhg.geojson"),
        dem=dem,
        dem_transform=transform,
        dem_nodata=nodata,
        wind_layers=read_wind_layers(),
        merra2=pd.read_csv(DATA_DIR / "resource" / "merra2_ghi_3deg" / "merra2_ghi_monthly_mean_3deg_MEX_2011-2015.csv"),
        stations=stations,
        mexico_states=gpd.read_file(geo / "mx_states_ne10m.geojson"),
        weather=weather,
        rivers=gpd.read_file(geo / "rivers_gshhg_wdbii.geojson"),
    )


def wind_power_curve(turbine_type: str = "V126/3300"):
    """Power curve of a windpowerlib library turbine: (speeds [m/s], power [kW])."""
    import warnings

    from windpowerlib import WindTurbine

    with warnings.catch_warnings():
        # windpowerlib 0.2.2 calls DataFrame.dropna(inplace=True), deprecated in pandas 3.1 (third-party)
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.dropna")
        turbine = WindTurbine(turbine_type=turbine_type, hub_height=100.0)
    pc = turbine.power_curve
    return pc["wind_speed"].to_numpy(float), pc["value"].to_numpy(float) / 1000.0


@pytest.fixture(scope="session")
def real_layers():
    return load_real_layers()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


# ---------------------------------------------------------------------------
# Hand-built toy layers with known answers (EPSG:6372 metres, near 21° N).
# ---------------------------------------------------------------------------

#: Toy lattice origin (EPSG:6372). [m]
TOY_X0, TOY_Y0 = 2_500_000.0, 1_000_000.0
#: x of the border between the two toy states (not on a 2 km cell edge or centre). [m]
TOY_BORDER_X = 2_509_500.0
#: Toy transmission line: horizontal at this y, 230 kV. [m]
TOY_LINE_Y = 1_010_000.0
TOY_LINE_KV = 230.0
#: Toy diagonal line (unknown voltage) from (x0, y0 + 20 km) to (x0 + 20 km, y0 + 40 km). [m]
TOY_DIAG = ((TOY_X0, TOY_Y0 + 20_000.0), (TOY_X0 + 20_000.0, TOY_Y0 + 40_000.0))
#: Toy protected area. [m]
TOY_ANP = (TOY_X0 + 12_000.0, TOY_Y0 + 2_000.0, TOY_X0 + 16_000.0, TOY_Y0 + 6_000.0)
TOY_ANP_NAME = "ANP de prueba"
#: Toy urban locality (a 500 m square) and the triggering locality point. [m]
TOY_URBAN = (TOY_X0 + 2_750.0, TOY_Y0 + 14_750.0, TOY_X0 + 3_250.0, TOY_Y0 + 15_250.0)
TOY_TRIGGER_POINT = (TOY_X0 + 17_000.0, TOY_Y0 + 19_000.0)
#: Toy DEM: 0.01° cells, elevation rising eastward by this much per cell. [m]
TOY_DEM_STEP_M = 20.0
TOY_DEM_RES_DEG = 0.01
#: Toy MERRA-2 background GHI (uniform). [kWh/m²/day]
TOY_MERRA_GHI = 6.0


def _toy_gdf(records, geoms, crs="EPSG:6372"):
    return gpd.GeoDataFrame(pd.DataFrame(records), geometry=list(geoms), crs=crs)


def make_toy_layers(wind_layers=()):
    """Small hand-built layers whose answers are worked out in the tests."""
    import shapely
    from affine import Affine

    x0, y0 = TOY_X0, TOY_Y0
    west = shapely.box(x0 - 10_000, y0 - 10_000, TOY_BORDER_X, y0 + 50_000)
    east = shapely.box(TOY_BORDER_X, y0 - 10_000, x0 + 40_000, y0 + 50_000)
    states = _toy_gdf({"cve_ent": ["01", "11"], "nom_ent": ["Oeste", "Este"]}, [west, east])
    munis = _toy_gdf(
        {"cvegeo": ["01001", "11001"], "cve_ent": ["01", "11"], "nom_ent": ["Oeste", "Este"],
         "cve_mun": ["001", "001"], "nom_mun": ["Muni Oeste", "Muni Este"]},
        [west, east],
    )
    typology = pd.DataFrame({"cvegeo": ["01001", "11001"], "tipo_code": ["C", "A"]})
    lines = _toy_gdf(
        {"voltage_kv_max": [TOY_LINE_KV, np.nan]},
        [shapely.LineString([(x0 - 10_000, TOY_LINE_Y), (x0 + 40_000, TOY_LINE_Y)]), shapely.LineString(TOY_DIAG)],
    )
    nodes = _toy_gdf({"typ": ["substation", "joint"]}, [shapely.Point(x0 + 15_000, y0 + 15_000), shapely.Point(x0, y0)])
    anp = _toy_gdf({"ap_code": ["T1"], "nombre": [TOY_ANP_NAME]}, [shapely.box(*TOY_ANP)])
    locs = _toy_gdf({"cvegeo": ["010010001"], "nom_loc": ["Ciudad Prueba"], "ambito": ["urbano"]}, [shapely.box(*TOY_URBAN)])
    pts = _toy_gdf(
        {"cvegeo": ["010010001", "110010002"], "nom_loc": ["Ciudad Prueba", "Comunidad Prueba"],
         "inpi_tipo_mun": ["C", "A"], "nom_mun": ["Muni Oeste", "Muni Este"]},
        [shapely.Point(x0 + 3_000, y0 + 15_000), shapely.Point(*TOY_TRIGGER_POINT)],
    )
    water = _toy_gdf({"lake_id": [1]}, [shapely.box(x0 + 30_000, y0 + 30_000, x0 + 34_000, y0 + 34_000)])
    # DEM over the toy area in EPSG:4326: an eastward ramp
    bbox = gpd.GeoSeries([shapely.box(x0 - 20_000, y0 - 20_000, x0 + 60_000, y0 + 60_000)], crs="EPSG:6372").to_crs(4326)
    minx, miny, maxx, maxy = bbox.total_bounds
    ncols = int(np.ceil((maxx - minx) / TOY_DEM_RES_DEG))
    nrows = int(np.ceil((maxy - miny) / TOY_DEM_RES_DEG))
    dem = 1000.0 + TOY_DEM_STEP_M * np.tile(np.arange(ncols, dtype=float), (nrows, 1))
    transform = Affine(TOY_DEM_RES_DEG, 0, minx, 0, -TOY_DEM_RES_DEG, maxy)
    merra = pd.DataFrame(
        [{"lat": la, "lon": lo, "ghi_kwh_m2_day_annual": TOY_MERRA_GHI} for la in (18.0, 21.0, 24.0) for lo in (-105.0, -102.0, -99.0)]
    )
    st_xy = gpd.GeoSeries(gpd.points_from_xy([x0, x0 + 40_000, x0], [y0, y0, y0 + 40_000]), crs="EPSG:6372").to_crs(4326)
    stations = pd.DataFrame(
        {"station_id": ["1", "2", "3"], "name": ["A", "B", "C"], "latitude": st_xy.y.to_numpy(),
         "longitude": st_xy.x.to_numpy(), "elevation_m": [1000.0, 1000.0, 1000.0],
         "ghi_kwh_m2_day": [6.0, 6.3, 5.7], "wind_speed_10m_m_s": [3.0, 3.0, 3.0]}
    )
    mexico = gpd.GeoDataFrame({"name": ["box"]}, geometry=[shapely.box(-118.0, 14.0, -86.0, 33.0)], crs="EPSG:4326")
    return layers_from_frames(
        states=states, municipalities=munis, grid_lines=lines, grid_nodes=nodes, protected_areas=anp,
        localities_polygons=locs, localities_points=pts, indigenous_typology=typology, water_bodies=water,
        dem=dem, dem_transform=transform, dem_nodata=None, wind_layers=tuple(wind_layers), merra2=merra,
        stations=stations, mexico_states=mexico,
    )


#: Constant energy of the toy screenings. [MWh/MW/yr]
TOY_ENERGY_MWH_PER_MW = 1800.0


def constant_energy(request):
    return np.full(np.shape(request.latitude), TOY_ENERGY_MWH_PER_MW)


@pytest.fixture(scope="session")
def toy_layers():
    return make_toy_layers()

"""Translations of Fondo's interface (Spanish first, English, French).

Run ``python web/translations/fill.py`` after ``pybabel extract``/``update`` to write the
catalogues from the tables below, then ``pybabel compile -d web/translations``.
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

ES = {
    "Wrong email or password.": "Correo o contraseña incorrectos.",
    "Please fill in a valid email and your password.": "Escriba un correo válido y su contraseña.",
    "Sign out": "Salir",
    "Sign in": "Entrar",
    "Fondo: a Canada–Mexico renewable co-investment fund": "Fondo: un fondo binacional Canadá–México de coinversión en energías renovables",
    "Fondo puts Canadian capital, backed by Mexican development banks, into solar and wind parks in the Bajío and the northeastern industrial corridors, under a consultation protocol shared with the communities around each park.": "Fondo invierte capital canadiense, respaldado por la banca de desarrollo mexicana, en parques solares y eólicos de los corredores industriales del Bajío y del noreste, bajo un protocolo de consulta compartido con las comunidades vecinas de cada parque.",
    "Fund officers screen sites on a map and move projects through the pipeline.": "El personal del fondo evalúa sitios en un mapa y hace avanzar los proyectos.",
    "Investors see projected returns per tranche of the capital stack.": "Los inversionistas ven los rendimientos proyectados por tramo de la estructura de capital.",
    "Communities read consultation notices and file feedback or grievances without an account.": "Las comunidades leen los avisos de consulta y envían opiniones o quejas sin crear una cuenta.",
    "Analysts run and export bankable-style energy yield studies.": "Los analistas elaboran y exportan estudios de producción de energía de calidad bancable.",
    "What the fund holds": "Lo que tiene el fondo",
    "%(corridors)s corridors, %(stations)s weather stations, %(projects)s projects.": "%(corridors)s corredores, %(stations)s estaciones meteorológicas, %(projects)s proyectos.",
    "DEMO": "DEMOSTRACIÓN",
    "Project": "Proyecto",
    "Technology": "Tecnología",
    "Capacity (MW AC)": "Capacidad (MW CA)",
    "Stage": "Etapa",
    "Email": "Correo electrónico",
    "Password": "Contraseña",
    "Community consultation portal": "Portal de consulta a las comunidades",
    "REST API (OpenAPI)": "API REST (OpenAPI)",
    "Data: INEGI, OpenStreetMap contributors (ODbL), CONABIO, INPI, WRI, NASA MERRA-2, climate.onebuilding.org. See the data manifest.": "Datos: INEGI, colaboradores de OpenStreetMap (ODbL), CONABIO, INPI, WRI, NASA MERRA-2, climate.onebuilding.org. Vea el manifiesto de datos.",
}
FR = {
    "Wrong email or password.": "Courriel ou mot de passe incorrect.",
    "Please fill in a valid email and your password.": "Saisissez un courriel valide et votre mot de passe.",
    "Sign out": "Se déconnecter",
    "Sign in": "Se connecter",
    "Fondo: a Canada–Mexico renewable co-investment fund": "Fondo : un fonds binational Canada–Mexique de co-investissement dans les énergies renouvelables",
    "Fondo puts Canadian capital, backed by Mexican development banks, into solar and wind parks in the Bajío and the northeastern industrial corridors, under a consultation protocol shared with the communities around each park.": "Fondo investit des capitaux canadiens, adossés aux banques de développement mexicaines, dans des parcs solaires et éoliens des corridors industriels du Bajío et du nord-est, selon un protocole de consultation partagé avec les communautés voisines de chaque parc.",
    "Fund officers screen sites on a map and move projects through the pipeline.": "Les chargés du fonds évaluent des sites sur une carte et font avancer les projets.",
    "Investors see projected returns per tranche of the capital stack.": "Les investisseurs voient les rendements projetés par tranche de la structure du capital.",
    "Communities read consultation notices and file feedback or grievances without an account.": "Les communautés lisent les avis de consultation et déposent commentaires ou plaintes sans compte.",
    "Analysts run and export bankable-style energy yield studies.": "Les analystes produisent et exportent des études de productible de qualité bancable.",
    "What the fund holds": "Ce que détient le fonds",
    "%(corridors)s corridors, %(stations)s weather stations, %(projects)s projects.": "%(corridors)s corridors, %(stations)s stations météo, %(projects)s projets.",
    "DEMO": "DÉMO",
    "Project": "Projet",
    "Technology": "Technologie",
    "Capacity (MW AC)": "Puissance (MW CA)",
    "Stage": "Étape",
    "Email": "Courriel",
    "Password": "Mot de passe",
    "Community consultation portal": "Portail de consultation des communautés",
    "REST API (OpenAPI)": "API REST (OpenAPI)",
    "Data: INEGI, OpenStreetMap contributors (ODbL), CONABIO, INPI, WRI, NASA MERRA-2, climate.onebuilding.org. See the data manifest.": "Données : INEGI, contributeurs OpenStreetMap (ODbL), CONABIO, INPI, WRI, NASA MERRA-2, climate.onebuilding.org. Voir le manifeste des données.",
}


def fill(locale: str, table: dict[str, str]) -> list[str]:
    """Write ``table`` into the locale's catalogue; return msgids left untranslated."""
    path = Path(__file__).parent / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in table:
            message.string = table[message.id]
            message.flags.discard("fuzzy")
        elif locale != "en":
            missing.append(message.id)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100)
    return missing


def feature_tables() -> tuple[dict[str, str], dict[str, str]]:
    """ES and FR tables merged from this module and every ``strings_*.py`` beside it."""
    import importlib.util

    es, fr = dict(ES), dict(FR)
    for path in sorted(Path(__file__).parent.glob("strings_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        es.update(getattr(module, "ES", {}))
        fr.update(getattr(module, "FR", {}))
    return es, fr


if __name__ == "__main__":
    ES_ALL, FR_ALL = feature_tables()
    for loc, tab in (("es", ES_ALL), ("fr", FR_ALL), ("en", {})):
        left = fill(loc, tab)
        if left:
            raise SystemExit(f"{loc}: untranslated: {left}")

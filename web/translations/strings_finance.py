"""Spanish and French strings of the finance results (issue 12), English msgids.

Labels a page showing a finance case or a Monte Carlo run uses for the metrics issue 12
adds or relabels (senior and total cover, the LCOE's money, expiring tax losses, the
modified IRR, the risks a Monte Carlo did not draw). The lead merges them into the
catalogues (``make i18n``).
"""

ES = {
    "Real LCOE (year-0 money)": "LCOE real (dinero del año 0)",
    "Nominal LCOE": "LCOE nominal",
    "Prices and costs are read as money of the first operating year.":
        "Los precios y costos se leen en dinero del primer año de operación.",
    "Minimum DSCR, senior debt": "DSCR mínimo, deuda senior",
    "Minimum DSCR, all debt": "DSCR mínimo, toda la deuda",
    "Average DSCR, senior debt": "DSCR promedio, deuda senior",
    "Average DSCR, all debt": "DSCR promedio, toda la deuda",
    "LLCR, senior debt": "LLCR, deuda senior",
    "LLCR, all debt": "LLCR, toda la deuda",
    "Total gearing": "Apalancamiento total",
    "Senior gearing": "Apalancamiento senior",
    "Tax losses expired unused": "Pérdidas fiscales que vencieron sin aplicarse",
    "Depreciation rate elected": "Tasa de depreciación elegida",
    "Best depreciation rate": "Mejor tasa de depreciación",
    "Employees' profit share (PTU)": "Participación de los trabajadores en las utilidades (PTU)",
    "Modified IRR": "TIR modificada",
    "Several rates make the NPV zero": "Varias tasas anulan el VPN",
    "Risks drawn": "Riesgos simulados",
    "Risks not drawn (held at their base value)": "Riesgos no simulados (en su valor base)",
}

FR = {
    "Real LCOE (year-0 money)": "LCOE réel (monnaie de l'année 0)",
    "Nominal LCOE": "LCOE nominal",
    "Prices and costs are read as money of the first operating year.":
        "Les prix et les coûts sont exprimés en monnaie de la première année d'exploitation.",
    "Minimum DSCR, senior debt": "DSCR minimal, dette senior",
    "Minimum DSCR, all debt": "DSCR minimal, toute la dette",
    "Average DSCR, senior debt": "DSCR moyen, dette senior",
    "Average DSCR, all debt": "DSCR moyen, toute la dette",
    "LLCR, senior debt": "LLCR, dette senior",
    "LLCR, all debt": "LLCR, toute la dette",
    "Total gearing": "Endettement total",
    "Senior gearing": "Endettement senior",
    "Tax losses expired unused": "Pertes fiscales expirées sans être imputées",
    "Depreciation rate elected": "Taux d'amortissement choisi",
    "Best depreciation rate": "Meilleur taux d'amortissement",
    "Employees' profit share (PTU)": "Participation des salariés aux bénéfices (PTU)",
    "Modified IRR": "TRI modifié",
    "Several rates make the NPV zero": "Plusieurs taux annulent la VAN",
    "Risks drawn": "Risques simulés",
    "Risks not drawn (held at their base value)": "Risques non simulés (à leur valeur de base)",
}

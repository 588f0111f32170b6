"""Spanish and French strings of the project page's forms on the pipeline (``/pipeline/<id>``:
link a yield study, approve it, make the P90 finance case); English msgids.

Merged into the catalogues by ``make i18n`` (``fill.py`` reads every ``strings_*.py``).
"""

#: English msgid → (Spanish, French).
_PAIRS: dict[str, tuple[str, str]] = {
    "The study was not linked.": ("No se vinculó el estudio.", "L’étude n’a pas été liée."),
    "The study was not approved.": ("No se aprobó el estudio.",
                                    "L’étude n’a pas été approuvée."),
    "The P90 case was not made.": ("No se creó el caso P90.", "Le cas P90 n’a pas été créé."),
    "approved by %(who)s on %(when)s": ("aprobado por %(who)s el %(when)s",
                                        "approuvée par %(who)s le %(when)s"),
    "What the approval rests on (optional)": ("En qué se basa la aprobación (opcional)",
                                              "Ce sur quoi repose l’approbation (facultatif)"),
    "Approve study %(id)s": ("Aprobar el estudio %(id)s", "Approuver l’étude %(id)s"),
    "Link a study": ("Vincular un estudio", "Lier une étude"),
    "Finished yield study of the same technology": (
        "Estudio de producción terminado de la misma tecnología",
        "Étude de productible terminée de la même technologie"),
    "Link": ("Vincular", "Lier"),
    "No finished study of this technology is waiting to be linked.": (
        "No hay ningún estudio terminado de esta tecnología por vincular.",
        "Aucune étude terminée de cette technologie n’attend d’être liée."),
    "Make the P90 case": ("Crear el caso P90", "Créer le cas P90"),
    "A base case run again on the approved study’s P90 energy: the case the financial-close "
    "gate tests against the lender’s DSCR covenant.": (
        "Un caso base calculado de nuevo con la energía P90 del estudio aprobado: el caso que "
        "el requisito de cierre financiero compara con el DSCR mínimo pactado con el "
        "acreedor.",
        "Un cas de base recalculé sur l’énergie P90 de l’étude approuvée : le cas que la "
        "condition du bouclage financier compare au DSCR minimal convenu avec le prêteur."),
    "It needs an approved yield study and a finance case of the project.": (
        "Requiere un estudio de producción aprobado y un caso financiero del proyecto.",
        "Il faut une étude de productible approuvée et un cas financier du projet."),
    "Base case": ("Caso base", "Cas de base"),
    "Approved study": ("Estudio aprobado", "Étude approuvée"),
}

ES: dict[str, str] = {msgid: pair[0] for msgid, pair in _PAIRS.items()}
FR: dict[str, str] = {msgid: pair[1] for msgid, pair in _PAIRS.items()}

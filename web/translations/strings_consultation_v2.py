"""Spanish and French strings of consultation protocol version 2 (issue 13), English msgids.

The lead merges these into the catalogues (``make i18n``). They label what version 2 adds
where the portal and the officer pages show a consultation: the new terminal states, the
suspended state and its kinds, the three-valued requirement, the decision kinds, and the
records. The phase names themselves come, in Spanish and English, from
``consultation/protocol_v2.yaml``; their French is listed here.
"""

ES = {
    # states
    "Closed without consent": "Cerrada sin consentimiento",
    "Closed: no community that may be affected": "Cerrada: sin comunidad que pueda ser afectada",
    "Suspended": "Suspendida",
    "The community said no. The project does not proceed to financial close; re-opening means a new consultation with its own record.":
        "La comunidad dijo que no. El proyecto no avanza a cierre financiero; reabrir exige una nueva consulta con su propio registro.",
    "This consultation is suspended since %(date)s: its phase and its time limits are frozen until it resumes.":
        "Esta consulta está suspendida desde el %(date)s: su etapa y sus plazos quedan congelados hasta que se reanude.",
    # suspension kinds
    "Suspension ordered by a court (amparo)": "Suspensión ordenada por un juez (amparo)",
    "Report of pressure, coercion or inducement": "Reporte de presión, coacción o inducción",
    "Electoral blackout": "Veda electoral",
    # requirement
    "Consultation required": "Consulta requerida",
    "Identification required": "Identificación requerida",
    "Consultation not required": "Consulta no requerida",
    "Identification pending": "Identificación pendiente",
    # decisions
    "Permit": "Permiso",
    "Land contract": "Contrato de tierra",
    "Social impact assessment resolution": "Resolución de la evaluación de impacto social",
    "Premature decision": "Decisión anticipada",
    "Financial close allowed by the protocol": "Cierre financiero permitido por el protocolo",
    # records and meetings
    "Women": "Mujeres",
    "Men": "Hombres",
    "Other or not stated": "Otro o no declarado",
    "Separate session of women": "Sesión separada de mujeres",
    "Translator accepted by the community": "Traductor(a) aceptado por la comunidad",
    "Interpreter accepted by the community": "Intérprete aceptado por la comunidad",
    "Version in %(language)s (%(variant)s)": "Versión en %(language)s (%(variant)s)",
    "Budget for independent advice": "Presupuesto para asesoría independiente",
    "How binding the results are": "Alcance de los resultados",
}

FR = {
    # phase names of consultation/protocol_v2.yaml
    "Preparation (consultation plan)": "Préparation (plan de consultation)",
    "Prior agreements": "Accords préalables",
    "Information phase": "Phase d'information",
    "Deliberation phase": "Phase de délibération",
    "Consultation (decision) phase": "Phase de consultation (décision)",
    "Follow-up of agreements": "Suivi des accords",
    "Consultation closed": "Consultation close",
    # states
    "Closed without consent": "Close sans consentement",
    "Closed: no community that may be affected": "Close : aucune communauté susceptible d'être affectée",
    "Suspended": "Suspendue",
    "The community said no. The project does not proceed to financial close; re-opening means a new consultation with its own record.":
        "La communauté a dit non. Le projet ne va pas jusqu'au bouclage financier ; rouvrir exige une nouvelle consultation avec son propre registre.",
    "This consultation is suspended since %(date)s: its phase and its time limits are frozen until it resumes.":
        "Cette consultation est suspendue depuis le %(date)s : sa phase et ses délais sont gelés jusqu'à sa reprise.",
    # suspension kinds
    "Suspension ordered by a court (amparo)": "Suspension ordonnée par un tribunal (amparo)",
    "Report of pressure, coercion or inducement": "Signalement de pression, de coercition ou d'incitation",
    "Electoral blackout": "Période de réserve électorale",
    # requirement
    "Consultation required": "Consultation requise",
    "Identification required": "Identification requise",
    "Consultation not required": "Consultation non requise",
    "Identification pending": "Identification en attente",
    # decisions
    "Permit": "Permis",
    "Land contract": "Contrat foncier",
    "Social impact assessment resolution": "Décision sur l'évaluation d'impact social",
    "Premature decision": "Décision prématurée",
    "Financial close allowed by the protocol": "Bouclage financier permis par le protocole",
    # records and meetings
    "Women": "Femmes",
    "Men": "Hommes",
    "Other or not stated": "Autre ou non déclaré",
    "Separate session of women": "Séance séparée des femmes",
    "Translator accepted by the community": "Traducteur ou traductrice accepté par la communauté",
    "Interpreter accepted by the community": "Interprète accepté par la communauté",
    "Version in %(language)s (%(variant)s)": "Version en %(language)s (%(variant)s)",
    "Budget for independent advice": "Budget pour un conseil indépendant",
    "How binding the results are": "Portée des résultats",
}

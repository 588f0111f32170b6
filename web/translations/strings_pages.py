"""Spanish and French strings of the signed-in pages, the study pages, the error pages and
the shared shell (English msgids).

The lead merges these into the catalogues (``make i18n``); until then, and for strings
that live outside ``web/`` (the loss steps of :mod:`fondo.studies.report`),
:func:`web.i18n.page_gettext` reads them directly. :data:`VALUE_MSGIDS` maps stored
enumerated values (stage, technology, status, phase, role) to their English msgid.
"""

#: Stored value → English msgid, per kind of value (translated through ES/FR below).
VALUE_MSGIDS = {
    "technology": {"pv": "Solar photovoltaic", "wind": "Wind"},
    "stage": {
        "screening": "Screening", "development": "Development", "consultation": "Consultation",
        "financing": "Financing", "construction": "Construction", "operation": "Operation",
        "withdrawn": "Withdrawn",
    },
    "status": {
        "PENDING": "Waiting", "STARTED": "Running", "PROGRESS": "Running", "SUCCESS": "Done",
        "FAILURE": "Failed",
    },
    "role": {"officer": "Fund officer", "investor": "Investor", "analyst": "Analyst",
             "admin": "Administrator"},
}

#: English msgid → (Spanish, French).
_PAIRS: dict[str, tuple[str, str]] = {
    # shell, navigation, landing
    "Skip to the content": ("Saltar al contenido", "Aller au contenu"),
    "Sections": ("Secciones", "Sections"),
    "Language and account": ("Idioma y cuenta", "Langue et compte"),
    "Home": ("Inicio", "Accueil"),
    "Map": ("Mapa", "Carte"),
    "Screenings": ("Evaluaciones de corredor", "Criblages"),
    "Yield studies": ("Estudios de producción", "Études de productible"),
    "Fund overview": ("Resumen del fondo", "Aperçu du fonds"),
    "Users": ("Usuarios", "Utilisateurs"),
    "API documentation": ("Documentación de la API", "Documentation de l'API"),
    "REST API documentation": ("Documentación de la API REST", "Documentation de l'API REST"),
    "Data manifest": ("Manifiesto de datos", "Manifeste des données"),
    "Data: INEGI, OpenStreetMap contributors (ODbL), CONABIO, INPI, WRI, NASA MERRA-2, "
    "climate.onebuilding.org.": (
        "Datos: INEGI, colaboradores de OpenStreetMap (ODbL), CONABIO, INPI, WRI, NASA "
        "MERRA-2, climate.onebuilding.org.",
        "Données : INEGI, contributeurs OpenStreetMap (ODbL), CONABIO, INPI, WRI, NASA "
        "MERRA-2, climate.onebuilding.org."),
    "See the data manifest.": ("Vea el manifiesto de datos.", "Voir le manifeste des données."),
    "Projects": ("Proyectos", "Projets"),
    "Table (scrolls sideways)": ("Tabla (se desplaza a los lados)",
                                 "Tableau (défile latéralement)"),
    "Every dataset bundled with Fondo, with its source, licence and SHA-256 checksum (checked "
    "when it is loaded).": (
        "Cada conjunto de datos incluido en Fondo, con su fuente, licencia y suma de "
        "verificación SHA-256 (comprobada al cargarlo).",
        "Chaque jeu de données fourni avec Fondo, avec sa source, sa licence et sa somme de "
        "contrôle SHA-256 (vérifiée au chargement)."),
    "Dataset": ("Conjunto de datos", "Jeu de données"),
    "Source": ("Fuente", "Source"),
    "Licence": ("Licencia", "Licence"),
    "Attribution": ("Atribución", "Attribution"),
    "Role": ("Rol", "Rôle"),
    "Active": ("Activo", "Actif"),
    "Created": ("Creado", "Créé"),
    "yes": ("sí", "oui"),
    "no": ("no", "non"),
    "Accounts are created and changed with the command line (fondo users) or POST "
    "/api/v1/users.": (
        "Las cuentas se crean y modifican con la línea de comandos (fondo users) o con POST "
        "/api/v1/users.",
        "Les comptes se créent et se modifient en ligne de commande (fondo users) ou par POST "
        "/api/v1/users."),
    # investor placeholder
    "The investor dashboard (returns per project, per tranche and for the whole portfolio, "
    "with their uncertainty) is being built. Until it is here, this is what you can do today "
    "through the REST API, with the token the fund gave you:": (
        "El tablero del inversionista (rendimientos por proyecto, por tramo y de toda la "
        "cartera, con su incertidumbre) está en construcción. Mientras tanto, esto es lo que "
        "puede hacer hoy con la API REST y el token que le dio el fondo:",
        "Le tableau de bord de l'investisseur (rendements par projet, par tranche et pour tout "
        "le portefeuille, avec leur incertitude) est en construction. D'ici là, voici ce que "
        "vous pouvez faire aujourd'hui avec l'API REST et le jeton remis par le fonds :"),
    "List the finance cases of the funds you invest in, and read each one:": (
        "Listar los casos financieros de los fondos en los que invierte y leer cada uno:",
        "Lister les cas financiers des fonds où vous investissez et lire chacun :"),
    "Download its cash flows:": ("Descargar sus flujos de caja:",
                                 "Télécharger ses flux de trésorerie :"),
    "Read its sensitivity (tornado) and its Monte Carlo runs:": (
        "Leer su sensibilidad (tornado) y sus corridas Monte Carlo:",
        "Lire sa sensibilité (tornade) et ses tirages Monte-Carlo :"),
    "Investors read only: cases of funds you do not invest in are not shown.": (
        "Los inversionistas solo leen: no se muestran los casos de fondos en los que no "
        "invierte.",
        "Les investisseurs lisent seulement : les cas des fonds où vous n'investissez pas ne "
        "sont pas affichés."),
    # error pages
    "Bad request": ("Solicitud incorrecta", "Requête incorrecte"),
    "Sign in first": ("Primero inicie sesión", "Connectez-vous d'abord"),
    "Not allowed": ("No permitido", "Non autorisé"),
    "Page not found": ("Página no encontrada", "Page introuvable"),
    "Method not allowed": ("Método no permitido", "Méthode non autorisée"),
    "Not ready yet": ("Todavía no está listo", "Pas encore prêt"),
    "File too large": ("Archivo demasiado grande", "Fichier trop volumineux"),
    "Not accepted": ("No aceptado", "Non accepté"),
    "Too many requests": ("Demasiadas solicitudes", "Trop de requêtes"),
    "Something went wrong on our side": ("Algo falló de nuestro lado",
                                         "Une erreur s'est produite de notre côté"),
    "Service busy": ("Servicio ocupado", "Service occupé"),
    "Your role does not give access to this page.": (
        "Su rol no da acceso a esta página.", "Votre rôle ne donne pas accès à cette page."),
    "There is no page at this address. Check it, or start again from the home page.": (
        "No hay ninguna página en esta dirección. Revísela o vuelva a empezar desde el inicio.",
        "Il n'y a pas de page à cette adresse. Vérifiez-la ou recommencez depuis l'accueil."),
    "The page could not be shown because of an error on the server. It has been logged; "
    "please try again later.": (
        "La página no pudo mostrarse por un error en el servidor. Quedó registrado; intente "
        "de nuevo más tarde.",
        "La page n'a pas pu être affichée à cause d'une erreur du serveur. Elle a été "
        "consignée ; réessayez plus tard."),
    "The service is busy. Please try again in a few seconds.": (
        "El servicio está ocupado. Intente de nuevo en unos segundos.",
        "Le service est occupé. Réessayez dans quelques secondes."),
    "error %(status)s": ("error %(status)s", "erreur %(status)s"),
    "Back to the home page": ("Volver al inicio", "Retour à l'accueil"),
    # values
    "Solar photovoltaic": ("Solar fotovoltaica", "Solaire photovoltaïque"),
    "Wind": ("Eólica", "Éolien"),
    "Screening": ("Evaluación de sitio", "Criblage"),
    "Development": ("Desarrollo", "Développement"),
    "Consultation": ("Consulta", "Consultation"),
    "Financing": ("Financiamiento", "Financement"),
    "Construction": ("Construcción", "Construction"),
    "Operation": ("Operación", "Exploitation"),
    "Withdrawn": ("Retirado", "Retiré"),
    "Waiting": ("En espera", "En attente"),
    "Running": ("En curso", "En cours"),
    "Done": ("Terminado", "Terminé"),
    "Failed": ("Falló", "Échec"),
    "Fund officer": ("Personal del fondo", "Chargé du fonds"),
    "Investor": ("Inversionista", "Investisseur"),
    "Analyst": ("Analista", "Analyste"),
    "Administrator": ("Administrador", "Administrateur"),
    # months
    "Jan": ("ene", "janv."), "Feb": ("feb", "févr."), "Mar": ("mar", "mars"),
    "Apr": ("abr", "avr."), "May": ("may", "mai"), "Jun": ("jun", "juin"),
    "Jul": ("jul", "juil."), "Aug": ("ago", "août"), "Sep": ("sep", "sept."),
    "Oct": ("oct", "oct."), "Nov": ("nov", "nov."), "Dec": ("dic", "déc."),
    # study list and form
    "New study": ("Nuevo estudio", "Nouvelle étude"),
    "New yield study": ("Nuevo estudio de producción", "Nouvelle étude de productible"),
    "No study yet.": ("Todavía no hay estudios.", "Aucune étude pour l'instant."),
    "Study": ("Estudio", "Étude"),
    "Study %(id)s": ("Estudio %(id)s", "Étude %(id)s"),
    "Site": ("Sitio", "Site"),
    "P50, 1 year [MWh]": ("P50, 1 año [MWh]", "P50, 1 an [MWh]"),
    "P90, 1 year [MWh]": ("P90, 1 año [MWh]", "P90, 1 an [MWh]"),
    "The study was not created: check the fields marked below.": (
        "El estudio no se creó: revise los campos marcados abajo.",
        "L'étude n'a pas été créée : vérifiez les champs signalés ci-dessous."),
    "Type the coordinates or click the map (WGS 84, decimal degrees; the site must be in "
    "Mexico).": (
        "Escriba las coordenadas o haga clic en el mapa (WGS 84, grados decimales; el sitio "
        "debe estar en México).",
        "Saisissez les coordonnées ou cliquez sur la carte (WGS 84, degrés décimaux ; le site "
        "doit être au Mexique)."),
    "Map: click to place the site": ("Mapa: haga clic para ubicar el sitio",
                                     "Carte : cliquez pour placer le site"),
    "Latitude [°]": ("Latitud [°]", "Latitude [°]"),
    "Longitude [°]": ("Longitud [°]", "Longitude [°]"),
    "Photovoltaic plant": ("Planta fotovoltaica", "Centrale photovoltaïque"),
    "DC capacity [kW]": ("Capacidad CD [kW]", "Puissance CC [kW]"),
    "DC/AC ratio": ("Relación CD/CA", "Rapport CC/CA"),
    "Default: %(value)s.": ("Predeterminado: %(value)s.", "Par défaut : %(value)s."),
    "Default: %(value)s (PVWatts).": ("Predeterminado: %(value)s (PVWatts).",
                                      "Par défaut : %(value)s (PVWatts)."),
    "Default: %(value)s (Jordan & Kurtz 2013).": (
        "Predeterminado: %(value)s (Jordan y Kurtz 2013).",
        "Par défaut : %(value)s (Jordan et Kurtz 2013)."),
    "Default: %(value)s (cropland).": ("Predeterminado: %(value)s (tierra de cultivo).",
                                       "Par défaut : %(value)s (terres cultivées)."),
    "Default: near-optimal for the latitude; 0 for trackers.": (
        "Predeterminado: casi óptima para la latitud; 0 con seguidores.",
        "Par défaut : quasi optimale pour la latitude ; 0 pour les suiveurs."),
    "180 = south (default).": ("180 = sur (predeterminado).", "180 = sud (par défaut)."),
    "Mounting": ("Montaje", "Montage"),
    "Fixed tilt": ("Inclinación fija", "Inclinaison fixe"),
    "Single-axis tracker (backtracking)": ("Seguidor de un eje (con retroceso)",
                                           "Suiveur à un axe (avec retour arrière)"),
    "Tilt [°]": ("Inclinación [°]", "Inclinaison [°]"),
    "Azimuth [°]": ("Azimut [°]", "Azimut [°]"),
    "Ground coverage ratio": ("Razón de cobertura del terreno",
                              "Taux d'occupation du sol"),
    "System losses [fraction]": ("Pérdidas del sistema [fracción]",
                                 "Pertes du système [fraction]"),
    "Degradation [fraction/year]": ("Degradación [fracción/año]",
                                    "Dégradation [fraction/an]"),
    "Wind farm": ("Parque eólico", "Parc éolien"),
    "Turbine (windpowerlib catalogue)": ("Aerogenerador (catálogo de windpowerlib)",
                                         "Éolienne (catalogue windpowerlib)"),
    "Choose a turbine": ("Elija un aerogenerador", "Choisissez une éolienne"),
    "Hub height [m]": ("Altura del buje [m]", "Hauteur du moyeu [m]"),
    "Number of turbines": ("Número de aerogeneradores", "Nombre d'éoliennes"),
    "Roughness length [m]": ("Longitud de rugosidad [m]", "Longueur de rugosité [m]"),
    "Run the study": ("Calcular el estudio", "Lancer l'étude"),
    "Enter a number.": ("Escriba un número.", "Saisissez un nombre."),
    "Enter a whole number.": ("Escriba un número entero.", "Saisissez un nombre entier."),
    "Not accepted: %(reason)s": ("No aceptado: %(reason)s", "Non accepté : %(reason)s"),
    "The study could not be started: %(reason)s": (
        "No se pudo iniciar el estudio: %(reason)s",
        "L'étude n'a pas pu être lancée : %(reason)s"),
    # study result
    "All studies": ("Todos los estudios", "Toutes les études"),
    "Progress": ("Avance", "Progression"),
    "Progress of the study": ("Avance del estudio", "Progression de l'étude"),
    "The study failed: %(reason)s": ("El estudio falló: %(reason)s",
                                     "L'étude a échoué : %(reason)s"),
    "Done: loading the result…": ("Terminado: cargando el resultado…",
                                  "Terminé : chargement du résultat…"),
    "The study failed. Its task can be sent again from the API (POST "
    "/api/v1/tasks/<id>/retry).": (
        "El estudio falló. Su tarea puede enviarse de nuevo desde la API (POST "
        "/api/v1/tasks/<id>/retry).",
        "L'étude a échoué. Sa tâche peut être relancée depuis l'API (POST "
        "/api/v1/tasks/<id>/retry)."),
    "Downloads": ("Descargas", "Téléchargements"),
    "PDF report": ("Informe PDF", "Rapport PDF"),
    "Spreadsheet (XLSX)": ("Hoja de cálculo (XLSX)", "Tableur (XLSX)"),
    "Hourly series (CSV)": ("Serie horaria (CSV)", "Série horaire (CSV)"),
    "Everything (JSON)": ("Todo (JSON)", "Tout (JSON)"),
    "Summary": ("Resumen", "Résumé"),
    "Annual AC energy (P50, typical year)": ("Energía CA anual (P50, año típico)",
                                             "Énergie CA annuelle (P50, année type)"),
    "Capacity factor": ("Factor de planta", "Facteur de charge"),
    "Specific yield": ("Rendimiento específico", "Productible spécifique"),
    "Performance ratio": ("Índice de desempeño", "Indice de performance"),
    "Weather station": ("Estación meteorológica", "Station météo"),
    "%(km)s km from the site": ("a %(km)s km del sitio", "à %(km)s km du site"),
    "Monthly energy": ("Energía mensual", "Énergie mensuelle"),
    "Bar chart of the monthly energy; the values are in the table below.": (
        "Gráfica de barras de la energía mensual; los valores están en la tabla de abajo.",
        "Histogramme de l'énergie mensuelle ; les valeurs sont dans le tableau ci-dessous."),
    "Monthly AC energy [MWh]": ("Energía CA mensual [MWh]", "Énergie CA mensuelle [MWh]"),
    "Year": ("Año", "Année"),
    "Losses": ("Pérdidas", "Pertes"),
    "Waterfall chart from the energy before losses to the delivered energy; the values are "
    "in the table below.": (
        "Gráfica de cascada de la energía antes de pérdidas a la energía entregada; los "
        "valores están en la tabla de abajo.",
        "Graphique en cascade de l'énergie avant pertes à l'énergie livrée ; les valeurs sont "
        "dans le tableau ci-dessous."),
    "Loss tree (each loss is a share of the energy reaching its step)": (
        "Árbol de pérdidas (cada pérdida es una parte de la energía que llega a su paso)",
        "Arbre des pertes (chaque perte est une part de l'énergie qui atteint son étape)"),
    "Step": ("Paso", "Étape"),
    "Loss [%]": ("Pérdida [%]", "Perte [%]"),
    "Energy lost [kWh]": ("Energía perdida [kWh]", "Énergie perdue [kWh]"),
    "Energy after the step [kWh]": ("Energía después del paso [kWh]",
                                    "Énergie après l'étape [kWh]"),
    "Before losses": ("Antes de pérdidas", "Avant pertes"),
    "Delivered (AC)": ("Entregada (CA)", "Livrée (CA)"),
    "Annual energy [MWh]": ("Energía anual [MWh]", "Énergie annuelle [MWh]"),
    "Loss waterfall": ("Cascada de pérdidas", "Cascade des pertes"),
    "AC energy [MWh]": ("Energía CA [MWh]", "Énergie CA [MWh]"),
    "Monthly energy (typical year)": ("Energía mensual (año típico)",
                                      "Énergie mensuelle (année type)"),
    "Exceedance values (P-values)": ("Valores de excedencia (P)",
                                     "Valeurs de dépassement (P)"),
    "Energy exceeded with 50, 75, 90 and 99 % probability [MWh]": (
        "Energía superada con 50, 75, 90 y 99 % de probabilidad [MWh]",
        "Énergie dépassée avec une probabilité de 50, 75, 90 et 99 % [MWh]"),
    "Horizon": ("Horizonte", "Horizon"),
    "One year": ("Un año", "Un an"),
    "Ten-year mean": ("Media de diez años", "Moyenne sur dix ans"),
    "Uncertainty components (standard uncertainty of the annual energy)": (
        "Componentes de la incertidumbre (incertidumbre típica de la energía anual)",
        "Composantes de l'incertitude (incertitude-type de l'énergie annuelle)"),
    "Component": ("Componente", "Composante"),
    "Uncertainty": ("Incertidumbre", "Incertitude"),
    "Energy by month and hour": ("Energía por mes y hora", "Énergie par mois et par heure"),
    "Heat map of the mean energy of each hour of the day in each month; the values are in "
    "the table below.": (
        "Mapa de calor de la energía media de cada hora del día en cada mes; los valores "
        "están en la tabla de abajo.",
        "Carte de chaleur de l'énergie moyenne de chaque heure du jour pour chaque mois ; les "
        "valeurs sont dans le tableau ci-dessous."),
    "Table: mean energy of each hour of the day in each month [kWh]": (
        "Tabla: energía media de cada hora del día en cada mes [kWh]",
        "Tableau : énergie moyenne de chaque heure du jour pour chaque mois [kWh]"),
    "Hour of the day (local standard time)": ("Hora del día (hora estándar local)",
                                              "Heure du jour (heure normale locale)"),
    "Mean energy [kWh]": ("Energía media [kWh]", "Énergie moyenne [kWh]"),
    "Month": ("Mes", "Mois"),
    "System": ("Sistema", "Système"),
    "Assumptions": ("Supuestos", "Hypothèses"),
    # loss steps and uncertainty (fondo.studies.report)
    "Row self-shading and bifacial gain": ("Sombreado entre filas y ganancia bifacial",
                                           "Ombrage entre rangées et gain bifacial"),
    "Reflection (incidence angle)": ("Reflexión (ángulo de incidencia)",
                                     "Réflexion (angle d'incidence)"),
    "Module temperature and DC model": ("Temperatura del módulo y modelo CD",
                                        "Température des modules et modèle CC"),
    "Soiling": ("Suciedad", "Salissure"),
    "External shading": ("Sombreado externo", "Ombrage externe"),
    "Snow": ("Nieve", "Neige"),
    "Module mismatch": ("Desajuste entre módulos", "Dispersion des modules"),
    "DC wiring": ("Cableado CD", "Câblage CC"),
    "Connections": ("Conexiones", "Connexions"),
    "Light-induced degradation": ("Degradación inducida por la luz",
                                  "Dégradation induite par la lumière"),
    "Nameplate rating": ("Tolerancia de placa", "Tolérance de puissance nominale"),
    "Age": ("Edad", "Âge"),
    "Availability": ("Disponibilidad", "Disponibilité"),
    "Degradation to the operating year": ("Degradación hasta el año de operación",
                                          "Dégradation jusqu'à l'année d'exploitation"),
    "Inverter efficiency": ("Eficiencia del inversor", "Rendement de l'onduleur"),
    "Inverter clipping": ("Recorte del inversor", "Écrêtage de l'onduleur"),
    "Air density at the site": ("Densidad del aire en el sitio", "Densité de l'air au site"),
    "Wake losses": ("Pérdidas por estela", "Pertes de sillage"),
    "Electrical losses": ("Pérdidas eléctricas", "Pertes électriques"),
    "Inter-annual variability of the resource": ("Variabilidad interanual del recurso",
                                                 "Variabilité interannuelle de la ressource"),
    "Representativeness of the weather file": ("Representatividad del archivo meteorológico",
                                               "Représentativité du fichier météo"),
    "Energy model": ("Modelo de energía", "Modèle énergétique"),
    "Other (transposition, losses, wakes)": ("Otros (transposición, pérdidas, estelas)",
                                             "Autres (transposition, pertes, sillages)"),
    "DC capacity": ("Capacidad CD", "Puissance CC"),
    "AC capacity": ("Capacidad CA", "Puissance CA"),
    "Module power temperature coefficient": ("Coeficiente de temperatura de potencia",
                                             "Coefficient de température de puissance"),
    "Nominal operating cell temperature": ("Temperatura nominal de operación de la celda",
                                           "Température nominale de fonctionnement"),
    "Nominal inverter efficiency": ("Eficiencia nominal del inversor",
                                    "Rendement nominal de l'onduleur"),
    "Bifacial rear-side gain": ("Ganancia bifacial posterior", "Gain bifacial arrière"),
    "Model": ("Modelo", "Modèle"),
    "Turbine": ("Aerogenerador", "Éolienne"),
    "Farm nameplate capacity": ("Capacidad nominal del parque", "Puissance nominale du parc"),
    "Hub height": ("Altura del buje", "Hauteur du moyeu"),
    "Roughness length": ("Longitud de rugosidad", "Longueur de rugosité"),
    "Mean air density at hub height": ("Densidad media del aire a la altura del buje",
                                       "Densité moyenne de l'air au moyeu"),
    "Mean wind speed at hub height": ("Velocidad media del viento a la altura del buje",
                                      "Vitesse moyenne du vent au moyeu"),
    "Density correction": ("Corrección por densidad", "Correction de densité"),
    # portal: fields, phases, categories, commitments
    "Your submission was not sent: check the fields marked below.": (
        "Su envío no se realizó: revise los campos marcados abajo.",
        "Votre envoi n'est pas parti : vérifiez les champs signalés ci-dessous."),
    "Check this field.": ("Revise este campo.", "Vérifiez ce champ."),
    "Write your message (at most %(chars)s characters).": (
        "Escriba su mensaje (máximo %(chars)s caracteres).",
        "Écrivez votre message (au plus %(chars)s caractères)."),
    "Choose a topic from the list.": ("Elija un tema de la lista.",
                                      "Choisissez un sujet dans la liste."),
    "Choose opinion or complaint.": ("Elija opinión o queja.", "Choisissez avis ou plainte."),
    "Your name is too long.": ("Su nombre es demasiado largo.", "Votre nom est trop long."),
    "Write a valid email address, or leave it empty.": (
        "Escriba un correo electrónico válido o déjelo vacío.",
        "Écrivez une adresse courriel valide ou laissez le champ vide."),
    "Write a valid phone number (digits, spaces, + or -), or leave it empty.": (
        "Escriba un teléfono válido (dígitos, espacios, + o -) o déjelo vacío.",
        "Écrivez un numéro de téléphone valide (chiffres, espaces, + ou -) ou laissez le "
        "champ vide."),
    "Write a valid email address or phone number, or leave them empty.": (
        "Escriba un correo o teléfono válido, o déjelos vacíos.",
        "Écrivez un courriel ou un téléphone valide, ou laissez-les vides."),
    "Write the latitude and longitude in decimal degrees, inside Mexico, or leave them "
    "empty.": (
        "Escriba la latitud y la longitud en grados decimales, dentro de México, o déjelas "
        "vacías.",
        "Écrivez la latitude et la longitude en degrés décimaux, au Mexique, ou laissez-les "
        "vides."),
    "The attachment must be a PDF, JPEG, PNG or text file of at most %(mb)s MB.": (
        "El archivo adjunto debe ser PDF, JPEG, PNG o texto, de %(mb)s MB como máximo.",
        "La pièce jointe doit être un fichier PDF, JPEG, PNG ou texte d'au plus %(mb)s Mo."),
    "Preparation (consultation plan)": ("Preparación (plan de consulta)",
                                        "Préparation (plan de consultation)"),
    "Prior agreements": ("Acuerdos previos", "Accords préalables"),
    "Information phase": ("Etapa informativa", "Phase d'information"),
    "Deliberation phase": ("Etapa deliberativa", "Phase de délibération"),
    "Consultation (decision) phase": ("Etapa consultiva", "Phase consultative (décision)"),
    "Follow-up of agreements": ("Seguimiento de acuerdos", "Suivi des accords"),
    "Consultation closed": ("Consulta cerrada", "Consultation close"),
    "Land and territory": ("Tierra y territorio", "Terres et territoire"),
    "Water and environment": ("Agua y medio ambiente", "Eau et environnement"),
    "Health and safety": ("Salud y seguridad", "Santé et sécurité"),
    "Cultural heritage and sacred sites": ("Patrimonio cultural y sitios sagrados",
                                           "Patrimoine culturel et sites sacrés"),
    "Local employment and procurement": ("Empleo y compras locales",
                                         "Emploi et achats locaux"),
    "Benefits and compensation": ("Beneficios y compensaciones", "Avantages et indemnisation"),
    "Consultation process (notices, language, meetings)": (
        "Proceso de consulta (avisos, lengua, reuniones)",
        "Processus de consultation (avis, langue, réunions)"),
    "Construction nuisance (dust, noise, traffic)": (
        "Molestias de obra (polvo, ruido, tránsito)",
        "Nuisances du chantier (poussière, bruit, circulation)"),
    "Information request": ("Solicitud de información", "Demande d'information"),
    "Other": ("Otro", "Autre"),
    "Benefit sharing": ("Beneficios compartidos", "Partage des bénéfices"),
    "Compensation": ("Compensación", "Indemnisation"),
    "Mitigation": ("Mitigación", "Atténuation"),
    "Pending": ("Pendiente", "En attente"),
    "In progress": ("En curso", "En cours"),
    "Fulfilled": ("Cumplido", "Réalisé"),
    "Cancelled by mutual agreement": ("Cancelado de común acuerdo",
                                      "Annulé d'un commun accord"),
}

ES: dict[str, str] = {msgid: pair[0] for msgid, pair in _PAIRS.items()}
FR: dict[str, str] = {msgid: pair[1] for msgid, pair in _PAIRS.items()}

"""Spanish and French strings of the work pages: the consultation desk (``/desk``), the
pipeline board (``/pipeline``), the finance case pages (``/finance``) and the investor
dashboard (``/fund``); English msgids.

The lead merges these into the catalogues (``make i18n``); until then
:func:`web.i18n.page_gettext` reads them directly.
"""

ES: dict[str, str] = {}
FR: dict[str, str] = {}

"""The whole record for auditors and courts: JSON (every event, with hashes) and PDF."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy.orm import Session

from fondo.consultation.anchors import SIGNED_MESSAGE_RULE, verify_record
from fondo.consultation.chain import event_rows, load_consultation
from fondo.consultation.clock import now as clock_now
from fondo.consultation.lifecycle import consultation_resource

#: How each event's hash is computed (printed in every export).
HASH_RULE = ("hash_n = sha256(prev_hash_n || RFC 8785 canonical JSON of "
             "{consultation_id, seq, kind, payload, occurred_at}); prev_hash_0 = 64 zeros")
_PDF_FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"))


def record_json(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> dict:
    """The whole record for auditors and courts: consultation, every event, verification
    (the chain, its anchor and every signed head:
    :func:`~fondo.consultation.anchors.verify_record`)."""
    consultation = load_consultation(session, consultation_id)
    rows = event_rows(session, consultation.id)
    events = [{k: r[k] for k in ("seq", "kind", "occurred_at", "payload", "prev_hash", "hash")}
              for r in rows]
    return {"consultation": consultation_resource(session, settings, consultation),
            "hash_rule": HASH_RULE, "signed_head_rule": SIGNED_MESSAGE_RULE,
            "events": events, "verification": verify_record(session, settings, consultation.id),
            "exported_at": clock_now().isoformat()}


def _pdf_fonts() -> tuple[str, str]:
    if all(p.exists() for p in _PDF_FONT_PATHS):
        if "FondoSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("FondoSans", str(_PDF_FONT_PATHS[0])))
            pdfmetrics.registerFont(TTFont("FondoMono", str(_PDF_FONT_PATHS[1])))
        return "FondoSans", "FondoMono"
    return "Helvetica", "Courier"


def _signed_heads_line(heads: Mapping[str, Any]) -> str:
    """One line on the signed heads: how many hold, the last good one, what is unsigned."""
    good = heads["last_good"]
    line = (f"Encabezados firmados / Signed heads: {heads['good']} de / of {heads['checked']} "
            f"válidos / valid (llaves / keys {', '.join(heads['trusted_key_ids']) or '-'})")
    if good is not None:
        line += (f"; último válido / last good: {good['event_count']} eventos / events, "
                 f"{good['head_hash']}, {good['signed_at']}, llave / key {good['key_id']}")
    if not heads["ok"]:
        line += (f"; FALLA / BROKEN desde / from seq {heads['first_broken_seq']}: "
                 f"{heads['reason']}")
    return line


def record_pdf(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> bytes:
    """The whole record as a PDF (reportlab): summary, verification, every event in full."""
    data = record_json(session, settings, consultation_id)
    try:  # the standard PDF fonts print Windows-1252; other scripts need an embedded font
        json.dumps(data, ensure_ascii=False).encode("cp1252")
        sans, mono = "Helvetica", "Courier"
    except UnicodeEncodeError:
        sans, mono = _pdf_fonts()
    normal = ParagraphStyle("n", fontName=sans, fontSize=9, leading=11)
    head = ParagraphStyle("h", fontName=sans, fontSize=14, leading=17, spaceAfter=6)
    code = ParagraphStyle("c", fontName=mono, fontSize=7, leading=8.5)

    def p(text: str, style=normal) -> Paragraph:
        return Paragraph(html.escape(text).replace("\n", "<br/>"), style)

    c = data["consultation"]
    v = data["verification"]
    story = [p(f"Registro de consulta / Consultation record #{c['id']}", head),
             p(f"Proyecto / Project: {c['project_name']} (#{c['project_id']})"
               + ("  [DEMOSTRACIÓN / DEMO]" if c["is_demo"] else "")),
             p(f"Protocolo / Protocol: {c['protocol_version']} — fase / phase: {c['phase']}"),
             p(f"Exportado / Exported: {data['exported_at']}"),
             p(f"Verificación / Verification: {'OK' if v['ok'] else 'FALLA / BROKEN'} — "
               f"{v['length']} eventos / events; head {v['head_hash']}"
               + ("" if v["ok"] else f"; primer evento roto / first broken event: seq "
                  f"{v['first_broken_seq']} ({v['reason']})")),
             p(_signed_heads_line(v["signed_heads"])),
             p(data["hash_rule"], code), p(data["signed_head_rule"], code), Spacer(1, 4 * mm)]
    for e in data["events"]:
        story.append(p(f"#{e['seq']}  {e['occurred_at']}  {e['kind']}", normal))
        story.append(p(json.dumps(e["payload"], ensure_ascii=False, indent=1, sort_keys=True), code))
        story.append(p(f"prev {e['prev_hash']}\nhash {e['hash']}", code))
        story.append(Spacer(1, 2 * mm))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=letter, title=f"Consultation record {c['id']}",
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, invariant=1)
    doc.build(story)
    return buf.getvalue()

"""One letter as a PDF: the address block, the date, the subject and the text (fpdf2).

The PDF core fonts cover Latin-1; a character outside it is written without its accent, or as ``?``
when it has no Latin-1 form: the CSV of the batch carries every name and address exactly.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from fpdf import FPDF


def letter_pdf(*, address: list[str], on: date, subject: str, text: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(115, 45)
    pdf.multi_cell(70, 5, _latin1("\n".join(address)))
    pdf.set_xy(25, 90)
    pdf.cell(0, 5, on.isoformat(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", style="B", size=12)
    pdf.multi_cell(0, 6, _latin1(subject))
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5.5, _latin1(text))
    return bytes(pdf.output())


def _latin1(value: str) -> str:
    if all(ord(character) < 256 for character in value):
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    kept = "".join(character for character in decomposed if not unicodedata.combining(character))
    return kept.encode("latin-1", "replace").decode("latin-1")

"""PDF documents with Vietnamese text: fpdf2 with the DejaVu Sans family that matplotlib ships.

fpdf2 is pure Python (no system libraries such as Pango), embeds and subsets TrueType fonts, and DejaVu Sans
carries every Vietnamese letter (ă â đ ê ô ơ ư with all five tone marks). Taking the font files from matplotlib,
already a dependency, means no font file in this repository and nothing to install by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib
from fpdf import FPDF

# fontTools, which fpdf2 uses to subset the fonts, logs every table it touches at INFO (~300 lines a report)
logging.getLogger("fontTools").setLevel(logging.WARNING)
FONT_FAMILY = "DejaVu"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
              "BI": "DejaVuSans-BoldOblique.ttf"}


def vietnamese_pdf(orientation: str = "portrait", page_format: str = "A4") -> FPDF:
    """A new document whose default font writes Vietnamese: regular, bold, italic and bold italic."""
    document = FPDF(orientation=orientation, format=page_format)
    for style, file_name in FONT_FILES.items():
        document.add_font(FONT_FAMILY, style=style, fname=str(FONT_DIR / file_name))
    document.set_font(FONT_FAMILY, size=11)
    document.set_creator("SIPAS survey system")
    return document

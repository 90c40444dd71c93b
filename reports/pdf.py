"""A4 portrait documents on fpdf2: fonts, page furniture and the blocks every printed report uses.

Reports (the hotspot brief, later the local security plan and the rollout plan)
describe *what* to print; :class:`PdfDocument` decides *how*, so that every
document Proximité prints looks the same and survives a black-and-white
printer: greys instead of colours for table shading, the bundled DejaVu fonts
(French accents, « », –, ’, ≥, narrow no-break spaces) instead of whatever the
system has, and text written exactly as given (fpdf2's markdown and HTML
parsers stay off, so ``<script>`` prints as typed).

Strings handed to the blocks are already translated; the builder's own few
words (page numbers, generation date, signature labels) go through the
``Translator`` given at construction.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from numbers import Integral, Real
from pathlib import Path

import matplotlib
from babel.dates import format_time
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from i18n import Translator

#: fpdf2 family name under which the bundled DejaVu fonts are registered.
FONT = "DejaVu"
#: A4 portrait in millimetres.
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210.0, 297.0

_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
               "BI": "DejaVuSans-BoldOblique.ttf"}
# Page-total placeholder: fpdf2 replaces it at output time. Not ``{nb}`` (the default), which user
# text could plausibly contain and would then see replaced by a number.
_NB_ALIAS = "{\u2060proximite-total-pages\u2060}"

_WORDS = re.compile(r"[ \t\r\n]+")  # where fpdf2 may break a line (not at no-break spaces)
_TEXT = 0  # black
_MUTED = 90  # dark grey for secondary text: still crisp on a laser printer
_RULE = 150  # table rules and frames
_HEAD_FILL = 215  # table heading background
_ZEBRA_FILL = 240  # every other table row


@cache
def font_paths() -> dict[str, Path]:
    """The DejaVu TTF files shipped with matplotlib, by fpdf2 style ("", "B", "I", "BI").

    Matplotlib bundles them in its wheel, so the PDFs look the same on every
    machine and never depend on system fonts.
    """
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = {style: folder / name for style, name in _FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"bundled DejaVu fonts not found (matplotlib install broken?): {missing}")
    return paths


def png_size(png: bytes) -> tuple[int, int]:
    """Pixel (width, height) read from a PNG header, to keep an image's aspect without decoding it."""
    if not isinstance(png, bytes | bytearray) or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("png must be the bytes of a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def format_generated(t: Translator, when: datetime | date) -> str:
    """"24 novembre 2026, 14:30" / "November 24, 2026, 2:30 PM": long date, short time, no seconds."""
    if isinstance(when, datetime):
        return f"{t.d(when.date(), 'long')}, {format_time(when, 'short', locale=t.lang)}"
    return t.d(when, "long")


@dataclass(frozen=True)
class Signatory:
    """One person who signs a document: a name and a role (both printed under the line)."""

    name: str
    role: str = ""


class _Canvas(FPDF):
    """fpdf2 page with Proximité's header and footer."""

    def __init__(self, doc: PdfDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._doc = doc

    def header(self) -> None:
        # Page 1 carries the title block; later pages repeat the title so loose sheets stay identifiable.
        if self.page_no() == 1 or not self._doc.title_text:
            return
        self.set_font(FONT, "", 7.5)
        self.set_text_color(_MUTED)
        self.set_y(8)
        self.cell(0, 4, self._doc.title_text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.y + 0.5, self.w - self.r_margin, self.y + 0.5)
        self.set_y(max(self.t_margin, self.y + 3))
        self.set_text_color(_TEXT)

    def footer(self) -> None:
        doc, t = self._doc, self._doc.t
        self.set_y(-doc.bottom_margin_mm + 3)
        self.set_draw_color(_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)
        self.ln(1)
        self.set_text_color(_MUTED)
        if doc.footer_note:
            self.set_font(FONT, "I", 6.5)
            self.multi_cell(0, 2.8, doc.footer_note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 7)
        left = doc.title_text
        if doc.generated_at is not None:
            when = t("Generated on {date}", date=format_generated(t, doc.generated_at))
            left = f"{left} — {when}" if left else when
        page = t("Page {n} / {total}", n=self.page_no(), total=_NB_ALIAS)
        page_w = self.get_string_width(page.replace(_NB_ALIAS, "999")) + 2
        y = self.y
        self.multi_cell(self.epw - page_w, 3.2, left, align=Align.L, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_xy(self.w - self.r_margin - page_w, y)
        self.cell(page_w, 3.2, page, align=Align.R)
        self.set_text_color(_TEXT)


class PdfDocument:
    """Builder of an A4 portrait PDF: call the blocks in reading order, then :meth:`output`.

    Parameters
    ----------
    t
        Translator for the builder's own words (footer, signature labels).
    title
        Document title for the footer and the running header (not printed as a block:
        call :meth:`title` for that).
    generated_at
        When the document was made, printed in the footer; ``None`` leaves it out.
    footer_note
        Small line above the page number on every page (data sources, attribution).
    margin_mm
        Left, right and top margin; the bottom margin makes room for the footer.
    """

    def __init__(self, t: Translator, *, title: str = "", generated_at: datetime | date | None = None,
                 footer_note: str | None = None, margin_mm: float = 15.0) -> None:
        if not isinstance(t, Translator):
            raise TypeError(f"t must be an i18n.Translator, got {type(t).__name__}")
        if not 5.0 <= margin_mm <= 40.0:
            raise ValueError(f"margin_mm must be between 5 and 40, got {margin_mm}")
        self.t = t
        self.title_text = str(title)
        self.generated_at = generated_at
        self.footer_note = footer_note or None
        self.bottom_margin_mm = 14.0 + (6.0 if self.footer_note else 0.0)
        self._measuring = False
        pdf = _Canvas(self)
        for style, path in font_paths().items():
            pdf.add_font(FONT, style, str(path))
        pdf.set_margins(margin_mm, margin_mm, margin_mm)
        pdf.set_auto_page_break(True, margin=self.bottom_margin_mm)
        pdf.alias_nb_pages(_NB_ALIAS)
        pdf.set_creator("Proximité")
        pdf.set_lang(t.lang)
        if self.title_text:
            pdf.set_title(self.title_text)
        if isinstance(generated_at, datetime):
            pdf.set_creation_date(generated_at if generated_at.tzinfo else generated_at.astimezone())
        pdf.add_page()
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(_TEXT)
        self.pdf = pdf

    # --- geometry -------------------------------------------------------------------------------

    @property
    def width_mm(self) -> float:
        """Width of the text column (between the margins)."""
        return float(self.pdf.epw)

    @property
    def remaining_mm(self) -> float:
        """Height left on the current page before the footer."""
        return float(self.pdf.page_break_trigger - self.pdf.y)

    @property
    def page_count(self) -> int:
        return int(self.pdf.pages_count)

    def measure(self, blocks: Callable[[PdfDocument], object]) -> float:
        """Height (mm) that ``blocks(self)`` would take from the current position, drawing nothing.

        Lets a one-page document size its flexible part (a map) to what the rest
        leaves free. The blocks run on fpdf2's recorder with page breaks refused,
        so the height keeps growing past the page end instead of wrapping.
        """
        start, page = self.pdf.y, self.pdf.page
        real = self.pdf
        with real.offset_rendering() as recorder:
            self.pdf, self._measuring = recorder, True  # type: ignore[assignment]
            try:
                blocks(self)
                height = recorder.y - start + (recorder.page - page) * real.eph
            finally:
                self.pdf, self._measuring = real, False
        return float(height)

    def _keep_together(self, height: float) -> None:
        """Start a new page if ``height`` mm do not fit on this one (and would fit on an empty one)."""
        if self._measuring:
            return
        if height > self.remaining_mm and height <= self.pdf.page_break_trigger - self.pdf.t_margin:
            self.pdf.add_page()

    # --- text blocks ----------------------------------------------------------------------------

    def title(self, text: str) -> None:
        """The document's big title."""
        self._text_block(text, size=17, style="B", line=7.2, after=1.5)

    def subtitle(self, text: str) -> None:
        """A line under the title (place, period, date), in grey."""
        self._text_block(text, size=10.5, style="", line=5, after=1.5, grey=_MUTED)

    def heading(self, text: str, level: int = 1) -> None:
        """A section heading, kept with at least a few lines of what follows."""
        size = {1: 12.0, 2: 10.5}.get(level)
        if size is None:
            raise ValueError(f"level must be 1 or 2, got {level}")
        self._keep_together(size * 0.5 + 14)
        self.pdf.ln(2.0 if level == 1 else 1.0)
        self._text_block(text, size=size, style="B", line=size * 0.48, after=1.0)

    def paragraph(self, text: str, *, size: float = 9.5, bold: bool = False, italic: bool = False,
                  grey: bool = False) -> None:
        """Wrapped text, printed literally (no markup is interpreted)."""
        style = ("B" if bold else "") + ("I" if italic else "")
        self._text_block(text, size=size, style=style, line=size * 0.47, after=1.5, grey=_MUTED if grey else _TEXT)

    def bullets(self, items: Iterable[str], *, size: float = 9.0) -> None:
        """A bulleted list; wrapped lines hang under the text, not under the bullet."""
        pdf = self.pdf
        pdf.set_font(FONT, "", size)
        indent = pdf.get_string_width("•") + 2.0
        for item in items:
            pdf.set_x(pdf.l_margin)
            pdf.cell(indent, size * 0.47, "•")
            pdf.multi_cell(self.width_mm - indent, size * 0.47, str(item), align=Align.L,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.0)

    def space(self, mm: float) -> None:
        """Vertical space."""
        self.pdf.ln(float(mm))

    def page_break(self) -> None:
        self.pdf.add_page()

    def _text_block(self, text: str, *, size: float, style: str, line: float, after: float,
                    grey: int = _TEXT) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, style, size)
        pdf.set_text_color(grey)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(0, line, str(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(_TEXT)
        pdf.ln(after)

    # --- structured blocks ----------------------------------------------------------------------

    def key_values(self, pairs: Sequence[tuple[str, str]], *, key_width_mm: float | None = None,
                   size: float = 8.5) -> None:
        """Label/value lines (parameters of an analysis, facts about a place); both columns wrap."""
        rows = [(str(k), str(v)) for k, v in pairs]
        if not rows:
            return
        pdf = self.pdf
        pdf.set_font(FONT, "B", size)
        if key_width_mm is None:
            widest = max(pdf.get_string_width(k) for k, _ in rows) + 3.0
            key_width_mm = min(max(widest, 25.0), self.width_mm * 0.4)
        pdf.set_font(FONT, "", size)
        bold = FontFace(emphasis="BOLD")
        with pdf.table(col_widths=(key_width_mm, self.width_mm - key_width_mm), width=self.width_mm,
                       first_row_as_headings=False, borders_layout=TableBordersLayout.NONE,
                       text_align=("LEFT", "LEFT"), line_height=size * 0.45, padding=(0.4, 1.0),
                       v_align="TOP") as table:
            for key, value in rows:
                row = table.row()
                row.cell(key, style=bold)
                row.cell(value)
        pdf.ln(1.5)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], *,
              widths_mm: Sequence[float] | None = None, align: Sequence[str] | None = None,
              size: float = 8.0, digits: int = 2) -> None:
        """A data table: bold grey heading repeated on every page, zebra rows in light grey.

        Cells may be text (printed as given) or numbers, which are formatted in the
        document's language (floats with ``digits`` decimals) and right-aligned
        unless ``align`` ("L", "C", "R" per column) says otherwise. ``None`` and NaN
        print as "–". ``widths_mm`` default to equal shares of the text width.
        """
        n = len(headers)
        if n == 0:
            raise ValueError("headers must name at least one column")
        for i, row in enumerate(rows):
            if len(row) != n:
                raise ValueError(f"row {i} has {len(row)} cells, expected {n} like headers")
        if widths_mm is None:
            widths_mm = [self.width_mm / n] * n
        if len(widths_mm) != n or any(w <= 0 for w in widths_mm):
            raise ValueError("widths_mm must give one positive width per column")
        total = float(sum(widths_mm))
        if total > self.width_mm + 0.01:
            raise ValueError(f"columns are {total:.1f} mm wide, the page has {self.width_mm:.1f} mm")
        if align is None:
            numeric = [bool(rows) and all(_is_number(r[j]) or _is_missing(r[j]) for r in rows) for j in range(n)]
            align = ["R" if num else "L" for num in numeric]
        if len(align) != n or any(a not in ("L", "C", "R") for a in align):
            raise ValueError('align must give "L", "C" or "R" per column')
        names = {"L": "LEFT", "C": "CENTER", "R": "RIGHT"}
        texts = [[self._cell_text(value, digits) for value in row] for row in rows]
        widths_mm = self._fit_widths([str(h) for h in headers], texts, list(widths_mm), size, pad=1.2)
        pdf = self.pdf
        pdf.set_font(FONT, "", size)
        pdf.set_draw_color(_RULE)
        pdf.set_line_width(0.15)
        heading = FontFace(emphasis="BOLD", fill_color=_HEAD_FILL, color=_TEXT)
        total = min(total, pdf.epw - 1e-6)  # n equal shares of the width can add up a hair above it
        with pdf.table(col_widths=tuple(widths_mm), width=total, align="LEFT",
                       text_align=tuple(names[a] for a in align), headings_style=heading,
                       cell_fill_color=_ZEBRA_FILL, cell_fill_mode=TableCellFillMode.ROWS,
                       borders_layout=TableBordersLayout.HORIZONTAL_LINES, line_height=size * 0.45,
                       padding=(0.8, 1.2), v_align="MIDDLE", repeat_headings=1) as table:
            head = table.row()
            for text in headers:
                head.cell(str(text))
            for row in texts:
                out = table.row()
                for text in row:
                    out.cell(text)
        pdf.ln(2.0)

    def _fit_widths(self, headers: list[str], texts: list[list[str]], widths: list[float], size: float,
                    pad: float) -> list[float]:
        """Widen columns whose longest word would be cut, taking the room from columns with some to spare.

        fpdf2 splits a word that is wider than its cell ("précédent|e"); widths given
        for one language rarely fit the other's headers, so they are adjusted here.
        """
        pdf = self.pdf
        need = []
        for j, header in enumerate(headers):
            pdf.set_font(FONT, "B", size)
            widest = max((pdf.get_string_width(w) for w in _WORDS.split(header) if w), default=0.0)
            pdf.set_font(FONT, "", size)
            for row in texts:
                widest = max(widest, max((pdf.get_string_width(w) for w in _WORDS.split(row[j]) if w), default=0.0))
            need.append(widest + 2 * pad + 0.4)
        short = [max(n - w, 0.0) for n, w in zip(need, widths, strict=True)]
        spare = [max(w - n, 0.0) for n, w in zip(need, widths, strict=True)]
        missing, available = sum(short), sum(spare)
        if missing <= 0 or available <= 0:
            return widths
        moved = min(missing, available)
        return [w + s * moved / missing - p * moved / available for w, s, p in zip(widths, short, spare, strict=True)]

    def _cell_text(self, value: object, digits: int) -> str:
        if _is_missing(value):
            return "–"
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, Integral):
            return self.t.n(int(value))
        if isinstance(value, Real):
            return self.t.n(float(value), digits)
        return str(value)

    def image(self, png: bytes, *, width_mm: float | None = None, height_mm: float | None = None,
              caption: str | None = None) -> None:
        """A PNG centred on the text column, moved to the next page rather than cut.

        Give a width, a height, both (the image is stretched to them) or neither
        (full text width); a missing side follows the image's aspect.
        """
        px_w, px_h = png_size(png)
        if width_mm is None and height_mm is None:
            width_mm = self.width_mm
        if width_mm is None:
            width_mm = float(height_mm) * px_w / px_h
        if height_mm is None:
            height_mm = float(width_mm) * px_h / px_w
        if width_mm <= 0 or height_mm <= 0 or width_mm > self.width_mm + 0.01:
            raise ValueError(f"image size {width_mm:.1f} x {height_mm:.1f} mm does not fit the "
                             f"{self.width_mm:.1f} mm text width")
        caption_h = 4.0 if caption else 0.0
        self._keep_together(height_mm + caption_h + 1.0)
        pdf = self.pdf
        x = pdf.l_margin + (self.width_mm - width_mm) / 2.0
        y = pdf.y
        pdf.image(io.BytesIO(png), x=x, y=y, w=width_mm, h=height_mm)
        pdf.set_draw_color(_RULE)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, width_mm, height_mm)
        pdf.set_y(y + height_mm + 1.0)
        if caption:
            pdf.set_font(FONT, "I", 7.5)
            pdf.set_text_color(_MUTED)
            pdf.multi_cell(0, 3.4, str(caption), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(_TEXT)
        pdf.ln(1.5)

    def note(self, lines: str | Sequence[str], *, title: str | None = None, size: float = 8.0) -> None:
        """A framed box (caveats, warnings), kept on one page when it fits on one."""
        items = [lines] if isinstance(lines, str) else [str(x) for x in lines]
        if not items and not title:
            return
        pdf = self.pdf
        pad = 2.0
        inner = self.width_mm - 2 * pad
        line = size * 0.45
        bullet = len(items) > 1
        pdf.set_font(FONT, "", size)
        indent = pdf.get_string_width("•") + 1.5 if bullet else 0.0
        height = 2 * pad
        if title:
            pdf.set_font(FONT, "B", size + 0.5)
            height += pdf.multi_cell(inner, line + 0.3, title, dry_run=True, output="HEIGHT") + 0.8
        pdf.set_font(FONT, "", size)
        for item in items:
            height += pdf.multi_cell(inner - indent, line, item, dry_run=True, output="HEIGHT") + 0.6
        self._keep_together(height + 1.0)
        top, page = pdf.y, pdf.page
        pdf.set_y(top + pad)
        if title:
            pdf.set_font(FONT, "B", size + 0.5)
            pdf.set_x(pdf.l_margin + pad)
            pdf.multi_cell(inner, line + 0.3, title, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(0.8)
        pdf.set_font(FONT, "", size)
        for item in items:
            pdf.set_x(pdf.l_margin + pad)
            if bullet:
                pdf.cell(indent, line, "•")
            pdf.multi_cell(inner - indent, line, item, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(0.6)
        bottom = pdf.y + pad - 0.6
        if pdf.page == page:  # a box longer than a page is left open rather than drawn across pages
            pdf.set_draw_color(_TEXT)
            pdf.set_line_width(0.3)
            pdf.rect(pdf.l_margin, top, self.width_mm, bottom - top)
        pdf.set_y(bottom + 2.0)

    def signatures(self, people: Sequence[Signatory | tuple[str, str]], *, per_row: int | None = None) -> None:
        """Signature spaces: a line to sign on, name and role under it, and a date line; never split."""
        signers = [p if isinstance(p, Signatory) else Signatory(*p) for p in people]
        if not signers:
            return
        per_row = per_row or min(len(signers), 3)
        if not 1 <= per_row <= 4:
            raise ValueError(f"per_row must be between 1 and 4, got {per_row}")
        t, pdf = self.t, self.pdf
        gap = 6.0
        col_w = (self.width_mm - gap * (per_row - 1)) / per_row
        block_h = 34.0
        for start in range(0, len(signers), per_row):
            chunk = signers[start:start + per_row]
            self._keep_together(block_h)
            top = pdf.y
            for i, person in enumerate(chunk):
                x = pdf.l_margin + i * (col_w + gap)
                pdf.set_text_color(_MUTED)
                pdf.set_font(FONT, "", 7)
                pdf.set_xy(x, top)
                pdf.cell(col_w, 3.5, t("Signature"))
                pdf.set_draw_color(_TEXT)
                pdf.set_line_width(0.3)
                pdf.line(x, top + 16, x + col_w, top + 16)
                pdf.set_text_color(_TEXT)
                pdf.set_xy(x, top + 17)
                pdf.set_font(FONT, "B", 8.5)
                pdf.multi_cell(col_w, 3.8, person.name, align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
                if person.role:
                    pdf.set_font(FONT, "", 8)
                    pdf.multi_cell(col_w, 3.6, person.role, align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
                pdf.set_font(FONT, "", 7.5)
                label = t("Date")
                pdf.set_xy(x, top + block_h - 6)
                pdf.cell(pdf.get_string_width(label) + 1.5, 3.5, label)
                pdf.set_line_width(0.2)
                pdf.line(pdf.x, top + block_h - 3, x + col_w * 0.7, top + block_h - 3)
            pdf.set_xy(pdf.l_margin, top + block_h + 2)

    # --- result ---------------------------------------------------------------------------------

    def output(self) -> bytes:
        """The finished PDF."""
        return bytes(self.pdf.output())


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, Real) and not isinstance(value, Integral) and value != value)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)

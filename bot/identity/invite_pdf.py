"""Printable invitation slips: A4, 8 per page (2 columns x 4 rows), each class on its own pages.

Each slip carries the school and class, the person's name, the code in large type, its expiry,
the deep link, a QR code of the link (of the bare code when no bot username is configured) and
how to use it. When Zalo is configured the slip has two smaller QR codes side by side, each
labelled: Telegram's deep link and the Zalo Official Account's link (``zalo.me/<OA id>``, where
the person sends the code), and the instructions name both ways.
Text is set in DejaVu Sans shipped in ``bot/fonts`` (subset to Latin and
Vietnamese; licence in ``bot/fonts/LICENSE.txt``), so the slips print the same on a machine
without system fonts. The QR code is reportlab's own widget, vector, error correction level M.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF  # type: ignore[import-untyped]
from reportlab.graphics.barcode.qr import QrCodeWidget  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped]
from reportlab.lib.colors import Color  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from bot.config.settings import Settings
from bot.identity.invitations import normalise_code
from bot.identity.invite import InviteError, Slip, publish_file

REGULAR, BOLD = "HosoSans", "HosoSans-Bold"
FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS
MARGIN = 28.0  # about 10 mm: inside what office printers can print
PAD = 10.0
QR_SIZE = 96.0
QR_PAIR = 64.0  # each of the two codes when the slip offers Telegram and Zalo
QR_GAP = 6.0
GREY = Color(0.45, 0.45, 0.45)
TITLE = "Phiếu mời cập nhật hồ sơ"
FOR_ROLE = {
    "self": ("Dành cho cán bộ, giáo viên, nhân viên", "Họ và tên"),
    "guardian": ("Dành cho cha mẹ hoặc người giám hộ", "Học sinh"),
}


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, filename in FONT_FILES.items():
        if name not in registered:
            path = files("bot").joinpath("fonts", filename)
            pdfmetrics.registerFont(TTFont(name, str(path)))


class PdfSlipWriter:
    """Slips drawn as they come; a new page when one is full or the class changes."""

    def __init__(self, path: Path, tmp: Path, settings: Settings) -> None:
        _register_fonts()
        self._path, self._tmp = path, tmp
        self._bot = settings.telegram.bot_username.strip().lstrip("@")
        self._tz = ZoneInfo(settings.review.timezone)
        self._canvas = Canvas(str(tmp), pagesize=A4, pageCompression=1)
        self._canvas.setTitle(TITLE)
        self._group: tuple[str, str] | None = None
        self._on_page = 0
        self.pages = 0

    def add(self, slip: Slip) -> None:
        group = (slip.school, slip.group)
        if self._on_page == PER_PAGE or (self._on_page and group != self._group):
            self._canvas.showPage()
            self._on_page = 0
        if self._on_page == 0:
            self.pages += 1
            self._footer(slip)
        self._group = group
        col, row = self._on_page % COLUMNS, self._on_page // COLUMNS
        width, height = _slip_size()
        x = MARGIN + col * width
        y = A4[1] - MARGIN - (row + 1) * height
        _SlipPainter(self._canvas, x, y, self._bot, self._tz).draw(slip)
        self._on_page += 1

    def finish(self) -> None:
        try:
            self._canvas.save()
        except OSError as exc:
            raise InviteError(f"Không ghi được tệp {self._path}: {exc.strerror}.") from exc

    def publish(self) -> None:
        publish_file(self._tmp, self._path)

    def abort(self) -> None:
        self._tmp.unlink(missing_ok=True)

    def _footer(self, slip: Slip) -> None:
        c = self._canvas
        c.setFont(REGULAR, 7)
        c.setFillColor(GREY)
        text = f"{slip.school} · {slip.group} · trang {self.pages} · cắt theo đường nét đứt"
        c.drawCentredString(A4[0] / 2, MARGIN / 2, text)


def _slip_size() -> tuple[float, float]:
    return (A4[0] - 2 * MARGIN) / COLUMNS, (A4[1] - 2 * MARGIN) / ROWS


class _SlipPainter:
    """One slip inside its cut lines, drawn top-down from a cursor."""

    def __init__(self, canvas: Canvas, x: float, y: float, bot: str, tz: ZoneInfo) -> None:
        self.c, self.x, self.y, self.bot, self.tz = canvas, x, y, bot, tz
        self.width, self.height = _slip_size()
        self.left = x + PAD
        self.inner = self.width - 2 * PAD

    def draw(self, slip: Slip) -> None:
        self._border()
        top = self.y + self.height - PAD
        self._header(slip, top)
        qr_top = top - 44
        right = self.x + self.width - PAD
        if slip.zalo:
            size, labelled = QR_PAIR, 10.0
            first = right - 2 * size - QR_GAP
            bottom = qr_top - labelled - size
            self._qr(slip.link or _bare(slip), first, bottom, size=size, link=slip.link)
            self._qr(slip.zalo, right - size, bottom, size=size, link=slip.zalo)
            self._label("Telegram" if slip.link else "Mã mời", first, size, qr_top)
            self._label("Zalo", right - size, size, qr_top)
            room = self.inner - 2 * size - QR_GAP - 10
            # The expiry line falls below the codes, so it may take the slip's whole width.
            person_end = self._person(slip, qr_top - 8, room, expiry_room=self.inner)
            self._instructions(slip, min(bottom - 4, person_end - 2))
        else:
            payload = slip.link or _bare(slip)
            self._qr(payload, right - QR_SIZE, qr_top - QR_SIZE, size=QR_SIZE, link=slip.link)
            self._person(slip, qr_top - 8, self.inner - QR_SIZE - 6)
            self._instructions(slip, qr_top - QR_SIZE - 8)

    def _label(self, text: str, x: float, size: float, top: float) -> None:
        c = self.c
        c.setFont(BOLD, 7.5)
        c.setFillColor(GREY)
        c.drawCentredString(x + size / 2, top - 7, text)
        c.setFillColor(Color(0, 0, 0))

    def _border(self) -> None:
        c = self.c
        c.saveState()
        c.setStrokeColor(GREY)
        c.setLineWidth(0.5)
        c.setDash(3, 3)
        c.rect(self.x, self.y, self.width, self.height)
        c.restoreState()

    def _header(self, slip: Slip, top: float) -> None:
        c = self.c
        c.setFillColor(Color(0, 0, 0))
        group_width = pdfmetrics.stringWidth(slip.group, BOLD, 9)
        school_room = self.inner - group_width - 8
        c.setFont(BOLD, 9)
        c.drawRightString(self.left + self.inner, top - 9, slip.group)
        c.setFont(REGULAR, _fit(slip.school, REGULAR, 8.5, school_room))
        c.drawString(self.left, top - 9, slip.school)
        c.setFont(BOLD, 13)
        c.drawString(self.left, top - 27, TITLE)
        audience, _ = FOR_ROLE.get(slip.role, FOR_ROLE["self"])
        c.setFont(REGULAR, 8)
        c.setFillColor(GREY)
        c.drawString(self.left, top - 39, audience)
        c.setFillColor(Color(0, 0, 0))

    def _person(
        self, slip: Slip, top: float, room: float, *, expiry_room: float | None = None
    ) -> float:
        """Name, code and expiry in ``room`` points; the lowest line's baseline."""
        c = self.c
        _, label = FOR_ROLE.get(slip.role, FOR_ROLE["self"])
        c.setFont(REGULAR, 8)
        c.drawString(self.left, top - 8, f"{label}:")
        c.setFont(BOLD, _fit(slip.ho_ten, BOLD, 11, room))
        c.drawString(self.left, top - 21, slip.ho_ten)
        c.setFont(REGULAR, 8)
        c.drawString(self.left, top - 40, "Mã mời:")
        c.setFont(BOLD, _fit(slip.code, BOLD, 19, room))
        c.drawString(self.left, top - 60, slip.code)
        expires = slip.expires.astimezone(self.tz).strftime("Hạn dùng: %H:%M ngày %d/%m/%Y")
        c.setFont(REGULAR, _fit(expires, REGULAR, 8, expiry_room or room))
        c.drawString(self.left, top - 78, expires)
        return top - 78

    def _qr(self, payload: str, x: float, y: float, *, size: float, link: str) -> None:
        widget = QrCodeWidget(payload, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        scale = (size / (x1 - x0), size / (y1 - y0))
        drawing = Drawing(size, size, transform=[scale[0], 0, 0, scale[1], 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, self.c, x, y)
        if link:
            self.c.linkURL(link, (x, y, x + size, y + size), relative=0, thickness=0)

    def _instructions(self, slip: Slip, top: float) -> None:
        c = self.c
        where = f"tìm @{self.bot}" if self.bot else "tìm bot của nhà trường"
        if slip.zalo:
            text = (
                f"Telegram: quét mã QR Telegram (hoặc {where}) rồi gửi mã mời. "
                "Zalo: quét mã QR Zalo, bấm «Quan tâm» rồi gửi mã mời. Mỗi mã chỉ dùng một lần."
            )
        else:
            text = f"Mở Telegram, quét mã QR hoặc {where} và gửi mã này. Mỗi mã chỉ dùng một lần."
        size = 8.5
        lines = simpleSplit(text, REGULAR, size, self.inner)
        while len(lines) > 3 and size > 6.5:  # three lines fit above the link
            size -= 0.5
            lines = simpleSplit(text, REGULAR, size, self.inner)
        c.setFont(REGULAR, size)
        for i, line in enumerate(lines[:3]):
            c.drawString(self.left, top - 9 - i * (size + 2.5), line)
        shown = [slip.link] if not slip.zalo else [_short(slip.link), _short(slip.zalo)]
        links = "   ".join(link for link in shown if link)
        if links:
            c.setFont(REGULAR, _fit(links, REGULAR, 7.5, self.inner, smallest=5.0))
            c.setFillColor(GREY)
            c.drawString(self.left, self.y + PAD - 2, links)
            c.setFillColor(Color(0, 0, 0))


def _short(link: str) -> str:
    """A link as people type it: phones open ``t.me/…`` and ``zalo.me/…`` without the scheme."""
    return link.removeprefix("https://")


def _bare(slip: Slip) -> str:
    return normalise_code(slip.code) or slip.code


def _fit(text: str, font: str, size: float, width: float, smallest: float = 6.0) -> float:
    """The largest size up to ``size`` at which ``text`` fits ``width`` (never below
    ``smallest``)."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size

"""The file sink: a batch is ``<batch>.csv``, ``<batch>.xlsx`` and ``<batch>.manifest.json`` in
``<directory>/<school code>/``.

Every file is written under a temporary name, flushed to disk (fsync) and renamed, the manifest
last; so a reader that finds a manifest finds the files it describes (their sha256 in it), and
a crash leaves at most stale ``.*.tmp`` files that the rewrite of the same batch replaces. An
``OSError`` (full disk, unwritable folder) becomes an ``ExportError`` in Vietnamese.

CSV: UTF-8 with BOM (Excel shows Vietnamese), values exactly as approved, for the central
database's importer, except that no cell is a live formula (``bot.sheets.cells``: a quote before
one).
XLSX: one sheet, every value stored as text, never a formula (characters XLSX forbids are
dropped there, never in the CSV).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the dev extras

from bot.export.sinks import ExportError
from bot.export.sinks.layout import ExportItem, Layout
from bot.sheets.cells import csv_row, xlsx_cell
from flows.catalogue import Catalogue

SHEET_TITLE = {"staff": "Cán bộ", "student": "Học sinh"}
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def folder_name(school: str) -> str:
    """A school code as a folder (and batch-name) part: ASCII letters, digits, dot, dash."""
    name = _UNSAFE.sub("-", school)[:32].strip(".") or "khong-ro"
    return name


_REASONS = {
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.EEXIST: "đã có một tệp trùng tên thư mục",
    errno.EISDIR: "đã có một thư mục trùng tên tệp",
    errno.ENOENT: "không tìm thấy đường dẫn",
}


def _unwritable(where: Path, exc: OSError) -> ExportError:
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    return ExportError(
        f"Không ghi được tệp xuất vào thư mục {where}: {reason}. Các thay đổi chưa xuất vẫn "
        "nằm trong hàng đợi, không mất gì; hãy sửa lỗi rồi chạy lại «hoso export run»."
    )


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path) -> None:
    _sync(tmp)
    os.replace(tmp, final)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    batch: str
    folder: Path
    unit: str  # the school's code
    rows: int
    change_set_ids: tuple[int, ...]
    files: Mapping[str, str]  # file name -> sha256

    @property
    def xlsx(self) -> Path:
        return self.folder / f"{self.batch}.xlsx"


class BatchFiles:
    """One batch being written: rows go to a CSV and a write-only workbook (both on disk, not in
    memory), published by ``commit``."""

    def __init__(self, folder: Path, batch: str, layout: Layout) -> None:
        self.folder, self.batch, self.layout = folder, batch, layout
        self.csv_path = folder / f"{batch}.csv"
        self.xlsx_path = folder / f"{batch}.xlsx"
        self.manifest_path = folder / f"{batch}.manifest.json"
        self._tmp = {p: p.with_name(f".{p.name}.tmp") for p in self._paths}
        self._ids: list[int] = []
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE.get(layout.kind, layout.kind))
        try:
            self._handle: IO[str] = self._tmp[self.csv_path].open(
                "w", encoding="utf-8-sig", newline=""
            )
        except OSError as exc:
            raise _unwritable(folder, exc) from exc
        self._csv = csv.writer(self._handle)
        self._append(layout.headers)

    @property
    def _paths(self) -> tuple[Path, Path, Path]:
        return (self.csv_path, self.xlsx_path, self.manifest_path)

    def write(self, items: Iterable[ExportItem]) -> None:
        try:
            for item in items:
                self._append(self.layout.row(item))
                self._ids.append(item.change_set_id)
        except OSError as exc:
            raise _unwritable(self.folder, exc) from exc

    def _append(self, cells: Iterable[str | None]) -> None:
        row = list(cells)
        self._csv.writerow(csv_row(row))
        self._sheet.append([_xlsx_cell(self._sheet, value) for value in row])

    def commit(self, *, unit: str, generated_at: datetime) -> Manifest:
        """Publish the CSV, then the XLSX, then the manifest that names both."""
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            _publish(self._tmp[self.csv_path], self.csv_path)
            self._book.save(self._tmp[self.xlsx_path])
            _publish(self._tmp[self.xlsx_path], self.xlsx_path)
            files = {p.name: _sha256(p) for p in (self.csv_path, self.xlsx_path)}
            document = self._manifest(unit, generated_at, files)
            tmp = self._tmp[self.manifest_path]
            tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
            _publish(tmp, self.manifest_path)
            _sync(self.folder)  # the renames themselves survive a power cut
        except OSError as exc:
            self.abort()
            raise _unwritable(self.folder, exc) from exc
        return Manifest(
            batch=self.batch,
            folder=self.folder,
            unit=unit,
            rows=len(self._ids),
            change_set_ids=tuple(self._ids),
            files=files,
        )

    def _manifest(
        self, unit: str, generated_at: datetime, files: Mapping[str, str]
    ) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "unit": unit,
            "kind": self.layout.kind,
            "rows": len(self._ids),
            "change_set_ids": self._ids,
            "columns": list(self.layout.headers),
            "files": [
                {"name": name, "sha256": digest, "bytes": (self.folder / name).stat().st_size}
                for name, digest in files.items()
            ],
            "generated_at": generated_at.isoformat(),
        }

    def abort(self) -> None:
        """Drop the temporary files (the published ones of an earlier try stay as they were)."""
        if not self._handle.closed:
            # Closing flushes what is buffered, which fails again on a full disk; the file is
            # closed all the same, and the error to report is the one that brought us here.
            with contextlib.suppress(OSError):
                self._handle.close()
        # End the write-only sheet's row writer now (it holds a temporary file), not when the
        # garbage collector finds it; an already saved or broken sheet has nothing to end.
        with contextlib.suppress(Exception):
            self._sheet.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


def _xlsx_cell(sheet: Any, value: str | None) -> object:
    return None if value is None else xlsx_cell(value)  # never a formula (bot.sheets.cells)


class FileSink:
    def __init__(self, directory: Path, catalogues: Mapping[str, Catalogue]) -> None:
        self.directory = directory
        self.catalogues = catalogues
        self.layouts = {kind: Layout(catalogue) for kind, catalogue in catalogues.items()}

    def check(self) -> None:
        """Fail before anything is claimed if the export folder cannot take a file."""
        probe = self.directory / f".hoso-probe-{os.getpid()}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise _unwritable(self.directory, exc) from exc

    def open(self, batch: str, *, folder: str, kind: str) -> BatchFiles:
        where = self.directory / folder
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(where, exc) from exc
        return BatchFiles(where, batch, self.layouts[kind])

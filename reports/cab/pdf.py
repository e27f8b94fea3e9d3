"""The pack as a PDF: its HTML page printed by headless Chromium."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from reports.cab.html import for_print, to_html
from reports.cab.pack import Pack

CHROMIUM = "/usr/bin/chromium"


def to_pdf(pack: Pack, path: str | Path) -> Path:
    """Print the HTML with headless Chromium; each change's block stays
    whole unless it is taller than a page (html.MEASURE)."""
    return print_pdf(for_print(to_html(pack)), path)


def print_pdf(page_html: str, path: str | Path, what: str = "the pack"
              ) -> Path:
    """Print a self-contained HTML page to a PDF with headless Chromium."""
    path = Path(path).resolve()
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which(
        "chromium")
    if not browser:
        raise RuntimeError("PDF needs Chromium (/usr/bin/chromium): "
                           "`make chromium` installs it")
    with tempfile.TemporaryDirectory(prefix="cab-pack-") as tmp:
        page = Path(tmp) / "pack.html"
        page.write_text(page_html, encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - fixed binary, own arguments
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-pdf-header-footer",
             f"--user-data-dir={Path(tmp) / 'profile'}",
             f"--print-to-pdf={path}", page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"Chromium could not print {what}: "
                           f"{result.stderr.strip()[-500:]}")
    return path


def pdf_bytes(pack: Pack) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cab-pdf-") as tmp:
        return to_pdf(pack, Path(tmp) / "pack.pdf").read_bytes()

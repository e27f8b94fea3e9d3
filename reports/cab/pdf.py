"""The pack as a PDF: its HTML page printed by headless Chromium."""
from __future__ import annotations

import bisect
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path

from changeboard.words import many
from reports.cab.html import for_print, to_html
from reports.cab.pack import Pack

CHROMIUM = "/usr/bin/chromium"
log = logging.getLogger("changeboard.pdf")
SHOWN_MISSING = 12  # characters named in the warning


def to_pdf(pack: Pack, path: str | Path) -> Path:
    """Print the HTML with headless Chromium; each change's block stays
    whole unless it is taller than a page (html.MEASURE)."""
    return print_pdf(for_print(to_html(pack, "cab-pack.pdf")), path)


# Chromium prints at most this many pages at once in a process, and the
# last few pages printed are kept by their HTML: a viewer who asked the CAB
# page for its PDF six times at once started six Chromiums (1.6 s of both
# cores each; a security review), and each request printed the same pack
# again
PRINTING = threading.BoundedSemaphore(2)
# PDF requests a process takes at once, printing or waiting: more are
# refused at once. Each holds one of the server's few download threads
# while it waits: a viewer's 24 tabs asking for PDFs held another user's
# HTML download 29.6 s (a re-check walkthrough)
ASKED_AT_ONCE = 4
PRINTED_KEPT = 4               # PDFs kept, the last printed (2-6 MB each)
_printed: OrderedDict[str, bytes] = OrderedDict()
_printing: dict[str, Future] = {}  # a page's print under way, by its key
_printed_lock = threading.Lock()
_asked = 0  # requests in print_pdf now


class PrinterBusy(RuntimeError):
    """ASKED_AT_ONCE PDFs are being printed or waited for already."""


def print_pdf(page_html: str, path: str | Path, what: str = "the pack"
              ) -> Path:
    """Print a self-contained HTML page to a PDF with headless Chromium (at
    most PRINTING at once). A page printed lately is written again from
    PRINTED_KEPT; one being printed is waited for, its PDF (or its
    failure) shared with every request for it. PrinterBusy when
    ASKED_AT_ONCE requests are here already."""
    global _asked  # noqa: PLW0603 - the process's count, under the lock
    with _printed_lock:
        if _asked >= ASKED_AT_ONCE:
            raise PrinterBusy(
                f"{ASKED_AT_ONCE} PDFs are being printed here already: ask "
                f"for {what} again in a moment")
        _asked += 1
    try:
        return _printed_or_printing(page_html, Path(path).resolve(), what)
    finally:
        with _printed_lock:
            _asked -= 1


def _printed_or_printing(page_html: str, path: Path, what: str) -> Path:
    key = hashlib.sha256(page_html.encode()).hexdigest()
    with _printed_lock:
        kept = _printed.get(key)
        under_way = _printing.get(key) if kept is None else None
        mine = kept is None and under_way is None
        if mine:
            under_way = _printing[key] = Future()
    if kept is None and not mine:
        kept = under_way.result()  # the first request's PDF, or its error
    if kept is not None:
        path.write_bytes(kept)
    else:
        try:
            with PRINTING:
                _print(page_html, path, what)
            made = path.read_bytes()
            with _printed_lock:
                _printed[key] = made
                while len(_printed) > PRINTED_KEPT:
                    _printed.popitem(last=False)
            under_way.set_result(made)
        except BaseException as error:
            under_way.set_exception(error)
            raise
        finally:
            with _printed_lock:
                _printing.pop(key, None)
    if missing := unprintable(page_html):
        # Chromium prints a character no font has as a box, and says nothing
        log.warning(
            "%s: no font installed here has %s%s (%s in all), so the PDF "
            "prints them as boxes. Install a font that "
            "has them (Debian: fonts-wqy-microhei for Chinese, Japanese and "
            "Korean; fonts-noto for most other scripts)", path.name,
            ", ".join(f"{c} (U+{ord(c):04X})" for c in missing[:SHOWN_MISSING]),
            " and more" if len(missing) > SHOWN_MISSING else "",
            many(len(missing), "character"))
    return path


# what Chromium reads of the server's environment; nothing else of it (the
# sign-in client secret, the SMTP password) reaches its processes, whose
# /proc/<pid>/environ another process of the server's user could read: a
# viewer's click on the PDF started seven of them holding the secret (a
# re-check walkthrough)
CHROMIUM_KEEPS = ("PATH", "LANG", "LANGUAGE", "TZ", "FONTCONFIG_FILE",
                  "FONTCONFIG_PATH")


def chromium_env(home: str) -> dict[str, str]:
    """Chromium's whole environment: CHROMIUM_KEEPS and the locale's
    LC_*, with its home in the print's own folder."""
    return {**{k: v for k, v in os.environ.items()
               if k in CHROMIUM_KEEPS or k.startswith("LC_")},
            "HOME": home}


def _print(page_html: str, path: Path, what: str) -> None:
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
            capture_output=True, text=True, timeout=180, check=False,
            env=chromium_env(tmp))
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"Chromium could not print {what}: "
                           f"{result.stderr.strip()[-500:]}")


@functools.cache
def _font_ranges() -> tuple[list[int], list[int]] | None:
    """The code points some installed font has, as fontconfig lists them:
    sorted, merged ranges (starts, ends, inclusive); None when fontconfig
    cannot say (no fc-list)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    listed = subprocess.run(  # noqa: S603 - fixed binary, own arguments
        [fc_list, "--format=%{charset}\n"], capture_output=True, text=True,
        timeout=60, check=False).stdout
    spans = sorted(
        (int(low, 16), int(high or low, 16)) for low, _, high in (
            part.partition("-") for part in listed.split()))
    starts, ends = [], []
    for low, high in spans:
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
        else:
            starts.append(low)
            ends.append(high)
    return starts, ends


def unprintable(text: str) -> list[str]:
    """The characters of `text` that no installed font has (Chromium
    prints each as a box), in code point order; none when that cannot be
    told. Spaces, controls and marks of format are not printed as glyphs."""
    ranges = _font_ranges()
    if ranges is None:
        return []
    starts, ends = ranges
    missing = []
    for char in sorted(set(text)):
        point = ord(char)
        if point < 0x7f or char.isspace() or unicodedata.category(char) in (
                "Cc", "Cf", "Zl", "Zp"):
            continue
        at = bisect.bisect_right(starts, point) - 1
        if at < 0 or point > ends[at]:
            missing.append(char)
    return missing


def pdf_bytes(pack: Pack) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cab-pdf-") as tmp:
        return to_pdf(pack, Path(tmp) / "pack.pdf").read_bytes()

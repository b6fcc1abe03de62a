"""Fax pages as images: a PDF turned into the TIFF a fax machine sends (Ghostscript's
`tiffg4` device at the fax's own resolution), and a received TIFF back into a PDF (Pillow,
as Ghostscript cannot read TIFF).

Ghostscript runs as a subprocess (Debian's `ghostscript` package); Pillow is a Python
dependency. Both are blocking, so callers on an event loop run these in a thread."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageSequence

# Fax "fine" resolution: 204 x 196 dots per inch, 1728 dots across an A4 or Letter page.
FAX_DPI = (204, 196)
GHOSTSCRIPT = "gs"
# A document of more pages is not a fax anyone should send (and would hold a line for hours).
MAX_PAGES = 50


class FaxImageError(Exception):
    """The document cannot be turned into fax pages (or back); the message says why."""


def ghostscript() -> str:
    """The Ghostscript executable, or a FaxImageError saying what to install."""
    found = shutil.which(GHOSTSCRIPT)
    if found is None:
        raise FaxImageError(
            "Ghostscript (gs) is not installed: faxes are rendered with it; install Debian's "
            "'ghostscript' package (apt-get install ghostscript)"
        )
    return found


def pdf_to_fax_tiff(pdf: bytes | Sequence[bytes], target: Path, timeout_s: float = 60.0) -> int:
    """Write `pdf` (or several PDFs, one after the other: a cover page, then a statement) as
    a multi-page G4 TIFF at fax resolution to `target`; its page count. Each page is fitted to
    A4, as fax machines print on A4 (or Letter, which A4's width fits)."""
    pdfs = [pdf] if isinstance(pdf, bytes) else list(pdf)
    if not pdfs or not all(each.startswith(b"%PDF") for each in pdfs):
        raise FaxImageError("the document is not a PDF")
    gs = ghostscript()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with tempfile.TemporaryDirectory(prefix="tamas-fax-") as folder:
        inputs = []
        for number, each in enumerate(pdfs):
            path = Path(folder) / f"{number}.pdf"
            path.write_bytes(each)
            inputs.append(str(path))
        command = [
            gs,
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=tiffg4",
            f"-r{FAX_DPI[0]}x{FAX_DPI[1]}",
            "-sPAPERSIZE=a4",
            "-dFIXEDMEDIA",
            "-dPDFFitPage",
            f"-sOutputFile={partial}",
            *inputs,
        ]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            partial.unlink(missing_ok=True)
            raise FaxImageError(
                f"Ghostscript took over {timeout_s:.0f} s on the document"
            ) from error
    if result.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        detail = (result.stderr or result.stdout).decode(errors="replace").strip()[:300]
        raise FaxImageError(f"Ghostscript could not render the document: {detail}")
    pages = page_count(partial)
    if pages > MAX_PAGES:
        partial.unlink(missing_ok=True)
        raise FaxImageError(f"{pages} pages: a fax holds at most {MAX_PAGES}")
    partial.chmod(0o644)  # read by Asterisk, which runs as its own user
    partial.replace(target)
    return pages


def page_count(tiff: Path) -> int:
    try:
        with Image.open(tiff) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError) as error:
        raise FaxImageError(f"not a readable TIFF: {type(error).__name__}") from error


def tiff_to_pdf(tiff: Path) -> bytes:
    """The received pages as one PDF, at their own resolution (fax "normal" pages are 98 dpi
    high, "fine" 196: the PDF keeps their proportions), every dot as received."""
    try:
        with Image.open(tiff) as image:
            pages = [page.convert("1") for page in ImageSequence.Iterator(image)]
            resolution = image.info.get("dpi", FAX_DPI)
    except (OSError, ValueError) as error:
        raise FaxImageError(f"not a readable TIFF: {type(error).__name__}") from error
    if not pages:
        raise FaxImageError("the TIFF has no pages")
    x_dpi, y_dpi = (float(value) or 1.0 for value in resolution)
    out = io.BytesIO()
    # Both resolutions: a "normal" page (204 x 98) keeps its proportions without resampling.
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], dpi=(x_dpi, y_dpi))
    return out.getvalue()

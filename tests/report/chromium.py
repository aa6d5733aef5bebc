"""Test helper: render an HTML file in headless Chromium (Debian's `chromium`): a PNG screenshot and the DOM."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(browser: str, args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--mute-audio"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(browser: str, html: Path, png: Path, width: int = 1200, height: int = 2400) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    res = _run(browser, [f"--window-size={width},{height}", f"--screenshot={png}", html.resolve().as_uri()])
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot (exit {res.returncode}): {res.stderr[-2000:]}")
    return png


def dump_dom(browser: str, html: Path) -> str:
    res = _run(browser, ["--dump-dom", html.resolve().as_uri()])
    if res.returncode != 0 or "<html" not in res.stdout:
        raise RuntimeError(f"chromium --dump-dom failed (exit {res.returncode}): {res.stderr[-2000:]}")
    return res.stdout


def png_pixels(png: Path) -> tuple[int, int, bytes]:
    """(width, height, raw filtered scanlines) of an 8-bit RGB/RGBA PNG: enough to tell a blank page from a drawn one."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)

"""A real browser for the tests of the HTML pages, and the pixels of a PNG.

``open_page`` opens a page in headless Chromium once, and from that one launch takes its
screenshot, its DOM after layout and the network requests the page made (from Chromium's net
log: a request the page starts names the page as its initiator, one the browser makes for itself
does not). Name resolution is switched off, so nothing ever leaves the machine.
``png_pixels`` decodes a PNG with zlib alone, so that a test can tell a blank screenshot from a
page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

#: How long one browser launch may take before the test fails.
TIMEOUT = 90


def chromium() -> str:
    """The chromium on the path; skips the test without one, fails it in CI (.ci/run installs
    Debian's chromium)."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed: the HTML pages are not opened in a browser")
    return found


@dataclass(frozen=True)
class Page:
    """What the browser made of a page."""

    dom: str
    screenshot: Path
    #: The URLs of every request the page itself started (its own file excluded).
    requests: tuple[str, ...]


def _page_requests(net_log: Path, own: str) -> tuple[str, ...]:
    """The URLs requested with an initiator (the page) rather than by the browser itself."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] != start or "url" not in params:
            continue
        if params.get("initiator", "not an origin") != "not an origin" and params["url"] != own:
            urls.append(params["url"])
    return tuple(urls)


def open_page(page: Path, width: int, height: int) -> Page:
    """Open ``page`` in headless Chromium at ``width``×``height`` CSS pixels, once."""
    folder = page.parent
    shot, net_log = folder / f"{page.stem}-{width}.png", folder / f"{page.stem}-{width}.json"
    url = page.resolve().as_uri()
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={folder / 'chromium-profile'}",
            f"--log-net-log={net_log}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists(), result.stderr[-2000:]
    return Page(result.stdout, shot, _page_requests(net_log, url))


def print_page(page: Path) -> Path:
    """``page`` printed to PDF by headless Chromium (its print style sheet), once."""
    printed = page.with_suffix(".pdf")
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={page.parent / 'chromium-profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={printed}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return printed


def visible_text(dom: str) -> str:
    """The text a reader sees: the body without its tags, spaces collapsed."""
    body = dom[dom.index("<body") :]
    text = re.sub(r"<[^>]*>", "", body)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
    return re.sub(r"\s+", " ", text.replace("&amp;", "&")).strip()


def _sequential(kind: int, line: list[int], previous: list[int], depth: int) -> list[int]:
    """A row filtered with Average (3) or Paeth (4), undone byte by byte (PNG section 9)."""
    for i, value in enumerate(line):
        left = line[i - depth] if i >= depth else 0
        up, corner = previous[i], previous[i - depth] if i >= depth else 0
        if kind == 3:
            line[i] = (value + (left + up) // 2) & 255
            continue
        guess = left + up - corner
        near = min((abs(guess - left), 0), (abs(guess - up), 1), (abs(guess - corner), 2))
        line[i] = (value + (left, up, corner)[near[1]]) & 255
    return line


def _unfilter(data: bytes, width: int, height: int, depth: int) -> npt.NDArray[np.uint8]:
    """The image of a PNG's data, height × width × depth bytes, each row's filter undone."""
    stride = width * depth
    image = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for row in range(height):
        kind = data[row * (stride + 1)]
        start = row * (stride + 1) + 1
        line = np.frombuffer(data[start : start + stride], dtype=np.uint8)
        if kind == 1:  # Sub: a running sum of each channel along the row, modulo 256
            sums = np.cumsum(line.reshape(width, depth), axis=0, dtype=np.uint64) % 256
            line = sums.astype(np.uint8).reshape(stride)
        elif kind == 2:  # Up
            line = line + previous
        elif kind in (3, 4):
            line = np.array(_sequential(kind, line.tolist(), previous.tolist(), depth), np.uint8)
        image[row] = line
        previous = image[row]
    return image.reshape(height, width, depth)


def png_pixels(path: Path) -> npt.NDArray[np.uint8]:
    """The pixels of an 8-bit RGB, RGBA or grey PNG: height × width × channels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, bits, colour = struct.unpack(">IIBB", header[:10])
    assert bits == 8, f"{path}: only 8-bit PNGs are read"
    assert header[12] == 0, f"{path}: only non-interlaced PNGs are read"
    depth = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    return _unfilter(zlib.decompress(b"".join(chunks)), width, height, depth)


def ink(path: Path) -> tuple[float, int]:
    """The share of a PNG's pixels that are not (near) white, and how many of its rows hold
    any such pixel: a blank screenshot has neither."""
    pixels = png_pixels(path)
    colours = pixels[:, :, : min(pixels.shape[2], 3)]
    dark = colours.min(axis=2) < 200
    return float(dark.mean()), int(dark.any(axis=1).sum())

"""Headless Chromium for tests that look at pages the way a person would.

Chromium and chromedriver are Debian packages that `./dev` installs; tests install nothing.
Chromium runs with a fresh profile and without background networking, so a page that needed
the network would show it (and `PageCheck.resources` lists anything it fetched).
"""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,1000",
)

_FIGURES = """
return [...document.querySelectorAll('figure.plot')].map(f => {
  const svg = f.querySelector('svg');
  const r = svg ? svg.getBoundingClientRect() : {x: 0, y: 0, width: 0, height: 0};
  const cs = svg ? getComputedStyle(svg) : {};
  return {id: f.id, x: r.x + window.scrollX, y: r.y + window.scrollY,
          width: r.width, height: r.height, display: cs.display,
          visibility: cs.visibility, opacity: Number(cs.opacity),
          shapes: svg ? svg.querySelectorAll('path, rect, line, polyline, use').length : 0,
          texts: svg ? svg.querySelectorAll('text').length : 0};
});
"""


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/lib/chromium")
        if found:
            return found
    pytest.fail(
        f"{names[0]} not found: run ./dev test, which installs chromium and chromium-driver"
    )


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(executable_path=_binary("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True, slots=True)
class Figure:
    id: str
    width: float
    height: float
    visible: bool
    shapes: int
    texts: int
    colours: int  # distinct colours in a screenshot of the figure
    inked: float  # share of its pixels that are not white


def look(driver: webdriver.Chrome, page: Path) -> tuple[list[Figure], list[str]]:
    """The page's plots as rendered, and every resource the page made the browser fetch."""
    driver.get(page.resolve().as_uri())
    found = driver.execute_script(_FIGURES)
    size = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    # the whole page in one picture (one capture, not one per figure), in CSS pixels
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
        },
    )
    page_image = np.asarray(
        Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB"), dtype=np.uint32
    )
    figures = []
    for f in found:
        x, y = round(f["x"]), round(f["y"])
        image = page_image[y : y + round(f["height"]), x : x + round(f["width"])]
        pixels = image.reshape(-1, 3)
        white = int(np.count_nonzero(pixels.min(axis=1) > 245))
        packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
        figures.append(
            Figure(
                id=f["id"],
                width=f["width"],
                height=f["height"],
                visible=f["display"] != "none"
                and f["visibility"] == "visible"
                and f["opacity"] > 0.5,
                shapes=f["shapes"],
                texts=f["texts"],
                colours=len(np.unique(packed)),
                inked=1 - white / max(len(pixels), 1),
            )
        )
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return figures, list(resources)

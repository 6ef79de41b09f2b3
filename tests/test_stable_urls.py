"""Published URLs never break: published-urls.txt, checked by every build (sitekit/urls.py)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, page
from sitekit import urls
from sitekit.errors import SiteError


def test_the_list_is_every_page_the_real_site_builds(site):
    listed = {u for _, u in urls.read_published((ROOT / "published-urls.txt").read_text(encoding="utf-8"), "x")}
    built = {"/" + p.parent.relative_to(site.site).as_posix().removeprefix(".") for p in site.site.rglob("index.html")}
    built = {b if b.endswith("/") else b + "/" for b in built}
    assert listed == built


def _site(tiny, tmp_path, listed: str, pages: dict, redirects: dict | None = None):
    def changes(config):
        (tmp_path / "tiny" / "published-urls.txt").write_text(listed, encoding="utf-8")
        config["extra"]["published_urls"] = "published-urls.txt"
        if redirects is not None:
            config["plugins"] = ["search", {"redirects": {"redirect_maps": redirects}}]

    return tiny(pages, config_changes=changes)


PAGES = {"index.md": page(title="Home"), "new/place.md": page(title="Moved page")}
LISTED = "# published\n/\n/new/place/\n/print/\n"


def test_a_complete_list_builds(tiny, tmp_path):
    build = _site(tiny, tmp_path, LISTED, PAGES)
    assert build.ok, build.output


def test_a_removed_page_without_a_redirect_fails(tiny, tmp_path):
    build = _site(tiny, tmp_path, LISTED + "/old/page/\n", PAGES)
    assert not build.ok
    assert re.search(r"published-urls\.txt:5: /old/page/ was published but is no longer built: restore the page, "
                     r"or add a redirect", build.output)


def test_a_redirect_keeps_the_old_url_working(tiny, tmp_path):
    build = _site(tiny, tmp_path, LISTED + "/old/page/\n", PAGES, redirects={"old/page.md": "new/place.md"})
    assert build.ok, build.output
    redirect = (build.site / "old" / "page" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<meta http-equiv="refresh" content="0; url=\.\./\.\./new/place/"', redirect)


def test_a_redirect_to_a_missing_page_fails(tiny, tmp_path):
    build = _site(tiny, tmp_path, LISTED + "/old/page/\n", PAGES, redirects={"old/page.md": "gone.md"})
    assert not build.ok
    assert "published-urls.txt:5: /old/page/ redirects to /gone/, which is not built" in build.output


def test_a_new_page_must_be_listed(tiny, tmp_path):
    build = _site(tiny, tmp_path, LISTED, {**PAGES, "extra.md": page(title="Extra")})
    assert not build.ok
    assert "published-urls.txt: /extra/ is built but not listed: add it to published-urls.txt" in build.output


@pytest.mark.parametrize("line,message", [
    ("safety/", "'safety/' is not a site path like /safety/"),
    ("/Safety/", "'/Safety/' is not a site path"),
    ("/new/place/", "/new/place/ is listed twice (first on line 3)"),
])
def test_malformed_lists_fail_with_the_line(line, message):
    with pytest.raises(SiteError) as err:
        urls.read_published("# c\n/\n/new/place/\n" + line + "\n", "published-urls.txt")
    assert str(err.value).startswith(f"published-urls.txt:4: {message}")


def test_a_new_page_without_front_matter_gets_every_problem_in_one_run(tiny, tmp_path):
    """#17: the unlisted URL and the page's own problems are reported together, not one build at a time."""
    pages = {"index.md": page(title="Home"), "new/place.md": page(title="Moved page"),
             "new/unlisted.md": "Just some text [@nope2020missing].\n"}
    build = _site(tiny, tmp_path, LISTED, pages)
    assert not build.ok
    for expected in (r"published-urls\.txt: /new/unlisted/ is built but not listed",
                     r"docs/new/unlisted\.md:1: page has no front matter",
                     r"docs/new/unlisted\.md:1: the page must open with !!! abstract \"Key points\"",
                     r"docs/new/unlisted\.md:1: unknown citation key 'nope2020missing'"):
        assert re.search(expected, build.output), f"/{expected}/ not in:\n{build.output}"
    assert re.search(r"\d+ problems in all", build.output) and "Traceback" not in build.output

"""Content-Security-Policy: every page allows only this site's scripts (the theme's inline ones by hash),
styles, images and connections; the site still works under it, and it blocks what it must.

The browser gates of tests/test_browser.py (every page without console errors, search, citation
previews, dark mode, the phone drawer) run under the same policy; these tests add instant navigation
and planted violations. Fixtures come from tests/test_browser.py (local server, Debian's chromium).
"""

from __future__ import annotations

import re
import shutil

import pytest

from sitekit.themehtml import CSP_PLACEHOLDER, content_security_policy, content_span, inline_script_hashes
from test_browser import Watch, base_url, browser, serve, tab  # noqa: F401  (fixtures)

POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


def test_every_page_has_a_policy_listing_its_inline_scripts(site):
    pages = [p for p in site.site.rglob("*.html") if "print" not in p.parts]
    assert len(pages) > 40
    for path in pages:
        html = path.read_text(encoding="utf-8")
        policies = POLICY.findall(html)
        assert len(policies) == 1, path
        rules = dict(r.strip().split(" ", 1) for r in policies[0].split(";"))
        assert rules["default-src"] == "'self'" and rules["object-src"] == "'none'", path
        assert "unsafe-inline" not in rules["script-src"] and "unsafe-eval" not in rules["script-src"], path
        assert inline_script_hashes(html) <= set(rules["script-src"].split()), path
        assert content_span(html) != (0, 0), path  # the theme's content wrapper is found on every page
        assert html.index("Content-Security-Policy") < html.index("</head>"), path


def test_only_the_themes_inline_scripts_are_allowed_never_one_in_the_content():
    theme_script, planted = "<script>theme()</script>", "<script>planted()</script>"
    page = (f'<meta content="script-src {CSP_PLACEHOLDER}">{theme_script}<article class="md-content__inner md-typeset">'
            f"<article>{planted}</article>{planted}</article>{theme_script.replace('theme', 'footer')}")
    policy = content_security_policy(page, {"'sha256-instant'"})
    allowed = set(re.search(r'script-src ([^"]+)', policy).group(1).split())
    assert allowed == inline_script_hashes(theme_script + "<script>footer()</script>") | {"'sha256-instant'"}
    assert not inline_script_hashes(planted) & allowed  # (the author's nested article stays content)
    assert content_security_policy(page, allow_any_inline=True).count("'unsafe-inline'") == 1  # mkdocs serve


def test_instant_navigation_works_under_the_policy(tab, base_url):  # noqa: F811
    page = tab.page
    page.goto(base_url)
    page.locator('a.md-nav__link[href$="what-is-ketamine/"]').first.click()
    page.wait_for_url("**/what-is-ketamine/")
    page.locator("a.citation-ref").first.wait_for()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no full page load
    page.locator('a.md-nav__link[href$="safety/"]').first.click()
    page.wait_for_url("**/safety/")
    tab.clean()


@pytest.fixture
def planted_site(site, tmp_path):
    root = shutil.copytree(site.site, tmp_path / "site")
    target = root / "what-is-ketamine" / "index.html"
    html = target.read_text(encoding="utf-8")
    html = html.replace("</article>", '<script>window.plantedRan = true</script>'
                                      '<a id="planted-js" href="javascript:window.plantedLink=true">x</a>'
                                      '<img id="planted-img" src="https://example.invalid/x.png" alt="">'
                                      '</article>', 1)
    target.write_text(html, encoding="utf-8")
    with serve(root) as url:
        yield url


def test_the_policy_blocks_injected_script_links_and_off_origin_images(browser, planted_site):  # noqa: F811
    context = browser.new_context()
    blocked = []
    context.route("**/*", lambda route: (blocked.append(route.request.url), route.abort())
                  if "example.invalid" in route.request.url else route.continue_())
    page = context.new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(planted_site + "what-is-ketamine/")
    page.locator("#planted-js").click()
    assert page.evaluate("window.plantedRan") is None and page.evaluate("window.plantedLink") is None
    assert blocked == []  # the image request never left the page
    assert len(violations) >= 3, violations
    context.close()

"""Every built page is valid HTML: the W3C Nu HTML Checker (npm vnu-jar, Java) over the whole site.

The gate itself is ``gates.vnu`` (one Java run over all pages). A planted
defect proves it fails, and that its one filtered theme false positive
(autocomplete on Material's own state checkboxes) cannot hide the same error
anywhere else. ``sitekit.themehtml`` repairs the theme's other invalid markup.
"""

from __future__ import annotations

import pytest

from conftest import page
from gates import GateSetupError, vnu
from sitekit.themehtml import repair


def check(site_dir) -> vnu.Report:
    try:
        return vnu.check_site(site_dir)
    except GateSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_every_page_is_valid_html(site):
    report = check(site.site)
    pages = len(list(site.site.rglob("*.html")))
    assert report.files == pages > 40
    assert not report.errors, f"{len(report.errors)} HTML errors:\n" + "\n".join(report.errors)
    assert len(report.ignored) <= 2 * pages  # at most the theme's two checkboxes per page


def test_the_gate_reports_planted_errors(tiny):
    build = tiny(pages={"index.md": page("""
        <div id="twice">One.</div>

        <div id="twice">Two.</div>

        Inline <span><div>block</div></span> text.

        <input type="checkbox" id="mine" autocomplete="off">
        """)})
    assert build.ok, build.output
    errors = [e for e in check(build.site).errors if e.startswith("index.html:")]
    text = "\n".join(errors)
    assert "Duplicate ID “twice”." in text
    assert "Unclosed element “span”." in text  # the <div> closed the paragraph inside the <span>
    # the theme false positive is filtered by element, so the same error on our own input is reported
    assert sum("autocomplete" in e for e in errors) == 1
    duplicate = next(e for e in errors if "Duplicate ID" in e)
    _, line, column, _ = duplicate.split(":", 3)
    assert line.isdigit() and column.isdigit(), duplicate


def test_false_positive_filter_is_exact():
    (fp,) = vnu.THEME_FALSE_POSITIVES
    message = ("Attribute “autocomplete” is only allowed when the input type is “color”, “date”, “datetime-local”, "
               "“email”, “hidden”, “month”, “number”, “password”, “range”, “search”, “tel”, “text”, “time”, “url”, "
               "or “week”.")
    theme = '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">'
    assert fp.matches(message, theme)
    assert not fp.matches(message, theme.replace("__drawer", "__search"))  # toggle and id must agree
    assert not fp.matches(message, '<input type="checkbox" id="mine" autocomplete="off">')
    assert not fp.matches("Duplicate ID “__drawer”.", theme)


# --- the theme repairs (sitekit.themehtml) ------------------------------------

def test_repair_empty_tabindex_on_section_labels():
    html = '<label class="md-nav__link " for="__nav_3" id="__nav_3_label" tabindex="">'
    assert repair(html, None) == '<label class="md-nav__link " for="__nav_3" id="__nav_3_label" tabindex="-1">'
    kept = '<label class="md-nav__link" for="__nav_2" id="__nav_2_label" tabindex="0">'
    assert repair(kept, None) == kept


def test_repair_toc_title_only_without_its_toggle():
    title = '<label class="md-nav__title" for="__toc">'
    assert repair(f"<nav>{title}</nav>", None) == '<nav><label class="md-nav__title"></nav>'
    with_toggle = f'<input class="md-nav__toggle md-toggle" type="checkbox" id="__toc">{title}'
    assert repair(with_toggle, None) == with_toggle


def test_repair_escapes_the_description_in_attributes():
    desc = 'A "trapping" blocker & more, it\'s <b>'
    html = f'<meta name="description" content="{desc}">\n<meta property="og:description" content="{desc}">'
    fixed = repair(html, desc)
    assert fixed.count('content="A &quot;trapping&quot; blocker &amp; more, it\'s &lt;b&gt;"') == 2
    plain = '<meta name="description" content="Plain.">'
    assert repair(plain, "Plain.") == plain


def test_real_site_keeps_the_theme_script_hooks(site):
    html = site.html("what-is-ketamine/index.html")
    assert 'tabindex=""' not in html and 'tabindex="-1"' in html  # the theme's script selects label[tabindex]

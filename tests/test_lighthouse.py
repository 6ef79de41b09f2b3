"""Lighthouse (pinned npm lighthouse, Debian chromium): the home page and two content pages.

Required: accessibility, best practices and SEO 100, performance at least 95
(desktop preset). The built site is served on 127.0.0.1 under its real path
(``site_url``'s /ketamine-explained/) the way GitHub Pages serves it (gzip),
by a server started here; nothing leaves the machine. Each run's scores are
written to reports/lighthouse.json and reports/lighthouse.md. A planted defect
(a copy of a real page without its description and with an image without alt
text) proves the gate fails and names the audits. The gate is ``gates.lighthouse``.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import ROOT
from gates import GateSetupError
from gates import lighthouse as lh

# Lighthouse runs never overlap: gates.lighthouse holds a lock file during each run. The xdist group
# would also keep these tests on one worker, but pytest 9.2 + pytest-xdist 3.8 ignore xdist_group
# (pytest-dev/pytest-xdist#1386), so the three pages are one test rather than a parametrized three.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("lighthouse")]

PAGES = ["", "what-is-ketamine/", "safety/"]
REPORTS = ROOT / "reports"
PREFIX = urlsplit(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]).path


def test_lighthouse_scores(site):
    try:
        with lh.serve(site.site, PREFIX) as base:
            results = [lh.audit(base, path) for path in PAGES]
    except GateSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    lh.write_report(results, REPORTS)
    for result in results:
        assert set(result.scores) == set(lh.CATEGORIES), result.scores
    problems = [line for result in results for line in lh.problems(result)]
    assert not problems, "\n".join(problems)


def test_lighthouse_gate_fails_on_a_planted_defect(site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site.site, copy)
    target = copy / "what-is-ketamine" / "index.html"
    html = target.read_text(encoding="utf-8")
    html, removed = re.subn(r'<meta name="description"[^>]*>', "", html)
    html, added = re.subn(r'(<article class="md-content__inner md-typeset">)',
                          r'\1<img src="../assets/images/favicon.png" width="48" height="48">', html)
    assert removed == added == 1
    target.write_text(html, encoding="utf-8")
    try:
        with lh.serve(copy, PREFIX) as base:
            result = lh.audit(base, "what-is-ketamine/", categories=("accessibility", "seo"))
    except GateSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert result.scores["seo"] < 100 and result.scores["accessibility"] < 100
    assert "meta-description" in result.failing["seo"]
    assert "image-alt" in result.failing["accessibility"]
    problems = "\n".join(lh.problems(result))
    assert "seo" in problems and "meta-description" in problems and "image-alt" in problems

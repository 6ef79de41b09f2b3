"""The quality gates' own parts: pinned Node tools, the GitHub-Pages-like server, Lighthouse result reading.

The gates themselves run in tests/test_html_valid.py and tests/test_lighthouse.py.
"""

from __future__ import annotations

import gzip
import json
import re
import urllib.error
import urllib.request

import pytest

from conftest import ROOT
from gates import GateSetupError, require
from gates import lighthouse as lh

PACKAGE = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
LOCK = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))


def test_tools_are_pinned_exactly():
    assert PACKAGE["private"] is True
    tools = PACKAGE["devDependencies"]
    assert set(tools) == {"lighthouse", "vnu-jar"}
    for name, version in tools.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version!r} is not an exact version"
        assert LOCK["packages"][f"node_modules/{name}"]["version"] == version


def test_lock_has_an_integrity_hash_for_every_package():
    assert LOCK["lockfileVersion"] >= 2
    packages = {path: entry for path, entry in LOCK["packages"].items() if path}
    assert len(packages) > 100
    missing = [path for path, entry in packages.items() if not entry.get("link")
               and not re.fullmatch(r"sha512-[A-Za-z0-9+/]+={0,2}", entry.get("integrity", ""))]
    assert not missing, missing


def test_missing_tools_fail_with_the_install_command():
    with pytest.raises(GateSetupError, match=r"run `make test` \(or scripts/system-deps.sh, which runs `npm ci`\)"):
        require(ROOT / "node_modules" / "no-such-tool" / "tool.js", "a tool")


def test_server_serves_like_github_pages(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (tmp_path / "sub" / "index.html").write_text("<p>sub</p>", encoding="utf-8")

    def get(url, **headers):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
            return r.status, dict(r.headers), r.read()

    with lh.serve(tmp_path, "/ketamine-explained/") as base:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/ketamine-explained/", base)
        status, headers, body = get(base + "sub/", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == b"<p>sub</p>"
        assert headers["Cache-Control"] == "max-age=600"
        assert get(base)[2] == b"<p>home</p>"  # no gzip unless asked
        assert get(base + "sub")[2] == b"<p>sub</p>"  # redirected to sub/
        for outside in (base.replace("/ketamine-explained/", "/index.html"), base + "../index.html",
                        base + "missing.html"):
            with pytest.raises(urllib.error.HTTPError) as err:
                get(outside)
            assert err.value.code == 404


def lhr(seo: float, audits: dict[str, float]) -> dict:
    return {"categories": {"seo": {"score": seo, "auditRefs": [{"id": a, "weight": 1} for a in audits]
                                   + [{"id": "structured-data", "weight": 0}]}},
            "audits": {**{a: {"score": s, "scoreDisplayMode": "binary"} for a, s in audits.items()},
                       "structured-data": {"score": None, "scoreDisplayMode": "manual"}}}


def test_problems_name_the_failing_audits():
    failing = lhr(0.83, {"meta-description": 0, "image-alt": 0, "document-title": 1})
    result = lh.PageResult(page="x/", url="", scores=lh.scores(failing),
                           failing={"seo": lh.failing_audits(failing, "seo")}, metrics={})
    assert result.scores == {"seo": 83}
    assert result.failing["seo"] == ["image-alt", "meta-description"]
    assert lh.problems(result) == ["x/: seo 83 < 100; failing audits: image-alt, meta-description"]
    passing = lhr(1, {"meta-description": 1})
    assert not lh.problems(lh.PageResult(page="/", url="", scores=lh.scores(passing), failing={}, metrics={}))

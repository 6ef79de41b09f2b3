"""references.bib's editorial rules run in every build (so `make serve` reports them), each proved
on a tiny site with the file and line; and the real references.bib passes them."""

from __future__ import annotations

import re

import pytest

from conftest import GOOD_BIB, ROOT, page
from sitekit import bibfile

BIB = bibfile.read((ROOT / "references.bib").read_text(encoding="utf-8"))


def fails_with(build, pattern: str) -> None:
    assert not build.ok, "the build should have failed:\n" + build.output
    assert re.search(pattern, build.output), f"expected /{pattern}/ in:\n{build.output}"
    assert "Traceback" not in build.output


def test_the_real_bib_reads_cleanly_and_passes_every_rule():
    assert BIB.errors == []
    assert bibfile.check(BIB) == []
    assert len(BIB.entries) >= 100


def entry(key: str, **fields: str) -> str:
    body = {"author": "Lee, A.", "title": "Bad things", "journal": "J", "year": "2020", "doi": "10.1000/test.9",
            "pmid": "999", "evidence": "rct", "verified": "https://pubmed.ncbi.nlm.nih.gov/999/", **fields}
    kind = body.pop("type", "article")
    lines = "".join(f"  {k} = {{{v}}},\n" for k, v in body.items() if v)
    return f"\n@{kind}{{{key},\n{lines}}}\n"


@pytest.mark.parametrize("bib_entry,pattern", [
    (entry("lee2020wrong"), r"references\.bib:\d+: entry 'lee2020wrong': key 'lee2020wrong' should be 'lee2020bad'"),
    (entry("lee2020bad", pmid=""), r"entry 'lee2020bad': articles need the PMID seen on PubMed"),
    (entry("lee2020bad", doi=""), r"entry 'lee2020bad': articles need the DOI seen in its record"),
    (entry("lee2020bad", doi="10.1000/test.1"), r"references\.bib:\d+: entry 'lee2020bad': the same doi as entry 'smith2020ketamine' \(line 1\)"),
    (entry("lee2020bad", pmid="123456"), r"entry 'lee2020bad': the same pmid as entry 'smith2020ketamine'"),
    (entry("lee2020bad", type="misc", journal="", url=""), r"entry 'lee2020bad': sources other than journal articles need an official 'url'"),
    (entry("lee2020bad", type="misc", journal="", evidence="label", url="https://clinic.example.com/label"),
     r"labels and regulator documents need the regulator's own url"),
    (entry("lee2020bad", url="https://x.org/a\\&b"), r"malformed url 'https://x.org/a\\\\&b'"),
    (entry("lee2020bad", doi='10.1000/x"y'), r"malformed doi"),
])
def test_each_rule_fails_the_build_with_the_line(tiny, bib_entry, pattern):
    fails_with(tiny(bib=GOOD_BIB + bib_entry), pattern)


def test_an_uncited_entry_fails_the_build(tiny):
    def every_entry_cited(config):
        config["extra"]["references"]["every_entry_cited"] = True

    build = tiny({"index.md": page("Claim [@smith2020ketamine; @jones2021second; @brown2022third].\n")},
                 config_changes=every_entry_cited)
    fails_with(build, r"references\.bib:\d+: entry 'green2023fourth' is not cited on any page")
    assert "smith2020ketamine' is not cited" not in build.output


def test_verified_must_be_a_canonical_record():
    text = GOOD_BIB + entry("lee2020bad", verified="https://www.researchgate.net/publication/1_Bad_things")
    errors = [str(e) for e in bibfile.check(bibfile.read(text))]
    assert len(errors) == 1 and re.match(r"references\.bib:\d+: entry 'lee2020bad': verified 'https://www\.researchgate"
                                         r"\.net/.*' is not a canonical record", errors[0]), errors
    for canonical in ("https://pubmed.ncbi.nlm.nih.gov/999/", "https://pmc.ncbi.nlm.nih.gov/articles/PMC1/",
                      "https://www.accessdata.fda.gov/x", "https://www.ncbi.nlm.nih.gov/books/NBK1/",
                      "https://doi.org/10.1000/test.9", "https://www.gov.uk/x", "https://apps.who.int/x"):
        assert bibfile.check(bibfile.read(GOOD_BIB + entry("lee2020bad", verified=canonical))) == [], canonical
    real = bibfile.read((ROOT / "references.bib").read_text(encoding="utf-8"))
    assert [str(e) for e in bibfile.check(real) if "canonical record" in str(e)] == []

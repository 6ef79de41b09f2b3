"""Editorial policy for the real references.bib (stricter than the build rules)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from sitekit import bibfile

TEXT = (ROOT / "references.bib").read_text(encoding="utf-8")
ENTRIES = bibfile.parse(TEXT)
IDS = [e.key for e in ENTRIES]
OFFICIAL_HOSTS = re.compile(  # pages on these hosts or their subdomains
    r"^https?://([a-z0-9-]+\.)*(fda\.gov|nlm\.nih\.gov|europa\.eu|federalregister\.gov|govinfo\.gov|"
    r"who\.int|legislation\.gov\.uk|gov\.uk|usdoj\.gov|dea\.gov|nice\.org\.uk)/"
)


def test_bib_passes_the_build_checks():
    assert bibfile.check(ENTRIES) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_key_convention(entry):
    assert bibfile.key_convention_error(entry) is None


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_every_source_is_findable(entry):
    """Articles carry the DOI and PMID seen in their record; other documents an official URL."""
    if entry.type == "article":
        assert entry.get("pmid"), f"{entry.key}: articles need the PMID seen on PubMed"
        assert entry.get("doi"), f"{entry.key}: articles need the DOI seen in their record"
    else:
        assert entry.get("url"), f"{entry.key}: non-article sources need an official URL"
        if entry.get("evidence") in ("label", "regulator"):
            assert OFFICIAL_HOSTS.match(entry.get("url")), f"{entry.key}: labels and regulator documents need an official URL"


def test_no_two_entries_share_a_doi_or_pmid():
    for field in ("doi", "pmid"):
        values = [e.get(field).lower() for e in ENTRIES if e.get(field)]
        dupes = {v for v in values if values.count(v) > 1}
        assert not dupes, f"the same {field} in two entries: {dupes}"


def test_every_entry_is_cited_somewhere():
    """An uncited entry is dead weight in the bibliography and was never checked in context."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    text += "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "data").rglob("*.yml"))
    uncited = [k for k in IDS if not re.search(rf"@{re.escape(k)}\b|\b{re.escape(k)}\b", text)]
    assert not uncited, f"not cited on any page or data file: {uncited}"

"""What a page says about itself to machines and to people citing it.

Why: search engines, reference managers and social previews read structured
metadata, and a medical page should state its review date and its sources there
too. Everything is generated from the page's front matter and the references it
cites, so there is nothing extra for contributors to keep in step:

* ``medical_webpage`` -> schema.org ``MedicalWebPage`` JSON-LD: name, description,
  ``lastReviewed``, ``about`` (the drug), ``medicalAudience``, and a ``citation``
  for every reference the page cites (with DOI and PubMed identifiers);
* ``open_graph`` -> Open Graph / Twitter card tags;
* ``page_citation`` -> "Cite this page" in AMA style and as BibTeX.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from sitekit import bibfile

AUTHOR = "Ketamine Explained contributors"
DRUG = {
    "@type": "Drug",
    "name": "Ketamine",
    "nonProprietaryName": "ketamine",
    "alternateName": "ketamine hydrochloride",  # not esketamine or arketamine: those are distinct drugs
}
AUDIENCE = [
    {"@type": "PeopleAudience", "audienceType": "Patients and families"},
    {"@type": "MedicalAudience", "audienceType": "Clinicians and students"},
]

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
ACCESS_DATE = "[date accessed]"  # the reader's own date: docs/javascripts/cite-page.js fills it in


plain = bibfile.plain  # BibTeX field text as a reader sees it (LaTeX decoded)


def _person(name: bibfile.Name) -> dict:
    given, family = bibfile.name_text(name)
    if name.organisation:
        return {"@type": "Organization", "name": family}
    person = {"@type": "Person", "name": f"{given} {family}".strip(), "familyName": family}
    if given:
        person["givenName"] = given
    if name.suffix:
        person["honorificSuffix"] = plain(name.suffix)
        person["name"] += f", {person['honorificSuffix']}"
    return person


def scholarly_work(entry: bibfile.Entry) -> dict:
    """One bibliography entry as a schema.org citation."""
    work: dict = {"@type": "ScholarlyArticle" if entry.type == "article" else "CreativeWork",
                  "name": plain(entry.get("title"))}
    authors = [_person(n) for n in entry.names("author") if not n.others]  # "and others": et al., not a person
    if authors:
        work["author"] = authors
    if entry.get("year"):
        work["datePublished"] = entry.get("year")
    container = entry.get("journal") or entry.get("publisher") or entry.get("institution")
    if container:
        work["isPartOf" if entry.get("journal") else "publisher"] = {
            "@type": "Periodical" if entry.get("journal") else "Organization", "name": plain(container)}
    identifiers = []
    if entry.get("doi"):
        identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": entry.get("doi")})
        work["sameAs"] = f"https://doi.org/{entry.get('doi')}"
    if entry.get("pmid"):
        identifiers.append({"@type": "PropertyValue", "propertyID": "PMID", "value": entry.get("pmid")})
    if identifiers:
        work["identifier"] = identifiers
    url = entry.get("url") or (f"https://doi.org/{entry.get('doi')}" if entry.get("doi") else "") or (
        f"https://pubmed.ncbi.nlm.nih.gov/{entry.get('pmid')}/" if entry.get("pmid") else "")
    if url:
        work["url"] = url
    return work


def medical_webpage(*, title: str, description: str, reviewed: dt.date, url: str, site_name: str, site_url: str,
                    cited: list[dict], next_review: dt.date | None = None) -> dict:
    """schema.org MedicalWebPage for one page."""
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": title,
        "headline": title,
        "description": description,
        "url": url,
        "inLanguage": "en",
        "lastReviewed": reviewed.isoformat(),
        "dateModified": reviewed.isoformat(),
        "about": DRUG,
        "medicalAudience": AUDIENCE,
        "author": {"@type": "Organization", "name": AUTHOR, "url": site_url},
        "publisher": {"@type": "Organization", "name": site_name, "url": site_url},
        "isPartOf": {"@type": "WebSite", "name": site_name, "url": site_url},
        "citation": cited,  # scholarly_work() of each reference the page cites, in the page's order
    }
    if next_review:
        data["expires"] = next_review.isoformat()  # schema.org: when the content may no longer be current
    return data


def open_graph(*, title: str, description: str, url: str, site_name: str, reviewed: dt.date) -> list[tuple[str, str]]:
    """(property, content) pairs for Open Graph and Twitter card meta tags."""
    return [
        ("og:type", "article"),
        ("og:site_name", site_name),
        ("og:title", title),
        ("og:description", description),
        ("og:url", url),
        ("og:locale", "en_US"),
        ("article:modified_time", reviewed.isoformat()),
        ("twitter:card", "summary"),
        ("twitter:title", title),
        ("twitter:description", description),
    ]


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", text)


def citation_key(site_name: str, reviewed: dt.date, path: str) -> str:
    """BibTeX key: site + year + the page's last path segment (site-relative), e.g. ketamineexplained2026intranasal."""
    site = re.sub(r"[^a-z0-9]", "", site_name.lower())
    segments = [s for s in path.strip("./").split("/") if s]
    last = re.sub(r"[^a-z0-9]", "", segments[-1].lower()) if segments else ""
    return f"{site}{reviewed.year}{last or 'home'}"


def page_citation(*, title: str, site_name: str, reviewed: dt.date, url: str, path: str) -> dict[str, str]:
    """How to cite a page: AMA (web page) text and a BibTeX @misc entry.

    AMA 11th edition for a web page: author (the organisation when no person is named),
    title, site name, dates, URL (``path`` is the site-relative URL, for the key). The access date belongs to the reader; the page fills
    it in with today's date when the page loads and again when the text is copied; without script the
    text says "[date accessed]".
    """
    long_date = f"{reviewed.strftime('%B')} {reviewed.day}, {reviewed.year}"
    title_sentence = title if title.endswith((".", "?", "!")) else title + "."  # "What is ketamine?" takes no "."
    ama = f"{AUTHOR}. {title_sentence} {site_name}. Updated {long_date}. Accessed {ACCESS_DATE}. {url}"
    bibtex = "\n".join([
        f"@misc{{{citation_key(site_name, reviewed, path)},",
        f"  author       = {{{{{_bibtex_escape(AUTHOR)}}}}},",
        f"  title        = {{{{{_bibtex_escape(title)}}}}},",
        f"  howpublished = {{{_bibtex_escape(site_name)}}},",
        f"  year         = {{{reviewed.year}}},",
        f"  month        = {_MONTHS[reviewed.month - 1]},",
        f"  date         = {{{reviewed.isoformat()}}},",
        f"  url          = {{{url}}},",
        f"  note         = {{Last reviewed {reviewed.isoformat()}}}",
        "}",
    ])
    return {"ama": ama, "bibtex": bibtex, "key": citation_key(site_name, reviewed, path)}


def script_json(value) -> str:
    """JSON that is safe inside ``<script>``: Jinja2's own ``tojson`` (sorted keys; ``<``, ``>``, ``&``
    and ``'`` escaped), called once per value instead of once per page."""
    return str(htmlsafe_json_dumps(value, dumps=json.dumps, sort_keys=True))


def page_metadata(meta: dict, *, title: str, url: str, path: str, site_name: str, site_url: str,
                  site_description: str, cited: list[str]) -> dict:
    """What ``overrides/main.html`` shows for one page: JSON-LD, Open Graph tags, "Cite this page".

    ``cited``: ``script_json(scholarly_work(entry))`` of each reference the page cites, in the page's
    order. A work is serialised once per build, not once per page citing it: on a large site the JSON-LD
    of the citations was most of the cost of rendering the page templates."""
    title = meta.get("title") or title
    description = meta.get("description") or site_description
    reviewed = meta["reviewed"]
    page = script_json(medical_webpage(title=title, description=description, reviewed=reviewed,
                                       next_review=meta.get("next_review"), url=url, site_name=site_name,
                                       site_url=site_url, cited=[]))
    # Inside JSON text a double quote is always escaped, so this sequence can only be the key itself.
    jsonld = page.replace('"citation": []', '"citation": [' + ", ".join(cited) + "]", 1)
    return {
        "jsonld": Markup(jsonld),
        "open_graph": open_graph(title=title, description=description, url=url, site_name=site_name,
                                 reviewed=reviewed),
        "citation": page_citation(title=title, site_name=site_name, reviewed=reviewed, url=url, path=path),
    }

"""Other people's .bib files (tests/corpus/, sources and licences in its README.md): each builds a tiny
site citing every entry, and what readers and machines get is checked on every surface (the page's
reference list, which is also the hover preview and the touch panel; the References page; the
JSON-LD). Files that are wrong fail with ``references.bib:LINE: message`` and no traceback.

The site's own editorial rules (evidence, verified, key convention, identifiers) are switched off
for these files; keys are written the way the citation syntax needs (lowercase, '-'), as a
contributor pasting such an entry must do (the build says so: tests/test_integrity.py).
"""

from __future__ import annotations

import html as htmlmod
import json
import re
from pathlib import Path

import pytest

from conftest import page, run_build

CORPUS = Path(__file__).parent / "corpus"

# file -> visible text each reference must show (the formatter's AMA text, after sanitising)
RENDERS = {
    "bibtexparser-traps.bib": ["Jean Laidé BL. An amazing title. <em>Nice Journal</em>. 2013;12:12-23."],
    "bibtexparser-strings.bib": ["César J. An amazing title. <em>Nice Journal</em>. 2013;12:12-23."],
    "bibtexparser-biber-comments.bib": ["Current title. 2024."],
    "mendeley-export.bib": ["Dammeier L, Schwonnek R, Werner RF. Uncertainty Relations for Angular Momentum.",
                            "Gehring T, Händchen V, Duhme J, et al.", "Białynicki-Birula I. Rényi Entropy",
                            'href="http://arxiv.org/abs/1510.06120"'],
    "biblatex-examples.bib": ["Aksın Ö, Türkmen H, Artok L, et al.", "<em>J Organomet Chem</em>",
                              "In Honore Salvatoris – Vom Sinn und Unsinn der Patrozinienkunde",
                              "“Intention” und “Intentionalität” in der Scholastik",
                              "Herrmann WA, Öfele K, Schneider SK, Herdtweck E, Hoffmann SD."],
    "pandoc-averroes.bib": ["Des Averroës Abhandlung: “Über die Möglichkeit der Conjunktion” oder",
                            "De natura deorum. Über das Wesen der Götter"],
    "betterbibtex-names.bib": ["Humboldt A von, Gooding C Jr.", "Malone NJ, U.S. Bureau of the Census.",
                               "Άγρας Τ, Σαββίδης ΓΠ, Καρυωτάκης Κ.", "Doe J III, van Roe J.", "OECD, UNDP."],
    "betterbibtex-math-title.bib": ["Do integers modulo <em>n</em> minus n/2"],
    "pybtex-cyrillic.bib": ["Liu H, Ruckenstein E. Predicting the diffusion coefficient",
                            "Викторов ММ.", "Jackson P. Some title.", "Just a booklet."],
    "issue16-typography.bib": ["Reyna MA, Smith JA, Public JQ, O’Brien K.",
                               "50% in A&amp;E: The NMDA_2 and #1 $5 study of 0.5 mg/kg – a range, 10—20 and "
                               "“quoted” – dashed. <em>J Psychopharmacol</em>. 2020;34:1-10.",
                               "Doses in <em>μ</em>g of", "<sub>2</sub>", "mg per litre — a note"],
    "issue16-injection.bib": ["Mallory M. Click <a>here</a> or <a>there</a>"],  # the text stays; no link, no image
    "hard-names.bib": ["Le Daré B, Cubała WJ, Zarate CA Jr, et al."],
}

# file -> every problem the build must report, as a pattern on its output
FAILS = {
    "mendeley-escaped-doi.bib": [r"references\.bib:4: entry 'liu15b': malformed doi '10\.1007/978-3-662-46803-6\{\\\\_\}26'",
                                 r"references\.bib:9: entry 'liu15b': malformed url"],
    "issue16-undefined-macro.bib": [r"references\.bib:6: in entry 'smith2019undefined': field 'month' uses the @string "
                                    r"macro 'September', which is not defined"],
    "issue16-quote-in-quoted.bib": [r"references\.bib:3: in entry 'muller2018quoted': expected ',' or '\}' after field "
                                    r"'title': a \"quoted\" value ends at the first \""],
    "issue16-lone-brace.bib": [r"references\.bib:3: entry 'brace2017lone' is not closed before the next entry starts "
                               r"\(missing '\}'\); field 'title' holds \\\{"],
    "issue16-escaped-url.bib": [r"references\.bib:5: entry 'fda2021escaped': malformed url '.*page\\\\&REMS=386'",
                                r"references\.bib:13: entry 'quote2021doi': malformed doi"],
}


def test_every_corpus_file_has_an_expectation_and_a_source():
    files = {p.name for p in CORPUS.glob("*.bib")}
    assert files == set(RENDERS) | set(FAILS)
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for name in files:
        assert f"`{name}`" in readme, f"{name}: say where it comes from and under which licence"


def citable(text: str) -> tuple[str, list[str]]:
    """The file with keys the citation syntax accepts, and those keys."""
    keys = []

    def fix(m: re.Match) -> str:
        if m.group(1).lower() in ("string", "comment", "preamble"):
            return m.group()
        key = re.sub(r"[^a-z0-9-]+", "-", m.group(3).lower())
        keys.append(key)
        return f"@{m.group(1)}{m.group(2)}{key},"

    return re.sub(r"@(\w+)(\s*[{(]\s*)([^,\s]+),", fix, text), keys


def relaxed(config):
    config["extra"]["references"] = {"editorial": False, "every_entry_cited": False}


def build_corpus(tiny, text: str, keys: list[str]):
    body = "".join(f"Claim {i} [@{k}].\n\n" for i, k in enumerate(keys))
    pages = {"index.md": page(body), "references.md": page("\\full_bibliography\n", title="References")}
    return tiny(pages, bib=text, config_changes=relaxed)


def reference_text(html: str, anchor: str) -> str:
    m = re.search(rf'<li id="{anchor}"[^>]*>.*?<span class="reference-text">(.*?)</span> <span class="reference-meta">',
                  html, re.S)
    assert m, f"no {anchor}"
    return m.group(1)


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_corpus_file_renders_on_every_surface(tiny, name):
    text, keys = citable((CORPUS / name).read_text(encoding="utf-8"))
    build = build_corpus(tiny, text, keys)
    assert build.ok, build.output
    home, references = build.html(), build.html("references/index.html")
    shown = []
    for key in keys:
        on_page = reference_text(home, f"ref-{key}")  # the list, the hover preview and the touch panel
        assert reference_text(references, f"bib-{key}") == on_page  # the References page: the same text
        visible = htmlmod.unescape(re.sub(r"<[^>]+>", "", on_page))
        assert not re.search(r"[\\{}]|--|\$[^$\s]+\$", visible), f"{key}: LaTeX left in {visible!r}"
        assert not re.search(r"<(?!/?(a|em|i|strong|b|sub|sup)\b)", on_page), f"{key}: markup outside the allow-list"
        assert all(h.startswith(("http://", "https://")) for h in re.findall(r'href="([^"]*)"', on_page)), on_page
        shown.append(on_page.replace("&nbsp;", " "))
    for expected in RENDERS[name]:
        assert any(expected in s for s in shown), f"{expected!r} not in {shown}"
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', home, re.S).group(1))
    assert not re.search(r'(href|src)="\s*(javascript|data):|<img|tracker\.invalid|alert\(', home + references)
    assert len(data["citation"]) == len(keys)
    for work in data["citation"]:
        names = [a["name"] for a in work.get("author", [])] + [work["name"]]
        assert not [n for n in names if re.search(r"[\\{}]|--|\$[^$\s]+\$", n)], names
        assert "others" not in names


@pytest.mark.parametrize("name", sorted(FAILS))
def test_corpus_file_with_errors_fails_with_file_and_line(tiny, name):
    text, keys = citable((CORPUS / name).read_text(encoding="utf-8"))
    build = build_corpus(tiny, text, keys)
    assert not build.ok, build.output
    assert "Traceback" not in build.output
    for pattern in FAILS[name]:
        assert re.search(pattern, build.output), f"/{pattern}/ not in:\n{build.output}"


def test_a_windows_encoded_file_names_the_line_and_byte(tiny, tmp_path):
    """A cp1252 export (Windows reference managers): the file, the line and the byte, and what to do."""
    text, keys = citable((CORPUS / "bibtexparser-strings.bib").read_text(encoding="utf-8"))
    assert build_corpus(tiny, text, keys).ok
    root = tmp_path / "tiny"  # where the tiny fixture built it
    (root / "references.bib").write_bytes(text.encode("cp1252"))
    build = run_build(root / "mkdocs.yml", root / "site")
    assert not build.ok and "Traceback" not in build.output
    assert re.search(r"references\.bib:3: byte 0xE9 \(column 19\) is not UTF-8: save the file as UTF-8", build.output), \
        build.output


def test_bib_check_reports_every_disagreement():
    """`make bib-check DIR=...`: the project's reader, plain pybtex and the formatter side by side."""
    import subprocess
    import sys

    from conftest import ROOT

    def check(*paths):
        return subprocess.run([sys.executable, str(ROOT / "scripts" / "bib_check.py"), *map(str, paths)],
                              capture_output=True, text=True, timeout=300)

    clean = check(CORPUS / "hard-names.bib", CORPUS / "mendeley-export.bib")
    assert clean.returncode == 0 and "2 file(s), 0 problem(s)" in clean.stdout, clean.stdout + clean.stderr
    found = check(CORPUS / "bibtexparser-biber-comments.bib", CORPUS / "mendeley-escaped-doi.bib")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "pybtex: syntax error in line 2: '}' expected" in found.stdout  # pybtex rejects what biber and we read
    assert re.search(r"mendeley-escaped-doi\.bib:4: entry 'liu15b': malformed doi", found.stdout)
    assert "the formatted reference still holds LaTeX" in found.stdout  # what pandoc would have shown
    assert "Traceback" not in found.stdout + found.stderr

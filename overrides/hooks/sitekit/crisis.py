"""Urgent-help numbers by country, kept in ``data/crisis_lines.yml``.

Why: every page tells readers where to get urgent help, and a wrong phone
number is the most harmful error this site could print. Each number therefore
lives once, in a data file, with the official page it was checked against and
the date of that check; ``sitekit.schemas.CrisisLines`` rejects an entry without
them, naming ``data/crisis_lines.yml:LINE``. The ``crisis-lines`` generator
(template ``overrides/generated/crisis-lines.html``) renders the file as the
table on the "Getting urgent help" page; this module only groups it for the template.
"""

from __future__ import annotations

import re

from sitekit.schemas import CRISIS_KINDS, CrisisLine


def host(url: str) -> str:
    """The link text for a source: its site name, e.g. samaritans.org."""
    return re.sub(r"^https://(www\.)?", "", url).split("/")[0]


def template_values(ctx, lines: list[CrisisLine]) -> dict:
    """What the template needs: the entries grouped by country, in file order."""
    groups: dict[str, list[CrisisLine]] = {}
    for line in lines:
        groups.setdefault(line.country, []).append(line)
    return {"groups": list(groups.items()), "kinds": CRISIS_KINDS, "host": host}

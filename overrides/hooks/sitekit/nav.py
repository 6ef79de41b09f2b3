"""Expand section entries of ``nav`` into the pages of that directory.

Why: mkdocs.yml lists only the sections (``- History: history/``); a new page
dropped into ``docs/history/`` appears in the navigation without anyone editing
mkdocs.yml, and can never be orphaned. Within a section the ``index.md`` comes
first, then pages by their front-matter ``order`` (default 100), then title,
then path (so the order never depends on the file system); sub-directories
become nested sections, ordered the same way.
"""

from __future__ import annotations

from pathlib import Path

from sitekit import contract
from sitekit.errors import SiteError

DEFAULT_ORDER = 100


def front_matter(path: Path) -> dict:
    """The page's front matter, read once for the navigation and the page contract (errors: the contract's)."""
    return contract.front_matter(path.read_text(encoding="utf-8"), str(path)).meta


def section(docs_dir: Path, rel_dir: str) -> list:
    """Nav items for one directory: index.md first, then pages, then sub-sections."""
    directory = docs_dir / rel_dir
    if not directory.is_dir():
        raise SiteError("mkdocs.yml", None, f"nav lists '{rel_dir}/' but docs/{rel_dir}/ does not exist")
    pages, subsections = [], []
    for path in directory.iterdir():
        rel = f"{rel_dir}/{path.name}" if rel_dir else path.name
        if path.is_dir() and (path / "index.md").exists():
            title = front_matter(path / "index.md").get("title") or path.name
            order = front_matter(path / "index.md").get("order", DEFAULT_ORDER)
            subsections.append((order, str(title), rel, {str(title): section(docs_dir, rel)}))
        elif path.suffix == ".md" and path.name != "index.md":
            meta = front_matter(path)
            pages.append((meta.get("order", DEFAULT_ORDER), str(meta.get("title") or path.stem), rel))
    items = [f"{rel_dir}/index.md"] if (directory / "index.md").exists() else []
    # The path breaks ties: iterdir() order differs between file systems, the nav must not.
    items += [rel for _, _, rel in sorted(pages, key=lambda p: (p[0], p[1].lower(), p[2]))]
    items += [sub for *_, sub in sorted(subsections, key=lambda s: (s[0], s[1].lower(), s[2]))]
    return items


def expand(nav: list, docs_dir: Path) -> list:
    """Replace every 'Title: dir/' entry with {'Title': [its pages]}."""
    out = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title, value), = item.items()
            if isinstance(value, str) and value.endswith("/"):
                item = {title: section(docs_dir, value.rstrip("/"))}
            elif isinstance(value, list):
                item = {title: expand(value, docs_dir)}
        elif isinstance(item, str) and item.endswith("/"):
            raise SiteError("mkdocs.yml", None, f"nav entry '{item}' needs a title: '- Title: {item}'")
        out.append(item)
    return out

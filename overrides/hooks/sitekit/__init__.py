"""Engine-independent build logic for the site.

Everything here is plain Python working on strings, paths and dicts: no MkDocs
objects cross these function boundaries except in ``sitekit.citations.plugin``
(the mkdocs-bibtex subclass). The thin MkDocs hooks in ``overrides/hooks/`` call
into this package, so the site can change engine (Material reaches end of life
in 2027; MkDocs 2 drops plugins) without rewriting the checks.
"""

from sitekit.errors import SiteError

__all__ = ["SiteError"]

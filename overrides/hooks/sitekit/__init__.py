"""Engine-independent build logic for the site.

Everything here is plain Python working on strings, paths and dicts; only
``sitekit.engine`` and ``sitekit.mkpage`` touch MkDocs objects (pages, files,
config). The thin MkDocs hooks in ``overrides/hooks/`` call into this package,
so the site can change engine (Material reaches end of life in 2027; MkDocs 2
drops plugins) without rewriting the checks, the citation renderer or the
generators.
"""

from sitekit.errors import SiteError

__all__ = ["SiteError"]

"""Build logic for the site that does not depend on its site generator (MkDocs).

Everything here is plain Python working on strings, paths and dicts; only
``sitekit.mkbuild`` (the build's one owner of state, whose event methods are the
pipeline in order) and ``sitekit.mkedition`` touch MkDocs objects (pages, files,
config). The one MkDocs hook, ``overrides/hooks/pipeline.py``, calls into this package,
so the site can move to another site generator (Material reaches end of life in 2027; MkDocs 2
drops plugins) without rewriting the checks, the citation renderer or the
generators.
"""

from sitekit.errors import SiteError

__all__ = ["SiteError"]

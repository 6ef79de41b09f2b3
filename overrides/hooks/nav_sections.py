"""Navigation lists sections only; their pages are found on disk.

Why: contributors add a page by adding a file, never by editing mkdocs.yml,
and no page can be left out of the navigation. See ``sitekit.nav``.
"""

from pathlib import Path

from mkdocs.exceptions import ConfigurationError

from sitekit.errors import SiteError
from sitekit.nav import expand


def on_config(config):
    if config.nav:
        try:
            config.nav = expand(config.nav, Path(config.docs_dir))
        except SiteError as exc:
            raise ConfigurationError(str(exc)) from exc
    return config

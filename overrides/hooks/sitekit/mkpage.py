"""The two facts about an MkDocs page that error messages need."""

from __future__ import annotations

import os


def source_path(page, config) -> str:
    """The page's path relative to mkdocs.yml, e.g. docs/safety/index.md."""
    root = os.path.dirname(config.config_file_path or ".")
    if page.file.abs_src_path:
        return os.path.relpath(page.file.abs_src_path, root)
    return page.file.src_uri


def body_line_offset(page) -> int:
    """Lines taken by the front matter, so body line numbers match the file."""
    try:
        source = page.file.content_string
    except (OSError, ValueError, TypeError):
        return 0
    if page.markdown and source.endswith(page.markdown):
        return source.count("\n", 0, len(source) - len(page.markdown))
    return 0

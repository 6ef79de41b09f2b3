"""The site's build: one owner of build state, its steps in the order MkDocs calls them.

Why one hook: a page's journey (page contract, generated blocks, citations, the search index,
structured data, valid theme HTML, the printable edition) can be read in one place,
``sitekit.mkbuild.SiteBuild``, with its state on one object instead of module globals passed
between hook files and ordered by priority numbers. MkDocs loads a hook module once per process,
so the one ``SiteBuild`` below lives across `mkdocs serve` rebuilds (its caches with it). The logic
stays in plain ``sitekit`` functions, portable to another site generator.
"""

from sitekit.mkbuild import SiteBuild

build = SiteBuild()

on_startup = build.on_startup
on_config = build.on_config
on_files = build.on_files
on_nav = build.on_nav
on_page_markdown = build.on_page_markdown
on_page_content = build.on_page_content
on_env = build.on_env
on_page_context = build.on_page_context
on_post_page = build.on_post_page
on_post_template = build.on_post_template
on_post_build = build.on_post_build
on_serve = build.on_serve
on_build_error = build.on_build_error

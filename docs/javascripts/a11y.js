/*
 * An accessible name for the theme's page-loading progress bar, which has none
 * (axe-core rule aria-progressbar-name, WCAG 2 A; tests/test_browser.py).
 *
 * Why script and not a template: Material writes the bar from
 * partials/progress.html, included by base.html outside any block, so only a
 * copied partial could change its markup, and a copy silently stops following
 * theme updates. The bar exists only for instant navigation, which is itself
 * script, so a name given here is there whenever the bar can be shown. (The
 * search dialog's name is static: the header block in overrides/main.html.)
 */
(function () {
  "use strict";
  document.querySelectorAll('.md-progress[role="progressbar"]:not([aria-label])').forEach(function (bar) {
    bar.setAttribute("aria-label", "Loading page");
  });
})();

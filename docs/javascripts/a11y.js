/*
 * Accessible names for two theme components that have none (found by the
 * axe-core test): the search dialog and the page-loading progress bar. Set
 * here rather than by copying the theme's partials, so theme updates still apply.
 */
(function () {
  "use strict";
  function name(selector, label) {
    document.querySelectorAll(selector).forEach(function (el) {
      if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", label);
    });
  }
  name('[data-md-component="search"][role="dialog"]', "Search this site");
  name('.md-progress[role="progressbar"]', "Loading page");
})();

/*
 * Citation previews on touch screens.
 *
 * Mouse and keyboard users get the theme's tooltip (content.footnote.tooltips)
 * on hover or focus. A tap, however, would jump straight to the reference list.
 * On touch, the first tap on a citation opens a small panel with the formatted
 * reference and a link to it in the list; a second tap on the same number (or
 * the link) goes to the list. Escape, the close button or a tap elsewhere closes
 * the panel. Event delegation keeps it working with instant navigation.
 *
 * Tap targets: docs/stylesheets/site.css gives each citation an invisible box of
 * at least 24 x 24 px (WCAG 2.2). For a group of citations ("1,2") the box
 * belongs to the group, so a tap on it, or on any number in it, previews every
 * reference of the group, each with its own link to the list.
 */
(function () {
  "use strict";
  var lastPointer = "mouse";
  var open = null; // {group, panel, links}

  function close() {
    if (!open) return;
    open.links.forEach(function (link) { link.removeAttribute("aria-expanded"); });
    open.panel.remove();
    open = null;
  }

  function referenceOf(link) {
    return document.getElementById(decodeURIComponent(link.hash.slice(1)));
  }

  function show(group, anchor) {
    var links = Array.prototype.filter.call(group.querySelectorAll("a.citation-ref"), referenceOf);
    if (!links.length) return false;
    close();
    var panel = document.createElement("div");
    panel.className = "citation-panel md-typeset";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", links.length === 1 ? (links[0].getAttribute("aria-label") || "Reference")
      : "References " + links.map(function (link) { return link.textContent; }).join(", "));
    links.forEach(function (link) {
      var target = referenceOf(link);
      var text = target.querySelector(".reference-text");
      var body = document.createElement("p");
      body.className = "citation-panel__reference";
      if (links.length > 1) {
        var number = document.createElement("strong");
        number.textContent = link.textContent + ". ";
        body.appendChild(number);
      }
      var span = document.createElement("span");
      span.innerHTML = text ? text.innerHTML : target.textContent;
      body.appendChild(span);
      panel.appendChild(body);
      var go = document.createElement("a");
      go.href = link.hash;
      go.className = "citation-panel__go";
      go.textContent = links.length === 1 ? "Show in the reference list" : "Show reference " + link.textContent + " in the list";
      go.addEventListener("click", close);
      var where = document.createElement("p");
      where.appendChild(go);
      panel.appendChild(where);
    });
    var shut = document.createElement("button");
    shut.type = "button";
    shut.className = "citation-panel__close";
    shut.textContent = "Close";
    shut.addEventListener("click", close);
    var actions = document.createElement("p");
    actions.className = "citation-panel__actions";
    actions.appendChild(shut);
    panel.appendChild(actions);
    document.body.appendChild(panel);
    var rect = (anchor || group).getBoundingClientRect();
    var left = Math.max(8, Math.min(rect.left + window.scrollX - 16,
                                    window.scrollX + document.documentElement.clientWidth - panel.offsetWidth - 8));
    panel.style.left = left + "px";
    var below = rect.bottom + 6 + panel.offsetHeight <= document.documentElement.clientHeight;
    panel.style.top = (below ? rect.bottom + window.scrollY + 6 : rect.top + window.scrollY - panel.offsetHeight - 6) + "px";
    links.forEach(function (link) { link.setAttribute("aria-expanded", "true"); });
    open = {group: group, panel: panel, links: links};
    shut.focus({preventScroll: true});
    return true;
  }

  function groupOf(target) {
    return target.closest && target.closest("sup.citation");
  }

  document.addEventListener("pointerdown", function (event) {
    lastPointer = event.pointerType || "mouse";
    if (open && !open.panel.contains(event.target) && groupOf(event.target) !== open.group) close();
  }, true);

  document.addEventListener("click", function (event) {
    var group = groupOf(event.target);
    if (!group || lastPointer !== "touch") return;
    var link = event.target.closest("a.citation-ref");
    if (open && open.group === group) { // second tap on the same citation
      close();
      if (!link) event.preventDefault(); // beside a group's numbers: just close
      return; // on a number: its own link goes to the list
    }
    if (show(group, link)) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) { var focus = open.links[0]; close(); focus.focus(); }
  });
})();

/*
 * Citation previews on touch screens.
 *
 * Mouse and keyboard users get the theme's tooltip (content.footnote.tooltips)
 * on hover or focus. A tap, however, would jump straight to the reference list.
 * On touch, the first tap on a citation number opens a small panel with the
 * formatted reference and a link to it in the list; a second tap on the same
 * number (or the link) goes to the list. Escape, the close button or a tap
 * elsewhere closes the panel. Event delegation keeps it working with instant
 * navigation.
 */
(function () {
  "use strict";
  var lastPointer = "mouse";
  var open = null; // {link, panel}

  function close() {
    if (!open) return;
    open.link.removeAttribute("aria-expanded");
    open.panel.remove();
    open = null;
  }

  function show(link) {
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return false;
    close();
    var panel = document.createElement("div");
    panel.className = "citation-panel md-typeset";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", link.getAttribute("aria-label") || "Reference");
    var text = target.querySelector(".reference-text");
    var body = document.createElement("p");
    body.innerHTML = text ? text.innerHTML : target.textContent;
    panel.appendChild(body);
    var go = document.createElement("a");
    go.href = link.hash;
    go.textContent = "Show in the reference list";
    var shut = document.createElement("button");
    shut.type = "button";
    shut.className = "citation-panel__close";
    shut.textContent = "Close";
    shut.addEventListener("click", close);
    var actions = document.createElement("p");
    actions.className = "citation-panel__actions";
    actions.appendChild(go);
    actions.appendChild(shut);
    panel.appendChild(actions);
    document.body.appendChild(panel);
    var rect = link.getBoundingClientRect();
    var left = Math.max(8, Math.min(rect.left + window.scrollX - 16,
                                    window.scrollX + document.documentElement.clientWidth - panel.offsetWidth - 8));
    panel.style.left = left + "px";
    var below = rect.bottom + 6 + panel.offsetHeight <= document.documentElement.clientHeight;
    panel.style.top = (below ? rect.bottom + window.scrollY + 6 : rect.top + window.scrollY - panel.offsetHeight - 6) + "px";
    link.setAttribute("aria-expanded", "true");
    open = {link: link, panel: panel};
    go.addEventListener("click", close);
    shut.focus({preventScroll: true});
    return true;
  }

  document.addEventListener("pointerdown", function (event) {
    lastPointer = event.pointerType || "mouse";
    if (open && !open.panel.contains(event.target) && event.target.closest("a.citation-ref") !== open.link) close();
  }, true);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.citation-ref");
    if (!link || lastPointer !== "touch") return;
    if (open && open.link === link) { close(); return; } // second tap: follow the link
    if (show(link)) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && open) { var link = open.link; close(); link.focus(); }
  });
})();

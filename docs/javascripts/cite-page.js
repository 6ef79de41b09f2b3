/*
 * "Cite this page" (overrides/partials/cite-this-page.html): the access date and
 * the copy buttons.
 *
 * The access date belongs to the reader, not to the build: the AMA text is built
 * with "[date accessed]" in a .cite-accessed span, which gets today's date when a
 * page loads (also after instant navigation) and again at the moment of copying,
 * so what is shown and what is copied always agree, even across midnight. One
 * delegated click listener, so the buttons keep working with instant navigation.
 */
(function () {
  "use strict";
  function today() {
    return new Date().toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric" });
  }
  function fillDates() {
    var date = today();
    document.querySelectorAll(".cite-this-page .cite-accessed").forEach(function (span) {
      if (span.textContent !== date) span.textContent = date;
    });
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(fillDates); // every page, including after instant navigation
  } else {
    fillDates();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var box = button.closest(".cite-this-page");
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!box || !source) return;
    var status = box.querySelector(".cite-status");
    fillDates();
    copy(source.textContent.replace("[date accessed]", today())).then(function () {
      status.textContent = "Copied to the clipboard.";
    }, function () {
      status.textContent = "Could not copy: select the text and copy it by hand.";
    });
  });
})();

/*
 * "Cite this page" copy buttons (overrides/partials/cite-this-page.html).
 * One delegated listener, so it keeps working with instant navigation. The
 * AMA text says "[date accessed]"; the copied text has today's date there,
 * because the access date belongs to the reader, not to the build.
 */
(function () {
  "use strict";
  function today() {
    return new Date().toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric" });
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
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.closest(".cite-this-page").querySelector(".cite-status");
    if (!source) return;
    var text = source.textContent.replace("[date accessed]", today());
    copy(text).then(function () {
      status.textContent = "Copied to the clipboard.";
    }, function () {
      status.textContent = "Could not copy: select the text and copy it by hand.";
    });
  });
})();

// Every page, signed in or not: the phone menu button, and the browser's time zone preselected
// in a zone <select> whose value is only the UTC default (sign-up, and the profile or schedule
// forms of a user who never chose one).
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  var bar = document.getElementById("topbar");
  if (button && bar) {
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("open")) {
        bar.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = ""; }
  if (!zone) return;
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    if (select.value !== "UTC") return;
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
    if (known) select.value = zone;
  });
})();

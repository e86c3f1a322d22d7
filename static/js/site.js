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

// Upload forms with data-progress send with XMLHttpRequest to show the upload's progress; the
// view answers JSON to such requests. Without this script the form posts as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    var bar = document.querySelector(form.dataset.progress);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var error = form.querySelector(".upload-error") || document.createElement("p");
      error.className = "error upload-error";
      error.setAttribute("role", "alert");
      error.textContent = "";
      form.append(error);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Requested-With", "fetch");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) { window.location.reload(); return; }
        var message = "The upload failed (" + xhr.status + ").";
        try { message = JSON.parse(xhr.responseText).error || message; } catch (e) { /* not JSON */ }
        error.textContent = message;
        bar.hidden = true;
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        error.textContent = "The upload was interrupted; try again.";
        bar.hidden = true;
        button.disabled = false;
      });
      bar.value = 0;
      bar.hidden = false;
      button.disabled = true;
      xhr.send(new FormData(form));
    });
  });
})();

// The account menu closes on a click elsewhere and on Escape, as a menu does.
(function () {
  "use strict";
  var menu = document.querySelector(".account-menu");
  if (!menu) return;
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();

/* The case pages' small enhancements; every page works without this script.
   - Autosave: the draft form is posted to its save URL a moment after the applicant stops typing, and the
     answer ("Saved at 10:42") is announced in a live region. A material action first flushes a pending save,
     so nothing typed is lost when the page reloads.
   - Confirmation of irreversible buttons (discard, withdraw) through data-confirm. */
(function () {
  "use strict";
  var DELAY_MS = 1200;
  var form = document.querySelector("form[data-autosave]");
  if (form && window.fetch && window.FormData) {
    var status = document.getElementById("autosave-status");
    var timer = null;
    var dirty = false;
    var show = function (text) { if (status) { status.textContent = text; } };
    var save = function () {
      if (timer) { clearTimeout(timer); timer = null; }
      dirty = false;
      show(form.getAttribute("data-saving") || "");
      return fetch(form.getAttribute("data-autosave"), {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      }).then(function (response) {
        return response.json();
      }).then(function (answer) {
        show(answer.message || form.getAttribute("data-failed"));
      }).catch(function () {
        dirty = true;
        show(form.getAttribute("data-failed"));
      });
    };
    var later = function () {
      dirty = true;
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY_MS);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    document.querySelectorAll("form[data-flush-autosave]").forEach(function (other) {
      other.addEventListener("submit", function (event) {
        if (!dirty) { return; }
        event.preventDefault();
        save().then(function () { other.submit(); });
      });
    });
  }
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();

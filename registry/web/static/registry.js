// Small helpers; every page works without them.
(function () {
  "use strict";
  // Live count of the values in a textarea (the same splitting as the server: lines, commas, semicolons, tabs).
  document.querySelectorAll("textarea[data-count]").forEach(function (area) {
    var out = document.getElementById(area.dataset.count);
    if (!out) return;
    var update = function () {
      var n = area.value.split(/[\r\n\t,;]+/).filter(function (v) { return v.trim() && v.trim()[0] !== "#"; }).length;
      out.textContent = n ? "about " + n + " value" + (n === 1 ? "" : "s") : "";
    };
    area.addEventListener("input", update);
    update();
  });
  // Ctrl+Enter (or Cmd+Enter) in a big text box sends its form.
  document.querySelectorAll("textarea[data-count]").forEach(function (area) {
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && area.form) {
        event.preventDefault();
        area.form.requestSubmit();
      }
    });
  });
  // Forms that revoke or disable ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Copy a one-time key.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent;
      navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
    });
  });
})();

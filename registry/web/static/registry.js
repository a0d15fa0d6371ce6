// Small helpers and the Alerts page's live list; every page works without them.
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
  // The Alerts page: new alerts arrive through the page's event stream (a session-authenticated
  // EventSource, resumed from the last one seen) and go on top; the header's unread count moves.
  var alerts = document.querySelector("table.alerts[data-stream]");
  if (alerts && window.EventSource) {
    var body = alerts.tBodies[0];
    var live = document.getElementById("alerts-live");
    var badge = document.getElementById("alerts-unread");
    var shown = {};
    Array.prototype.forEach.call(body.rows, function (row) { if (row.dataset.seq) shown[row.dataset.seq] = true; });
    var say = function (text) { if (live) { live.textContent = text; live.hidden = false; } };
    var cell = function (row, child) { var td = row.insertCell(-1); if (child) td.appendChild(child); return td; };
    var text = function (tag, value, className) {
      var node = document.createElement(tag);
      node.textContent = value;
      if (className) node.className = className;
      return node;
    };
    var bump = function () {
      if (!badge) return;
      var count = parseInt(badge.dataset.count || "0", 10) + 1, cap = parseInt(badge.dataset.cap || "100", 10);
      var label = count >= cap ? (cap - 1) + "+" : String(count);
      badge.dataset.count = count;
      badge.querySelector(".count").textContent = label;
      badge.hidden = false;
      document.title = "(" + label + ") " + document.title.replace(/^\([^)]*\) /, "");
    };
    var add = function (message) {
      var event = JSON.parse(message.data), a = event.shown;
      if (!a || shown[a.seq]) return;
      shown[a.seq] = true;
      var empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      var row = body.insertRow(0);
      row.className = "new";
      row.dataset.seq = a.seq;
      var when = text("time", a.when);
      when.setAttribute("datetime", a.time);
      cell(row, when);
      var what = cell(row, document.createTextNode(a.what));
      if (a.detail) { what.appendChild(document.createElement("br")); what.appendChild(text("span", a.detail, "muted small")); }
      if (a.href) {
        var link = document.createElement("a");
        link.href = a.href;
        link.title = a.kind || "";
        link.appendChild(text("code", a.value));
        cell(row, link);
      } else {
        cell(row, document.createTextNode("\u2014"));
      }
      cell(row, document.createTextNode(a.by));
      cell(row, text("span", "TLP:" + a.tlp.toUpperCase(), "tlp tlp-" + a.tlp.replace("+", "-")));
      cell(row, document.createTextNode(a.matched));
      bump();
    };
    var source = new EventSource(alerts.dataset.stream);
    alerts.dataset.types.split(" ").forEach(function (type) { source.addEventListener(type, add); });
    source.addEventListener("open", function () { say("Live: new alerts appear at the top as they happen."); });
    source.addEventListener("error", function () {
      say(source.readyState === EventSource.CLOSED
        ? "Live updates stopped (signed out?): reload the page."
        : "Reconnecting for live updates\u2026");
    });
  }
})();

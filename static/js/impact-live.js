/* Live impact numbers: polls the public JSON every 5 s while the tab is visible and updates the page in
   place. No framework; without JavaScript the server-rendered numbers stay as they are. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live-url");
  var PERIOD = 5000;
  var timer = null;
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  var decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

  function format(key, value) {
    return (key === "ewaste_recycled_kg" ? decimal : integer).format(value);
  }

  function set(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function apply(data) {
    document.querySelectorAll("[data-metric]:not([data-hub])").forEach(function (el) {
      var key = el.getAttribute("data-metric");
      if (key in data) set(el, format(key, data[key]));
    });
    (data.by_hub || []).forEach(function (hub) {
      document.querySelectorAll('[data-hub="' + hub.code + '"]').forEach(function (el) {
        var key = el.getAttribute("data-metric");
        if (key in hub) set(el, format(key, hub[key]));
      });
    });
    var updated = document.querySelector("[data-updated]");
    var when = new Date(data.updated_at);
    if (updated && !isNaN(when)) {
      updated.setAttribute("datetime", data.updated_at);
      set(updated, when.getUTCDate() + " " + months[when.getUTCMonth()] + " " + when.getUTCFullYear() + ", " +
        pad(when.getUTCHours()) + ":" + pad(when.getUTCMinutes()) + ":" + pad(when.getUTCSeconds()) + " UTC");
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(poll, PERIOD);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline for a moment: keep the numbers shown and try again later */ })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      poll();
    }
  });
  schedule();
})();

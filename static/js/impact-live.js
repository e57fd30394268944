/* Live impact numbers: polls the public JSON while the tab is visible and updates the page in place.
   The element with data-live-url says where to poll and data-live-period how often (ms, default 5000).
   Elements carry what they show: data-metric (a total), with data-hub, data-country or data-kind for that
   row's figure, or data-env for an environment figure. No framework; without JavaScript the
   server-rendered numbers stay as they are. Inside the widget's frame it also tells the embedding page
   its height, so impact-widget.js can size the frame. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live-url");
  var PERIOD = Math.max(parseInt(root.getAttribute("data-live-period"), 10) || 5000, 250);
  var timer = null;
  var lastTag = null;
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  // Kilograms of e-waste keep one decimal, as the server renders them (1,234.5; 12.0).
  var kilograms = new Intl.NumberFormat("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var ROWS = { "data-hub": ["by_hub", "code"], "data-country": ["by_country", "country"], "data-kind": ["by_project_kind", "kind"] };

  function format(key, value) {
    return (key === "ewaste_recycled_kg" || key === "ewaste_diverted_kg" ? kilograms : integer).format(value);
  }

  function set(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function index(rows, field) {
    var out = {};
    (rows || []).forEach(function (row) { out[row[field]] = row; });
    return out;
  }

  function sourceFor(el, data, indexes) {
    for (var attr in ROWS) {
      if (el.hasAttribute(attr)) return indexes[attr][el.getAttribute(attr)];
    }
    return data;
  }

  function apply(data) {
    var indexes = {};
    for (var attr in ROWS) indexes[attr] = index(data[ROWS[attr][0]], ROWS[attr][1]);
    document.querySelectorAll("[data-metric]").forEach(function (el) {
      var source = sourceFor(el, data, indexes);
      var key = el.getAttribute("data-metric");
      if (source && key in source) set(el, format(key, source[key]));
    });
    var environment = data.environment || {};
    document.querySelectorAll("[data-env]").forEach(function (el) {
      var key = el.getAttribute("data-env");
      if (key in environment) set(el, format(key, environment[key]));
    });
    var updated = document.querySelector("[data-updated]");
    var when = new Date(data.updated_at);
    if (updated && !isNaN(when)) {
      updated.setAttribute("datetime", data.updated_at);
      set(updated, when.getUTCDate() + " " + months[when.getUTCMonth()] + " " + when.getUTCFullYear() + ", " +
        pad(when.getUTCHours()) + ":" + pad(when.getUTCMinutes()) + ":" + pad(when.getUTCSeconds()) + " UTC");
    }
  }

  function tellHeight() {
    if (window.parent !== window) {
      window.parent.postMessage({ closegapWidgetHeight: document.documentElement.scrollHeight }, "*");
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(poll, PERIOD);
  }

  function poll() {
    // "no-cache": the browser asks again with the ETag it holds; the server answers 304 until a figure changes.
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-cache" })
      .then(function (response) {
        if (!response.ok) return null;
        var tag = response.headers.get("ETag");
        if (tag && tag === lastTag) return null;  // unchanged: skip parsing and touching the page
        lastTag = tag;
        return response.json();
      })
      .then(function (data) { if (data) { apply(data); tellHeight(); } })
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
  window.addEventListener("resize", tellHeight);
  tellHeight();
  schedule();
})();

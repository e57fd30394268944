/* Live impact numbers: polls the public JSON while the tab is visible and updates the page in place.
   The element with data-live-url says where to poll and data-live-period how often (ms, default 5000).
   Elements carry what they show: data-metric (a total), with data-hub, data-country or data-kind for that
   row's figure, or data-env for an environment figure. No framework; without JavaScript the
   server-rendered numbers stay as they are. Inside the widget's frame it also tells the embedding page
   its height, so impact-widget.js can size the frame.
   Screen readers hear of an update through one polite live region, [data-live-status], and only when a
   figure changed: the figures themselves are not live regions, which would read out every cell. The
   sentence comes from the page (data-live-message, translated there), with {changes} standing for the
   changed headline figures as they read on the page ("1,234 devices received; 56 people reached"). */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live-url");
  var PERIOD = Math.max(parseInt(root.getAttribute("data-live-period"), 10) || 5000, 250);
  var timer = null;
  var lastTag = null;
  // Numbers and dates the way the page's language writes them (<html lang>): 1,673,488 / 1 673 488 / 1.673.488.
  var lang = document.documentElement.lang || undefined;
  var integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  // Kilograms of e-waste keep one decimal, as the server renders them (1,234.5; 12.0).
  var kilograms = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var moment = new Intl.DateTimeFormat(lang, {
    timeZone: "UTC", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  var ROWS = { "data-hub": ["by_hub", "code"], "data-country": ["by_country", "country"], "data-kind": ["by_project_kind", "kind"] };

  function format(key, value) {
    return (key === "ewaste_recycled_kg" || key === "ewaste_compensated_kg" || key === "ewaste_diverted_kg" ? kilograms : integer).format(value);
  }

  function digits(text) {
    return text.replace(/\D/g, "");
  }

  // Writes the text when it differs; true when the figure itself changed. Digits are compared, not text,
  // so a figure the server wrote with other separators (1 673 488, 1.673.488) is not taken for a change.
  function set(el, text) {
    if (!el || el.textContent === text) return false;
    var changed = digits(el.textContent) !== digits(text);
    el.textContent = text;
    return changed;
  }

  // A headline figure reads with its label, as the list item holding both ("1,234 devices received").
  function describe(el) {
    var item = el.closest("li");
    return item ? item.textContent.replace(/\s+/g, " ").trim() : null;
  }

  function announce(changed) {
    var status = document.querySelector("[data-live-status]");
    var message = status && status.getAttribute("data-live-message");
    var described = changed.map(describe).filter(Boolean);
    if (!message || !described.length) return;
    // Emptied first, so a sentence equal to the previous one is still read out.
    status.textContent = "";
    setTimeout(function () { status.textContent = message.replace("{changes}", described.join("; ")); }, 100);
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
    var changed = [];
    for (var attr in ROWS) indexes[attr] = index(data[ROWS[attr][0]], ROWS[attr][1]);
    document.querySelectorAll("[data-metric]").forEach(function (el) {
      var source = sourceFor(el, data, indexes);
      var key = el.getAttribute("data-metric");
      if (source && key in source && set(el, format(key, source[key]))) changed.push(el);
    });
    var environment = data.environment || {};
    document.querySelectorAll("[data-env]").forEach(function (el) {
      var key = el.getAttribute("data-env");
      // Estimates follow the counts: not announced, to keep the sentence short.
      if (key in environment) set(el, format(key, environment[key]));
    });
    announce(changed);
    var updated = document.querySelector("[data-updated]");
    var when = new Date(data.updated_at);
    if (updated && !isNaN(when)) {
      updated.setAttribute("datetime", data.updated_at);
      set(updated, moment.format(when) + " UTC");
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

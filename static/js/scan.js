/* Scan station: send its forms with fetch and swap the result fragment instead of loading a whole page, then
   put the cursor back where the next scan goes. Without this file every form still works as a normal post. */
(function () {
  "use strict";
  var root = document.querySelector("[data-scan-station]");
  var result = document.getElementById("scan-result");
  if (!root || !result || !window.fetch || !window.FormData) { return; }

  function scanField() { return root.querySelector("[data-scan-field]"); }

  function focusNext() {
    var first = result.querySelector(
      ".scan-action-form input:not([type=hidden]), .scan-action-form select, .scan-action-form textarea, fieldset select"
    );
    if (first) { first.focus(); return; }
    var field = scanField();
    if (field) { field.focus(); field.select(); }
  }

  function load(url, options) {
    options.headers = { "X-Fragment": "1" };
    options.credentials = "same-origin";
    root.setAttribute("aria-busy", "true");
    return fetch(url, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") !== 0 || response.status >= 500) {
        window.location.href = response.url;  // a login page or an error: show it whole
        return;
      }
      return response.text().then(function (html) {
        result.innerHTML = html;
        focusNext();
      });
    }).catch(function () {
      // No answer at all: the offline station (scan-offline.js) takes the scan or the move, or the page reloads.
      if (window.closegapScanOffline && window.closegapScanOffline(url, options)) { return; }
      window.location.href = url;
    }).then(function () { root.removeAttribute("aria-busy"); });
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-fragment")) { return; }
    event.preventDefault();
    var method = (form.getAttribute("method") || "get").toUpperCase();
    var data = new FormData(form);
    if (method === "GET") {
      var query = new URLSearchParams(data).toString();
      var url = form.action.split("?")[0] + (query ? "?" + query : "");
      if (form.classList.contains("scan-form")) { window.history.replaceState(null, "", url); }
      load(url, { method: "GET" });
    } else {
      load(form.action, { method: "POST", body: data });
    }
  });

  root.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-fragment-link]") : null;
    if (!link) { return; }
    event.preventDefault();
    load(link.href, { method: "GET" });
  });

  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var cancel = result.querySelector("a[data-fragment-link]");
      if (cancel) { event.preventDefault(); load(cancel.href, { method: "GET" }); }
    }
  });
})();

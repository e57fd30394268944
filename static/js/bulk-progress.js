/* A bulk action's progress bar (templates/refurbishing/bulk_progress.html): asks the server how far the action
   has gone until it is over, then reloads once so the page lists the refused devices. Without JavaScript the
   page has a "Refresh" link showing the same figures. */
(function () {
  "use strict";
  var box = document.querySelector("[data-bulk-progress]");
  if (!box || box.hasAttribute("data-finished")) return;
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var percent = box.querySelector("[data-percent]");
  var done = box.querySelector("[data-done]");
  var status = box.querySelector("[data-status]");
  var outcome = document.querySelector("[data-outcome]");
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function show(selector, value) {
    var cell = outcome && outcome.querySelector(selector);
    if (cell) cell.textContent = number.format(value);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { window.setTimeout(poll, 3000); return; }
        bar.max = Math.max(progress.total, 1);
        bar.value = progress.done;
        bar.textContent = progress.percent + "%";
        percent.textContent = progress.percent;
        done.textContent = number.format(progress.done);
        status.textContent = progress.status_label;
        show("[data-moved]", progress.moved);
        show("[data-skipped]", progress.skipped);
        show("[data-refused]", progress.refused_count);
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 500);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();

/* The import's progress bar (templates/donations/import_progress.html): asks the server how far the import
   has gone, once a second, until it is over; then reloads once so the page shows the outcome. Without
   JavaScript the page has a "Refresh" link and shows the same figures. */
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box) return;
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var percent = box.querySelector("[data-percent]");
  var done = box.querySelector("[data-done]");
  var status = box.querySelector("[data-status]");
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var finishedOnLoad = box.closest("main, body").querySelector("[data-outcome] .notice, [data-outcome] .errors");
  if (finishedOnLoad) return;

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
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();

/* A background job's progress bar, for the bulk action page (templates/refurbishing/bulk_progress.html) and the
   spreadsheet import page (templates/donations/import_progress.html): asks the server how far the job has gone
   until it is over, then reloads once so the page shows the outcome. Without JavaScript each page has a
   "Refresh" link showing the same figures.

   The markup drives it: a [data-job-progress] box with data-url (the JSON to poll), data-first-poll and
   data-interval (milliseconds before the first poll and between polls), and data-finished when the job was
   already over as the page was drawn. Inside the box: a <progress>, and [data-percent], [data-done] and
   [data-status] in a line the page marks aria-live="polite". Anywhere on the page, an element with
   data-progress-field="name" shows the poll's number of that name. */
(function () {
  "use strict";
  var RETRY = 3000;
  var box = document.querySelector("[data-job-progress]");
  if (!box || box.hasAttribute("data-finished")) return;
  var url = box.getAttribute("data-url");
  var interval = Number(box.getAttribute("data-interval")) || 1000;
  var firstPoll = Number(box.getAttribute("data-first-poll")) || interval;
  var bar = box.querySelector("progress");
  var percent = box.querySelector("[data-percent]");
  var done = box.querySelector("[data-done]");
  var status = box.querySelector("[data-status]");
  var fields = document.querySelectorAll("[data-progress-field]");
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { window.setTimeout(poll, RETRY); return; }
        bar.max = Math.max(progress.total, 1);
        bar.value = progress.done;
        bar.textContent = progress.percent + "%";
        percent.textContent = progress.percent;
        done.textContent = number.format(progress.done);
        status.textContent = progress.status_label;
        Array.prototype.forEach.call(fields, function (field) {
          var value = progress[field.getAttribute("data-progress-field")];
          if (typeof value === "number") field.textContent = number.format(value);
        });
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, interval);
        }
      })
      .catch(function () { window.setTimeout(poll, RETRY); });
  }
  window.setTimeout(poll, firstPoll);
})();

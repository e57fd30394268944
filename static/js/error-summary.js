/* The error summary (templates/_error_summary.html): focus it when the page loads, so keyboard and screen
   reader users start from the list of what to correct; and make its links put the cursor in the field, not
   only scroll to it (a plain "#id" jump moves neither the focus nor shows the field's label). Without
   JavaScript the summary and its links still work as ordinary in-page links. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!field) return;
    event.preventDefault();
    // Scroll to the field's label, which usually sits above the field and names it, then focus the field.
    var label = field.labels && field.labels[0];
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
})();

/* Swagger UI (the API docs) after it renders, fixed where its markup fails people and axe-core:
   - some controls of "Try it out" have no label: a parameter's or a form field's input gets the name shown
     beside it in its table row, the request body's editor is named by the "Request body" heading above it,
     the examples menu by the "Examples:" text before it;
   - a code example that scrolls sideways cannot be reached by keyboard: it becomes focusable, so arrow
     keys scroll it.
   Swagger UI re-renders as operations open and close, so a MutationObserver applies this to what appears.
   Nested controls in the operation headers are avoided by configuration instead (deepLinking off, see
   SWAGGER_UI_SETTINGS in closegap/settings/base.py): no script needed for those. */
(function () {
  "use strict";

  var ids = 0;

  function named(control) {
    return (control.labels && control.labels.length) || control.getAttribute("aria-label") ||
      control.hasAttribute("aria-labelledby") || control.type === "hidden";
  }

  function labelBy(control, text) {
    if (!text || named(control)) return;
    if (!text.id) text.id = "swagger-a11y-label-" + (++ids);
    control.setAttribute("aria-labelledby", text.id);
  }

  function fix(root) {
    root.querySelectorAll("tr[data-param-name] :is(select, input, textarea)").forEach(function (control) {
      if (named(control)) return;
      var row = control.closest("tr[data-param-name]");
      var where = row.getAttribute("data-param-in");
      control.setAttribute("aria-label", row.getAttribute("data-param-name") + (where ? " (" + where + ")" : ""));
    });
    root.querySelectorAll("tr[data-property-name] :is(select, input, textarea)").forEach(function (control) {
      if (!named(control)) control.setAttribute("aria-label", control.closest("tr").getAttribute("data-property-name"));
    });
    root.querySelectorAll("textarea.body-param__text").forEach(function (editor) {
      var section = editor.closest(".opblock-section-request-body");
      labelBy(editor, section && section.querySelector(".opblock-section-header .opblock-title"));
    });
    root.querySelectorAll("select.examples-select-element").forEach(function (menu) {
      labelBy(menu, menu.parentElement.querySelector(".examples-select__section-label"));
    });
    root.querySelectorAll(".highlight-code > .microlight:not([tabindex])").forEach(function (code) {
      code.setAttribute("tabindex", "0");
    });
  }

  var pending = false;
  new MutationObserver(function () {
    // One pass per burst of React updates, not one per inserted node.
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      fix(document);
    });
  }).observe(document.body, { childList: true, subtree: true });
  fix(document);
})();

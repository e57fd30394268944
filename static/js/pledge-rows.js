/* The pledge's device rows (templates/donations/pledge.html): add and remove rows without reloading, and
   show which answer "Has a disk or memory card" takes by default for the chosen category. Without
   JavaScript the "Add more rows" button asks the server for more rows, empty rows are ignored, and the
   server applies the category's default: nothing here is needed to pledge. */
(function () {
  "use strict";
  var form = document.querySelector("[data-pledge-rows]");
  if (!form) return;
  var prefix = form.getAttribute("data-prefix");
  var maxRows = parseInt(form.getAttribute("data-max-rows"), 10) || 200;
  var rows = form.querySelector("[data-rows]");
  var template = form.querySelector("template[data-empty-row]");
  var total = form.querySelector("#id_" + prefix + "-TOTAL_FORMS");
  var status = form.querySelector("[data-rows-status]");
  var noStorage = (form.getAttribute("data-no-storage") || "").split(",");
  var deviceLabel = form.getAttribute("data-device-label");
  var pattern = new RegExp("^(id_)?" + prefix + "-(\\d+|__prefix__)-");
  var ATTRIBUTES = ["name", "id", "for", "aria-describedby"];

  function renumber() {
    var all = rows.querySelectorAll("[data-row]");
    all.forEach(function (row, index) {
      row.querySelectorAll("*").forEach(function (element) {
        ATTRIBUTES.forEach(function (name) {
          var value = element.getAttribute(name);
          if (!value) return;
          var renamed = value.split(" ").map(function (part) {
            return part.replace(pattern, function (match, id) { return (id || "") + prefix + "-" + index + "-"; });
          }).join(" ");
          if (renamed !== value) element.setAttribute(name, renamed);
        });
      });
      var legend = row.querySelector("legend");
      if (legend) legend.textContent = deviceLabel + " " + (index + 1);
    });
    total.value = all.length;
  }

  function storageHint(row) {
    var category = row.querySelector("select[name$='-category']");
    var storage = row.querySelector("select.storage-media");
    if (!category || !storage) return;
    var usual = storage.options[0];
    if (!category.value) {
      usual.textContent = usual.getAttribute("data-label") || usual.textContent;
      return;
    }
    if (!usual.getAttribute("data-label")) usual.setAttribute("data-label", usual.textContent);
    usual.textContent = form.getAttribute(noStorage.indexOf(category.value) >= 0 ? "data-storage-no" : "data-storage-yes");
  }

  function addRemoveButton(row) {
    if (row.querySelector("[data-remove-row]")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary remove-row";
    button.setAttribute("data-remove-row", "");
    button.textContent = form.getAttribute("data-remove-label");
    row.appendChild(button);
  }

  function enhance(row) {
    addRemoveButton(row);
    storageHint(row);
  }

  rows.querySelectorAll("[data-row]").forEach(enhance);

  form.querySelector("[data-add-row]").addEventListener("click", function (event) {
    var count = rows.querySelectorAll("[data-row]").length;
    if (count >= maxRows) return; // let the server say so
    event.preventDefault();
    var fragment = template.content.cloneNode(true);
    var row = fragment.querySelector("[data-row]");
    rows.appendChild(fragment);
    row = rows.lastElementChild;
    renumber();
    enhance(row);
    var first = row.querySelector("select, input");
    if (first) first.focus();
    status.textContent = deviceLabel + " " + (count + 1);
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (!button) return;
    var row = button.closest("[data-row]");
    var all = rows.querySelectorAll("[data-row]");
    if (all.length <= 1) {
      row.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
        if (field.name && /-quantity$/.test(field.name)) field.value = "1";
        else if (field.tagName === "SELECT") field.selectedIndex = 0;
        else field.value = "";
      });
      storageHint(row);
      return;
    }
    var index = Array.prototype.indexOf.call(all, row);
    row.remove();
    renumber();
    var next = rows.querySelectorAll("[data-row]")[Math.min(index, all.length - 2)];
    var focusable = next && next.querySelector("select, input");
    if (focusable) focusable.focus();
  });

  rows.addEventListener("change", function (event) {
    if (event.target.name && /-category$/.test(event.target.name)) storageHint(event.target.closest("[data-row]"));
  });
})();

(function () {
  "use strict";
  // Sorting and filtering of the machine table; the page reads the same without this script.
  var table = document.getElementById("machine-table");
  var controls = document.getElementById("machine-controls");
  if (!table || !controls) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);

  var input = document.createElement("input");
  input.type = "search";
  input.placeholder = "Filter: name, version, rule, error";
  input.setAttribute("aria-label", "Filter machines");
  var select = document.createElement("select");
  select.setAttribute("aria-label", "Verdict");
  [["", "every verdict"], ["ready", "ready"], ["ready-after-actions", "ready after actions"],
   ["blocked", "blocked"], ["could-not-read", "could not read"]].forEach(function (pair) {
    var option = document.createElement("option");
    option.value = pair[0];
    option.textContent = pair[1];
    select.appendChild(option);
  });
  var shown = document.createElement("span");
  shown.id = "machine-count";
  controls.appendChild(input);
  controls.appendChild(select);
  controls.appendChild(shown);
  controls.hidden = false;

  function apply() {
    var query = input.value.trim().toLowerCase();
    var verdict = select.value;
    var count = 0;
    rows.forEach(function (row) {
      var match = (!verdict || row.getAttribute("data-verdict") === verdict) &&
        (!query || row.textContent.toLowerCase().indexOf(query) >= 0);
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " machines shown";
  }

  function key(row, column) {
    var cell = row.cells[column];
    var value = cell.getAttribute("data-v");
    return value !== null ? Number(value) : cell.textContent.trim().toLowerCase();
  }

  function sortBy(column) {
    var header = headers[column];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = rows.slice().sort(function (a, b) {
      var x = key(a, column);
      var y = key(b, column);
      var order = (typeof x === "number" && typeof y === "number") ? x - y :
        String(x).localeCompare(String(y), undefined, {numeric: true});
      if (order === 0) { order = Number(a.getAttribute("data-i")) - Number(b.getAttribute("data-i")); }
      return ascending ? order : -order;
    });
    sorted.forEach(function (row) { tbody.appendChild(row); });
  }

  headers.forEach(function (header, column) {
    var button = document.createElement("button");
    button.type = "button";
    while (header.firstChild) { button.appendChild(header.firstChild); }
    header.appendChild(button);
    button.addEventListener("click", function () { sortBy(column); });
  });

  // "show in the table" links of the top rules filter the table to the machines a rule hits.
  Array.prototype.forEach.call(document.querySelectorAll("a[data-filter]"), function (link) {
    link.addEventListener("click", function () {
      input.value = link.getAttribute("data-filter");
      select.value = "";
      apply();
    });
  });

  input.addEventListener("input", apply);
  select.addEventListener("change", apply);
  apply();
}());

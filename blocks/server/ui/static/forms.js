// Block forms (templates/forms/): union member selectors and list/dict rows. Without
// JavaScript the forms still work: "Show its fields" re-draws the form for the chosen member,
// and a few empty rows are always drawn (empty rows are left out on save).
"use strict";
(function () {
  function showMember(select) {
    var union = select.closest("[data-union]");
    var members = union.querySelectorAll(":scope > fieldset[data-member]");
    members.forEach(function (fieldset) {
      var off = fieldset.getAttribute("data-member") !== select.value;
      fieldset.disabled = off;  // a disabled fieldset's fields are not posted
      fieldset.hidden = off;
    });
  }

  function addRow(button) {
    var rows = button.closest("[data-rows]");
    var token = rows.getAttribute("data-token");
    var next = parseInt(rows.getAttribute("data-next"), 10);
    var template = rows.querySelector(":scope > template");
    var holder = document.createElement("template");
    holder.innerHTML = template.innerHTML.split(token).join(String(next));
    rows.setAttribute("data-next", String(next + 1));
    var list = rows.querySelector(":scope > ol");
    list.appendChild(holder.content);
    var added = list.lastElementChild;
    prepare(added);
    var first = added.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  function removeRow(button) {
    var row = button.closest("li");
    var rows = button.closest("[data-rows]");
    row.remove();
    var add = rows.querySelector(":scope > [data-add-row]");
    if (add) { add.focus(); }
  }

  function prepare(root) {
    root.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    root.querySelectorAll(".no-js").forEach(function (el) { el.hidden = true; });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-union-select]")) { showMember(event.target); }
  });
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) { addRow(add); return; }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) { removeRow(remove); }
  });
  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
})();

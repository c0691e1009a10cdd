// Blocks web UI: a little progressive enhancement, no inline scripts (the CSP forbids them).
"use strict";
(function () {
  var HIDE_AFTER_MS = 10000;

  // "Reveal" forms (data-reveal): POST with the form's CSRF token, show the value in place,
  // hide it again after a few seconds. Without JavaScript the form posts to a page instead.
  function onReveal(event) {
    var form = event.target.closest("form[data-reveal]");
    if (!form) { return; }
    event.preventDefault();
    var target = document.getElementById(form.getAttribute("data-reveal"));
    var button = form.querySelector("button");
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return [response.ok, body]; });
    }).then(function (result) {
      if (!result[0]) { target.textContent = result[1].error || "refused"; return; }
      target.textContent = result[1].value;
      target.classList.add("revealed");
      if (button) { button.disabled = true; }
      setTimeout(function () {
        target.textContent = "********";
        target.classList.remove("revealed");
        if (button) { button.disabled = false; }
      }, HIDE_AFTER_MS);
    }).catch(function () { target.textContent = "could not reveal"; });
  }

  // Forms with data-confirm ask before they post (delete, rollback).
  function onConfirm(event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  }

  document.addEventListener("submit", function (event) {
    onConfirm(event);
    if (!event.defaultPrevented) { onReveal(event); }
  });
})();

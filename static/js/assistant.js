// Assistant page: clear and refocus the message box after each htmx turn (no inline script: CSP).
document.addEventListener("htmx:afterRequest", function (event) {
  var form = document.getElementById("turn-form");
  if (!form || event.detail.elt !== form || !event.detail.successful) return;
  form.reset();
  var box = document.getElementById("turn-message");
  if (box) box.focus();
});

// Site-wide behaviour; no inline script anywhere (the CSP forbids it).
// After htmx removes a row or updates the status region, move keyboard focus to the
// announcement so keyboard and screen-reader users are not left on a removed element.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  var target = event.detail && event.detail.target;
  if (target && target.id === "live") {
    target.focus();
  }
});

// Copy buttons (the app keys page's new key): hidden in the HTML, shown only when this script
// runs, so without JavaScript the page offers just the read-only field to select and copy.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      var status = document.getElementById("copy-status");
      var done = function (text) { if (status) status.textContent = text; };
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { done("Copied to the clipboard."); },
          function () { done("Copying failed: the key is selected, press Ctrl+C (⌘C)."); }
        );
      } else {
        done(document.execCommand && document.execCommand("copy")
          ? "Copied to the clipboard." : "The key is selected: press Ctrl+C (⌘C).");
      }
    });
  });
});

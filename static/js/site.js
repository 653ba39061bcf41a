// Site-wide behaviour; no inline script anywhere (the CSP forbids it).
// After htmx removes a row or updates the status region, move keyboard focus to the
// announcement so keyboard and screen-reader users are not left on a removed element.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  var target = event.detail && event.detail.target;
  if (target && target.id === "live") {
    target.focus();
  }
});

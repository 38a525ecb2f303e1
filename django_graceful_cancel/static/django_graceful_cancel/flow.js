// Progressive enhancement only: every page works without JavaScript.
document.querySelectorAll("[data-gc-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

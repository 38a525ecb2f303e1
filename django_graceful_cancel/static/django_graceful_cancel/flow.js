// Progressive enhancement only: every page works without JavaScript.
document.querySelectorAll("[data-gc-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

// The customer's time zone, sent with the first form so that dates on the receipt and in the
// messages read in their zone (the server ignores a zone it does not know).
(function () {
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { zone = ""; }
  document.querySelectorAll("[data-gc-time-zone]").forEach(function (input) { input.value = zone; });
})();

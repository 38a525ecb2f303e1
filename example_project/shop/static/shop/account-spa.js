// The single-page account page (shop/account_spa.html): the cancellation flow opens in place.
// Progressive enhancement: until <graceful-cancel-flow> is defined, the element shows its
// fallback link to the server-rendered flow, and this script changes nothing.
const flow = document.getElementById("cancel-flow");
const toggle = document.getElementById("cancel-subscription");
const toggleRow = document.getElementById("cancel-toggle");
const status = document.getElementById("sub-status");

if (flow && flow.localName === "graceful-cancel-flow") {
  customElements.whenDefined("graceful-cancel-flow").then(() => {
    // A receipt to reactivate from opens at once; otherwise the flow waits for the button.
    if (toggle && !flow.hasAttribute("reference")) {
      flow.hidden = true;
      toggleRow.hidden = false;
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        flow.hidden = !open;
        if (open) flow.focusHeading();
      });
    }
  });

  // The rest of the page follows the flow through its events.
  flow.addEventListener("graceful-cancel:cancelled", () => {
    if (status) status.textContent = status.dataset.ending;
    if (toggleRow) toggleRow.hidden = true;
  });
  flow.addEventListener("graceful-cancel:reactivated", () => {
    if (status) status.textContent = status.dataset.active;
  });
}

// Progressive enhancement only: every page works without this file.
// A number input marked data-slider gets a range control beside it; both stay in sync, and the
// number input remains the one that is submitted (so keyboard and screen-reader users keep it).
document.querySelectorAll("input[data-slider]").forEach((number) => {
  const range = document.createElement("input");
  range.type = "range";
  range.min = number.min;
  range.max = number.max;
  range.step = number.step || "1";
  range.value = number.value || number.min;
  range.className = "slider";
  range.setAttribute("aria-hidden", "true");
  range.tabIndex = -1;
  range.addEventListener("input", () => { number.value = range.value; });
  number.addEventListener("input", () => { if (number.value !== "") range.value = number.value; });
  number.insertAdjacentElement("beforebegin", range);
});
// Move focus to the error summary so screen readers announce it.
const summary = document.getElementById("error-summary");
if (summary) summary.focus();
// The thank-you page's "Copy the code" button: shown only where the browser can copy; the result
// is announced in a live region.
const copy = document.getElementById("copy-receipt");
if (copy && navigator.clipboard && window.isSecureContext) {
  copy.hidden = false;
  copy.addEventListener("click", () => {
    const code = document.getElementById(copy.dataset.copy).textContent.trim();
    navigator.clipboard.writeText(code).then(() => {
      const status = document.getElementById("copy-status");
      status.textContent = status.dataset.copied;
    });
  });
}

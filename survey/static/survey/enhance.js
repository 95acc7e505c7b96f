// Progressive enhancement only: every page works without this file.
// A number input marked data-slider gets a range control beside it; both stay in sync, and the
// number input remains the one that is submitted (so keyboard and screen-reader users keep it).
document.querySelectorAll("input[data-slider]").forEach((number) => {
  const range = document.createElement("input");
  range.type = "range";
  range.min = number.min;
  range.max = number.max;
  range.step = number.step || "1";
  // No thumb until the participant gives a value: a thumb at the start would invite that value, and
  // an untouched slider is stored as not answered (the number input stays empty).
  range.value = number.value || (Number(number.min) + Number(number.max)) / 2;
  // Unset is also drawn as unset: no thumb and no filled track (the stylesheet keys on data-state).
  const mark = () => {
    const unset = number.value === "";
    range.classList.toggle("untouched", unset);
    range.dataset.state = unset ? "unset" : "set";
  };
  range.className = "slider";
  mark();
  range.setAttribute("aria-hidden", "true");
  range.tabIndex = -1;
  const choose = () => {
    number.value = range.value;
    mark();
    number.dispatchEvent(new Event("change", { bubbles: true }));
  };
  range.addEventListener("input", choose);
  // A click or a tap on the thumb's hidden resting place changes no value, so "input" does not
  // fire; a tap fires no "click" either, but every pointer (mouse, finger, pen) ends with pointerup.
  const chooseResting = () => { if (number.value === "") choose(); };
  range.addEventListener("click", chooseResting);
  range.addEventListener("pointerup", chooseResting);
  number.addEventListener("input", () => {
    mark();
    if (number.value !== "") range.value = number.value;
  });
  // The two ends of the scale under the track, so the range is readable before anything is chosen.
  const ends = document.createElement("div");
  ends.className = "slider-ends";
  ends.setAttribute("aria-hidden", "true");
  for (const end of [number.min, number.max]) {
    const label = document.createElement("span");
    label.textContent = end;
    ends.append(label);
  }
  number.insertAdjacentElement("beforebegin", range);
  range.insertAdjacentElement("afterend", ends);
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
// Live relevance: after each change the page's fields go to the server, whose evaluator says which
// questions apply and which options the choice filters offer; they are shown or hidden here (focus
// stays where it is) and a question's change is announced. Without this script the server sends the page again when an answer brings a question in.
const live = document.querySelector("form[data-relevance]");
if (live) {
  const status = document.getElementById("relevance-status");
  const slots = [...live.querySelectorAll("[data-question]")];
  const title = (slot) => (slot.querySelector("legend, label, .note") || slot).textContent.replace(/\s*\*\s*$/, "").trim();
  let asked = 0;
  live.addEventListener("change", () => {
    const mine = ++asked;
    live.setAttribute("aria-busy", "true");
    fetch(live.dataset.relevance, { method: "POST", body: new FormData(live), credentials: "same-origin" })
      .then((reply) => (reply.ok ? reply.json() : null))
      .then((answer) => {
        if (!answer || !answer.relevant || mine !== asked) return;
        const relevant = new Set(answer.relevant);
        const added = [], removed = [];
        slots.forEach((slot) => {
          const applies = relevant.has(slot.dataset.question);
          if (applies === slot.hidden) {
            slot.hidden = !applies;
            (applies ? added : removed).push(title(slot));
          }
        });
        // Choice filters: the options an earlier answer no longer offers are hidden and unticked.
        Object.entries(answer.choices || {}).forEach(([code, offered]) => {
          const keep = new Set(offered);
          live.querySelectorAll(`input[name="${CSS.escape(code)}"]`).forEach((input) => {
            const option = input.closest("label.option") || input;
            option.hidden = !keep.has(input.value);
            if (option.hidden) input.checked = false;
          });
        });
        live.elements.shown.value = slots.filter((slot) => !slot.hidden).map((slot) => slot.dataset.question).join(" ");
        const words = [];
        if (added.length) words.push(status.dataset.added + " " + added.join("; "));
        if (removed.length) words.push(status.dataset.removed + " " + removed.join("; "));
        if (words.length) status.textContent = words.join(" ");
      })
      .catch(() => {})
      .finally(() => { if (mine === asked) live.removeAttribute("aria-busy"); });
  });
}
// Exclusive options ("None of these"): ticking one clears the others of its question, and ticking
// another clears it. The server refuses the combination in any case.
document.querySelectorAll("input[type=checkbox][data-exclusive]").forEach((alone) => {
  const others = [...document.querySelectorAll(`input[type=checkbox][name="${CSS.escape(alone.name)}"]`)].filter((box) => box !== alone);
  alone.addEventListener("change", () => {
    if (alone.checked) others.forEach((box) => { box.checked = false; });
  });
  others.forEach((box) => box.addEventListener("change", () => {
    if (box.checked && !box.hasAttribute("data-exclusive")) alone.checked = false;
  }));
});

// The studio's progressive enhancement: every page works without this file.
"use strict";

// Live checking: an expression field asks the server (the one parser) as the researcher types, and
// shows the parser's message with its position, or the expression in words, in its live region.
document.querySelectorAll("input[data-check-url]").forEach((input) => {
  const output = document.getElementById(`${input.id}_check`);
  if (!output) return;
  let timer = null;
  let asked = 0;
  const check = async () => {
    const ask = ++asked;
    const params = new URLSearchParams({
      expression: input.value,
      field: input.dataset.checkField,
      kind: input.dataset.checkKind,
      question: input.dataset.checkQuestion,
      page: input.dataset.checkPage,
    });
    try {
      const response = await fetch(`${input.dataset.checkUrl}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (!response.ok || ask !== asked) return;
      // The fragment is rendered (and escaped) by the server's template.
      output.innerHTML = await response.text();
      input.setAttribute("aria-invalid", output.querySelector(".bad") ? "true" : "false");
    } catch (error) {
      // Offline or signed out: the check on saving still applies.
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
});

// Title fields follow the languages ticked (without JavaScript a button shows them).
const titleFields = document.getElementById("title-fields");
if (titleFields) {
  const refresh = document.getElementById("refresh-titles");
  if (refresh) refresh.hidden = true;
  document.querySelectorAll('#languages-field input[type="checkbox"]').forEach((box) => {
    box.addEventListener("change", () => {
      const field = titleFields.querySelector(`[data-language="${box.value}"]`);
      if (field) field.hidden = !box.checked;
    });
  });
}

// A question's settings for other types are hidden while its type does not use them.
const typeSelect = document.querySelector("#question-form select[name='type']");
if (typeSelect) {
  const groups = document.querySelectorAll("#question-form [data-types]");
  const show = () => {
    groups.forEach((group) => {
      group.hidden = !group.dataset.types.split(" ").includes(typeSelect.value);
    });
  };
  typeSelect.addEventListener("change", show);
  show();
}

// Copy buttons beside participant links.
document.querySelectorAll("button.copy").forEach((button) => {
  const input = document.getElementById(button.dataset.copy);
  const status = document.querySelector(`.copy-status[data-for="${button.dataset.copy}"]`);
  if (!input || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      if (status) status.textContent = button.dataset.copied || "✓";
    } catch (error) {
      input.select();
    }
  });
});

// Drag a question to another place on its page (the ↑ ↓ buttons do the same from the keyboard and
// without JavaScript). The drop posts the new position; the page reloads with the server's order.
document.querySelectorAll(".page-block").forEach((block) => {
  const rows = () => Array.from(block.querySelectorAll(":scope > .question-row[data-move-url]"));
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (!token) return;
  let dragged = null;
  rows().forEach((row) => {
    row.draggable = true;
    row.addEventListener("dragstart", (event) => {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
    });
    row.addEventListener("dragend", () => row.classList.remove("dragging"));
    row.addEventListener("dragover", (event) => {
      if (dragged && dragged !== row) event.preventDefault();
    });
    row.addEventListener("drop", async (event) => {
      event.preventDefault();
      if (!dragged || dragged === row) return;
      const body = new URLSearchParams({ to: String(rows().indexOf(row)), csrfmiddlewaretoken: token.value });
      const response = await fetch(dragged.dataset.moveUrl, { method: "POST", body, credentials: "same-origin" });
      window.location.assign(response.url || window.location.href);
    });
  });
});

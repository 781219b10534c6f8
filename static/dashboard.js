// The dashboard's own behaviour (htmx does the rest): "select all" boxes in tables.
document.addEventListener("change", (event) => {
  const box = event.target;
  const name = box instanceof HTMLInputElement ? box.dataset.selectAll : undefined;
  if (!name) return;
  const form = box.closest("form");
  if (!form) return;
  for (const item of form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    item.checked = box.checked;
  }
});

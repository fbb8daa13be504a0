// The SLA calendar's week grid: add and remove working intervals of a day, and grey the grid
// out while "24×7" is ticked. Declared in the markup (data-add-interval, data-remove-interval),
// so the page has no inline script (the Content-Security-Policy allows our own files only).
(function () {
  function fresh(day) {
    const template = document.getElementById("interval-template");
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) {
      input.name = day + "_" + input.dataset.part;
      input.setAttribute("aria-label", day + " " + (input.dataset.part === "start" ? "from" : "until"));
    });
    return row;
  }
  document.addEventListener("click", function (e) {
    const add = e.target.closest("[data-add-interval]");
    if (add) {
      const day = add.closest(".day");
      const row = fresh(day.dataset.day);
      day.querySelector(".intervals").appendChild(row);
      row.querySelector("input").focus();
      return;
    }
    const remove = e.target.closest("[data-remove-interval]");
    if (remove) {
      const row = remove.closest(".interval");
      const list = row.parentElement;
      if (list.children.length > 1) row.remove();
      else row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    }
  });
  function sync() {
    const always = document.getElementById("id_always");
    const week = document.getElementById("week");
    if (always && week) week.classList.toggle("off", always.checked);
  }
  document.addEventListener("change", function (e) { if (e.target.id === "id_always") sync(); });
  document.addEventListener("DOMContentLoaded", sync);
})();

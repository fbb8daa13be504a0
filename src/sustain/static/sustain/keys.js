// Keyboard shortcuts: "/" search, "j"/"k" move through a list, Enter opens,
// "r" reply, "a" assign to me. Ignored while typing in a field.
(function () {
  function typing(e) { const t = e.target; return t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName); }
  let index = -1;
  function rows() { return Array.from(document.querySelectorAll("table.tickets tbody tr[data-key]")); }
  function select(i) {
    const all = rows(); if (!all.length) return;
    index = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((r, n) => r.classList.toggle("selected", n === index));
    all[index].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    const search = document.querySelector("#q, input[type=search]");
    if (e.key === "/" && search) { e.preventDefault(); search.focus(); }
    else if (e.key === "j") select(index + 1);
    else if (e.key === "k") select(index - 1);
    else if (e.key === "Enter" && index >= 0) { const a = rows()[index].querySelector("a"); if (a) a.click(); }
    else if (e.key === "r") { const b = document.getElementById("reply-body"); if (b) { e.preventDefault(); b.focus(); } }
    else if (e.key === "a") { const b = document.getElementById("assign-me"); if (b) b.click(); }
  });
})();

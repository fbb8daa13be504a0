// Form behaviour declared in the markup, so the pages need no inline script or event-handler
// attribute (the Content-Security-Policy allows scripts from our own files only):
//   <form data-confirm="Delete this webhook?">  asks before submitting;
//   <select data-autosubmit>                    submits its form when changed.
(function () {
  document.addEventListener("submit", function (e) {
    const form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    const field = e.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.requestSubmit();
  });
})();

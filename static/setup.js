/* The first-run form: loading the demo clinic takes a few seconds, so once the form is sent
 * its button says so, is disabled (no second submission) and the form is aria-busy (issue 20,
 * item 8). Without JavaScript the form posts just the same. */
(function () {
  "use strict";
  var form = document.getElementById("setup-form");
  if (!form) return;
  var button = form.querySelector("button[type=submit]");
  var demo = form.querySelector("input[name=load_demo]");
  var status = document.getElementById("setup-progress");
  form.addEventListener("submit", function () {
    if (!button || button.disabled) return;
    var loading = demo && demo.checked;
    var words = loading ? "Loading the demo…" : "Creating your account…";
    // Disabled after this tick, so the submission that is under way still goes.
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = words;
      form.setAttribute("aria-busy", "true");
      if (status) status.textContent = loading ? "Loading the demo clinic: this takes a few seconds." : words;
    }, 0);
  });
})();

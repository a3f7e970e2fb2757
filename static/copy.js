/* A "Copy" button beside every one-time link or secret shown in a read-only field
 * (input.copy): invitations, password resets, imports, calendar links, API tokens.
 * Without JavaScript the field is still there to select and copy by hand. The button uses
 * the Clipboard API where the page may (a secure context); otherwise it selects the text so
 * Ctrl+C / Cmd+C copies it. A polite live region says what happened (issue 20, item 5). */
(function () {
  "use strict";

  function say(status, words) {
    status.textContent = "";
    // A fresh text node after a tick, so screen readers announce a repeated "Copied" too.
    window.setTimeout(function () { status.textContent = words; }, 30);
  }

  function selectAll(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }

  function fallback(field, status) {
    selectAll(field);
    var copied = false;
    try { copied = document.execCommand && document.execCommand("copy"); } catch (e) { copied = false; }
    say(status, copied ? "Copied" : "Selected: press Ctrl+C (or ⌘C) to copy");
  }

  function enhance(field, n) {
    if (field.dataset.copyReady) return;
    field.dataset.copyReady = "yes";
    if (!field.id) field.id = "copy-field-" + n;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy-button";
    button.textContent = "Copy";
    // Named "Copy" and described by its field (not labelled by it), so that the field stays
    // the one thing its label names, for people and for tests alike.
    button.setAttribute("aria-describedby", field.id);
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", status);
    field.insertAdjacentElement("afterend", button);
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { say(status, "Copied"); },
          function () { fallback(field, status); }
        );
      } else {
        fallback(field, status);
      }
    });
  }

  var fields = document.querySelectorAll("input.copy[readonly]");
  for (var i = 0; i < fields.length; i++) enhance(fields[i], i);
})();

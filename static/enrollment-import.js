// Progress for large CSV files on the enrollment import page. Without JavaScript the rows
// are pasted and the form posts normally; with it, a chosen file is read into the form, and
// the upload goes through XHR so the page shows how much has been sent and then that the
// server is checking the rows. (The form is URL-encoded, not multipart: asgi-csrf 0.11
// cannot parse multipart bodies with python-multipart 0.0.3x.)
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser || !window.FileReader) return;

  function init() {
    var form = document.getElementById("import-upload");
    if (!form) return;
    var box = document.getElementById(form.getAttribute("data-progress"));
    var bar = document.getElementById("import-progress-bar");
    var label = document.getElementById("import-progress-label");
    var fileInput = document.getElementById("file");
    var textArea = document.getElementById("csv_text");

    function show(text, value) {
      box.hidden = false;
      label.textContent = text;
      if (value === null) bar.removeAttribute("value");
      else bar.value = value;
    }

    // Read the chosen file into the form's text field.
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return;
      show("Reading " + file.name + "…", 0);
      var reader = new FileReader();
      reader.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      reader.addEventListener("load", function () {
        textArea.value = reader.result;
        var lines = textArea.value.split("\n").filter(function (l) { return l.trim(); }).length;
        show(file.name + " is ready: " + lines + " lines. Press Preview.", 100);
      });
      reader.addEventListener("error", function () {
        show("The file could not be read. Paste its rows instead.", 0);
      });
      reader.readAsText(file, "utf-8");
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      show("Uploading… 0%", 0);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        show("Uploading… " + percent + "%", percent);
      });
      xhr.upload.addEventListener("load", function () {
        show("Checking every row…", null); // indeterminate while the server works
      });
      xhr.addEventListener("load", function () {
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        document.title = doc.title;
        document.body.replaceWith(doc.body);
        init();
        var preview = document.getElementById("preview");
        if (preview) preview.scrollIntoView();
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        show("The upload failed. Check the connection and try again.", 0);
      });
      xhr.send(new URLSearchParams(new FormData(form)).toString());
    });
  }

  init();
})();

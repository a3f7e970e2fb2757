// Progress for large CSV files on the enrollment import page. Without JavaScript the rows
// are pasted and the form posts normally; with it, a chosen file is read into the form, and
// the upload goes through XHR so the page shows how much has been sent and then that the
// server is checking the rows. (The form is URL-encoded, not multipart: asgi-csrf 0.11
// cannot parse multipart bodies with python-multipart 0.0.3x.)
(function () {
  "use strict";
  var form = document.getElementById("import-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
  var box = document.getElementById(form.getAttribute("data-progress"));
  var bar = document.getElementById("import-progress-bar");
  var label = document.getElementById("import-progress-label");
  var fileInput = document.getElementById("file");
  var textArea = document.getElementById("csv_text");

  // Read the chosen file into the form's text field (the form posts URL-encoded text).
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    box.hidden = false;
    bar.value = 0;
    label.textContent = "Reading " + file.name + "…";
    var reader = new FileReader();
    reader.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    reader.addEventListener("load", function () {
      textArea.value = reader.result;
      bar.value = 100;
      label.textContent = file.name + " is ready: " + textArea.value.split("\n").filter(function (l) { return l.trim(); }).length + " lines.";
    });
    reader.addEventListener("error", function () {
      label.textContent = "The file could not be read. Paste its rows instead.";
    });
    reader.readAsText(file, "utf-8");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    box.hidden = false;
    bar.value = 0;
    label.textContent = "Uploading… 0%";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      label.textContent = "Uploading… " + percent + "%";
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server checks every row
      label.textContent = "Checking every row…";
    });
    xhr.addEventListener("load", function () {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      document.title = doc.title;
      document.body.replaceWith(doc.body);
      var preview = document.getElementById("preview");
      if (preview) preview.scrollIntoView();
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      label.textContent = "The upload failed. Check the connection and try again.";
    });
    xhr.send(new URLSearchParams(new FormData(form)).toString());
  });
})();

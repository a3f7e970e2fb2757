// Progress for large CSV uploads on the enrollment import page. Without JavaScript the
// form posts normally; with it, the upload goes through XHR so the page can show how much
// has been sent and then that the server is checking the rows.
(function () {
  "use strict";
  var form = document.getElementById("import-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
  var box = document.getElementById(form.getAttribute("data-progress"));
  var bar = document.getElementById("import-progress-bar");
  var label = document.getElementById("import-progress-label");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    box.hidden = false;
    bar.value = 0;
    label.textContent = "Uploading… 0%";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
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
    xhr.send(new FormData(form));
  });
})();

// Live preview on the cohort form: after a pause in typing, ask the server for the plan
// and swap it in. Without JavaScript the "Preview the dates" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("cohort-form");
  var target = document.getElementById("schedule-preview");
  if (!form || !target || !window.fetch) return;
  var timer = null;
  var latest = 0;
  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrftoken");
    params.delete("action");
    var ticket = ++latest;
    var base = form.getAttribute("data-preview-url");
    var url = base + (base.indexOf("?") >= 0 ? "&" : "?") + params.toString();
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== latest) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#schedule-preview");
        if (fresh) { target.replaceWith(fresh); target = fresh; }
      })
      .catch(function () { /* keep the last preview; the button still works */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 350); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();

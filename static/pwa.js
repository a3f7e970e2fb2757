/* Makes the site installable (issue 20): registers the service worker (/sw.js), which keeps
 * only the static files (never pages, API or clinical data). Where service workers are not
 * available (plain http on another host, old browsers) the site works as before. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the site works without it */ });
  });
})();

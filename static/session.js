/* Session limits, seen from the page (issue 18).
 * - Everywhere: a warning shortly before a session ends for inactivity, with a button to stay
 *   signed in, and a note once it has ended. Asking how long is left is not activity.
 * - On the live board: while the board's socket is live, the page tells the server the person
 *   is still there, so a facilitator running a 90-minute session is not signed out mid-meeting.
 * No framework, no inline script (the CSP allows only same-origin files). */
(function () {
  "use strict";
  var logout = document.querySelector("form.logout");
  if (!logout || !window.fetch) return; // not signed in, or a very old browser: pages still work
  var token = (logout.querySelector('input[name="csrftoken"]') || {}).value || "";
  var WARN_SECONDS = 120;
  var CHECK_EVERY = 30 * 1000;
  var BOARD_KEEP_ALIVE_EVERY = 4 * 60 * 1000;
  var banner = null;

  function askStatus() {
    return fetch("/session/status", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { session: true, seconds_left: 0 }; })
      .catch(function () { return null; }); // offline: say nothing
  }

  function keepAlive() {
    var body = new URLSearchParams();
    body.set("csrftoken", token);
    return fetch("/session/keepalive", {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }

  function boardIsLive() {
    var status = document.getElementById("conn-status");
    return !!document.getElementById("board") && !!status && status.dataset.state === "live";
  }

  function show(text, withButton) {
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "notice session-warning";
      banner.setAttribute("role", "alert");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(banner, main.firstChild);
    }
    banner.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    banner.appendChild(p);
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Stay signed in";
      button.addEventListener("click", function () { keepAlive().then(hide); });
      banner.appendChild(button);
    } else {
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      link.textContent = "Sign in again";
      banner.appendChild(link);
    }
  }

  function hide() {
    if (banner) { banner.remove(); banner = null; }
  }

  function check() {
    askStatus().then(function (s) {
      if (!s || !s.session) return;
      if (s.seconds_left <= 0) {
        show("Your session has ended. What you typed on this page is still here: copy it, then sign in again.", false);
      } else if (s.seconds_left <= WARN_SECONDS && s.ends_for === "inactivity") {
        var minutes = Math.max(1, Math.round(s.seconds_left / 60));
        show("You will be signed out in about " + minutes + " minute" + (minutes === 1 ? "" : "s") +
             " because nothing happened on this page.", true);
      } else if (s.seconds_left <= WARN_SECONDS) {
        show("Your session reaches its time limit in about " + Math.max(1, Math.round(s.seconds_left / 60)) +
             " minutes; you will then sign in again.", false);
      } else {
        hide();
      }
    });
  }

  setInterval(check, CHECK_EVERY);
  setInterval(function () { if (boardIsLive()) keepAlive(); }, BOARD_KEEP_ALIVE_EVERY);
  window.groupiptSession = { check: check, keepAlive: keepAlive, boardIsLive: boardIsLive };
})();

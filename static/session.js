/* Session limits, seen from the page (issue 18).
 * - Everywhere: a warning shortly before a session ends for inactivity, with a button to stay
 *   signed in, and a note once it has ended. Asking how long is left is not activity.
 * - On the live board: while the board's socket is live, the page tells the server the person
 *   is still there, so a facilitator running a 90-minute session is not signed out mid-meeting.
 * - Keeping what was typed across signing in again: when the session has ended, or a form is
 *   sent and the server answers with the sign-in page, the page's form fields are kept in
 *   this tab's sessionStorage (never passwords, hidden or file fields). After signing in, the
 *   person is brought back to that page and the fields are filled in again, once, if the
 *   same person signed in. Signing out forgets them, and the board's unsent commands.
 * No framework, no inline script (the CSP allows only same-origin files). */
(function () {
  "use strict";
  var DRAFT = "groupipt:draft";
  var DRAFT_LIFETIME = 60 * 60 * 1000; // an hour: longer and it is someone else's morning
  var logout = document.querySelector("form.logout");
  keepTyping(logout);
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
      link.addEventListener("click", function () { saveDraft("expired", null); }); // what was typed since
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
        saveDraft("expired", null);
        show("Your session has ended. Sign in again: what you typed on this page will be filled in again.", false);
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

  // --- keeping what was typed ---------------------------------------------------------------

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; } // disabled storage: do without
  }

  function readDraft() {
    var store = storage();
    if (!store) return null;
    try {
      var draft = JSON.parse(store.getItem(DRAFT) || "null");
      if (draft && Date.now() - draft.at < DRAFT_LIFETIME) return draft;
    } catch (e) { /* unreadable: forget it */ }
    store.removeItem(DRAFT);
    return null;
  }

  function writeDraft(draft) {
    var store = storage();
    if (!store) return;
    if (draft) { store.setItem(DRAFT, JSON.stringify(draft)); } else { store.removeItem(DRAFT); }
  }

  // Signing out also forgets the live board's unsent commands (static/board/outbox.js).
  function forgetOutboxes() {
    var store = storage();
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf("groupipt:outbox:") === 0) store.removeItem(key);
    }
  }

  function kept(field) {
    if (!field.name || field.disabled || field.name === "csrftoken") return false;
    var type = (field.type || "").toLowerCase();
    return ["password", "hidden", "file", "submit", "button", "reset", "image"].indexOf(type) < 0;
  }

  function pathOf(url) {
    var a = document.createElement("a");
    a.href = url || location.href;
    return a.pathname + a.search;
  }

  function snapshot(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!kept(field)) return;
      var checkable = field.type === "checkbox" || field.type === "radio";
      fields.push([field.name, field.value, checkable ? field.checked : null]);
    });
    return fields;
  }

  function typedSomething(form) {
    return Array.prototype.some.call(form.elements, function (field) {
      if (!kept(field)) return false;
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return field.value !== field.defaultValue;
    });
  }

  function saveDraft(state, sentForm) {
    var forms = [];
    Array.prototype.forEach.call(document.forms, function (form, index) {
      if (form === logout || form.dataset.keep === "no") return;
      if (form === sentForm || (!sentForm && typedSomething(form))) {
        forms.push({ index: index, action: pathOf(form.action), fields: snapshot(form) });
      }
    });
    if (!forms.length) return;
    writeDraft({ state: state, page: location.pathname + location.search, who: whoText(logout), at: Date.now(),
                 forms: forms });
  }

  function whoText(form) {
    var who = form && form.querySelector(".who");
    return who ? who.textContent.trim() : "";
  }

  function restore(draft) {
    var restored = false;
    draft.forms.forEach(function (saved) {
      var form = document.forms[saved.index];
      if (!form || pathOf(form.action) !== saved.action) return;
      saved.fields.forEach(function (entry) {
        var name = entry[0], value = entry[1], checked = entry[2];
        Array.prototype.forEach.call(form.elements, function (field) {
          if (field.name !== name || !kept(field)) return;
          if (checked !== null) {
            if (field.value === value) field.checked = checked;
          } else if (field.value !== value) {
            field.value = value;
            restored = true;
          }
        });
      });
    });
    if (!restored) return;
    var note = document.createElement("p");
    note.className = "notice draft-restored";
    note.setAttribute("role", "status");
    note.textContent = "What you typed before signing in again is back in the form. Check it, then send it.";
    var main = document.getElementById("main") || document.body;
    main.insertBefore(note, main.firstChild);
  }

  function keepTyping(signedIn) {
    var draft = readDraft();
    var login = document.querySelector('form[action="/login"]');
    if (!signedIn) {
      // The sign-in page: if it came from the page being typed on, go back there afterwards.
      if (draft && login && draft.state !== "signing-in") {
        var next = login.querySelector('input[name="next"]');
        var from = next ? next.value : "/";
        var ours = draft.state === "expired" || draft.forms.some(function (f) { return f.action === from; }) ||
                   from === draft.page;
        if (ours) {
          document.querySelectorAll('input[name="next"]').forEach(function (input) { input.value = draft.page; });
          draft.state = "signing-in";
          writeDraft(draft);
        } else {
          writeDraft(null);
        }
      }
      return;
    }
    signedIn.addEventListener("submit", function () { writeDraft(null); forgetOutboxes(); });
    if (draft) {
      if (draft.state === "sent") {
        writeDraft(null); // the form went through (or was answered on its own page)
      } else if (draft.page === location.pathname + location.search) {
        writeDraft(null);
        if (draft.who === whoText(signedIn)) restore(draft);
      }
    }
    // Bubbling, so that a page's own handler (the board's, sending over its socket) has had
    // its say: a form it keeps from being sent is not one the server may answer with sign-in.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented || form === signedIn || form.dataset.keep === "no") return;
      saveDraft("sent", form);
    });
  }

  setInterval(check, CHECK_EVERY);
  setInterval(function () { if (boardIsLive()) keepAlive(); }, BOARD_KEEP_ALIVE_EVERY);
  window.groupiptSession = { check: check, keepAlive: keepAlive, boardIsLive: boardIsLive, draft: readDraft };
})();

// Suggestions while a coordinator types a member's name or e-mail on the enrollment form
// (issue 15). The search field becomes a combobox with a listbox of suggestions, after the
// WAI-ARIA Authoring Practices "list autocomplete" pattern: Down and Up move through them,
// Enter picks one, Escape closes them; a polite status line says how many were found and
// who was chosen. Picking puts the member among the form's choices as a checked radio
// button, the same field (member_id) the Search button's page gives without JavaScript.
(function () {
  "use strict";
  var input = document.getElementById("member_q");
  var list = document.getElementById("member_q-suggestions");
  var status = document.getElementById("member_q-status");
  var choice = document.getElementById("member-choice");
  if (!input || !list || !status || !choice || !window.fetch) return;
  var url = input.getAttribute("data-suggest-url");
  var MIN_LETTERS = 2;
  var PAUSE_MS = 250;
  var timer = null;
  var latest = 0;
  var found = [];
  var active = -1;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  function announce(text) { status.textContent = text; }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function open() {
    if (!found.length) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function describe(member) { return member.name + " (" + member.email + ")"; }

  function show(members, more) {
    found = members;
    active = -1;
    list.textContent = "";
    members.forEach(function (member, index) {
      var option = document.createElement("li");
      option.id = "member-suggestion-" + member.id;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = describe(member);
      // mousedown, not click: the field keeps its focus, so its blur does not close the list first.
      option.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
      list.appendChild(option);
    });
    if (!members.length) {
      close();
      announce("No member who can still join this cohort matches.");
      return;
    }
    open();
    announce((more ? "More than " + members.length : members.length) +
             (members.length === 1 && !more ? " member" : " members") + " found: press the down arrow to choose.");
  }

  function highlight(index) {
    var options = list.querySelectorAll("[role=option]");
    options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  }

  function radio(value, text, checked) {
    var label = document.createElement("label");
    label.className = "inline";
    var button = document.createElement("input");
    button.type = "radio";
    button.name = "member_id";
    button.value = value;
    button.id = value ? "member-" + value : "member-none";
    button.checked = checked;
    label.appendChild(button);
    label.appendChild(document.createTextNode(" " + text));
    var line = document.createElement("div");
    line.appendChild(label);
    return line;
  }

  function pick(index) {
    var member = found[index];
    if (!member) return;
    var set = document.createElement("fieldset");
    set.id = "member-matches";
    var legend = document.createElement("legend");
    legend.textContent = "Choose the member";
    set.appendChild(legend);
    set.appendChild(radio(String(member.id), describe(member), true));
    set.appendChild(radio("", "None of these: a new person (fill in below)", false));
    choice.textContent = "";
    choice.appendChild(set);
    input.value = member.name;
    close();
    announce("Chosen: " + describe(member) + ".");
  }

  function lookup() {
    var typed = input.value.trim();
    var ticket = ++latest;
    if (typed.length < MIN_LETTERS) { found = []; close(); return; }
    fetch(url + "?q=" + encodeURIComponent(typed), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        var json = (response.headers.get("content-type") || "").indexOf("application/json") === 0;
        return response.ok && json ? response.json() : null;
      })
      .then(function (body) {
        if (body && ticket === latest) show(body.members || [], Boolean(body.more));
      })
      .catch(function () { /* no suggestions; the Search button still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, PAUSE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && found.length) {
      event.preventDefault();
      open();
      highlight(Math.min(active + 1, found.length - 1));
    } else if (event.key === "ArrowUp" && !list.hidden) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();  // pick, rather than send the form's search
      pick(active);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", close);
})();

/* The live board client: plain JavaScript, no build step.
 *
 * It keeps the server's view of the board (a snapshot, then the changed sections each
 * event carries), reconnects by itself with backoff and resumes with hello {last_seq},
 * retries unacknowledged commands with the same id (the server treats them as one), and
 * shows timers from the server's clock, corrected for skew, never running backwards.
 * Protocol: server/board/PROTOCOL.md.
 */
(function () {
  "use strict";

  var root = document.getElementById("board");
  var dataNode = document.getElementById("board-data");
  if (!root || !dataNode) return;
  var boot = JSON.parse(dataNode.textContent);
  var client = boot.client;
  var isFacilitator = client.view === "facilitator";

  var view = boot.state;          // what the server says the board looks like
  var lastSeq = 0;                // highest seq applied; 0 = take a snapshot
  var epoch = null;
  var ws = null;
  var attempt = 0;
  var stopped = false;
  var synced = false;
  var pending = {};               // command id -> {command, data, sent}
  var nextId = 0;
  var offset = 0;                 // server clock minus ours, in ms
  var bestRtt = Infinity;
  var shownTimers = {};           // timer key -> smallest remaining shown (never backwards)
  var activity = [];

  var FEEDBACK_LABELS = {
    protagonist: "The protagonist: how did that feel?",
    counterpart: "The counterpart",
    observers: "Observers: positive feedback",
    facilitator: "Facilitator"
  };
  var STAGE_LABELS = {
    practice: "Practice", role_reversal: "Role reversal", feedback: "Feedback round",
    next_step: "Next step for the week"
  };
  var ATTENDANCE = [
    ["present", "Present"], ["late", "Late"], ["absent_notified", "Absent (told us)"],
    ["absent_unnotified", "Absent (no word)"]
  ];

  // ------------------------------------------------------------------ helpers

  function $(id) { return document.getElementById(id); }
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function serverNow() { return Date.now() + offset; }
  function memberLabel(id) {
    var m = view.members && view.members[id];
    if (!m) return "Member";
    return isFacilitator ? m.name : m.label;
  }
  function facilitatorLabel(id) {
    var f = view.facilitators && view.facilitators[id];
    if (!f) return "Facilitator";
    return isFacilitator ? f.name : f.label;
  }
  function counterpartLabel(cp) {
    if (!cp) return "";
    return cp.kind === "facilitator" ? facilitatorLabel(cp.id) : memberLabel(cp.id);
  }
  function button(label, action, attrs) {
    var extra = "";
    attrs = attrs || {};
    Object.keys(attrs).forEach(function (k) { extra += " data-" + k + '="' + esc(attrs[k]) + '"'; });
    return '<button type="button" class="secondary" data-action="' + esc(action) + '"' + extra + ">" +
      esc(label) + "</button>";
  }

  function setStatus(state, text) {
    var node = $("conn-status");
    if (!node) return;
    node.dataset.state = state;
    node.textContent = text;
    root.classList.toggle("is-offline", state !== "live");
  }
  var toastTimer = null;
  function toast(text) {
    var node = $("toast");
    if (!node) return;
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.hidden = true; }, 6000);
  }

  // ------------------------------------------------------------------ connection

  function connect() {
    if (stopped) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? "Reconnecting…" : "Connecting…");
    synced = false;
    try {
      ws = new WebSocket(scheme + location.host + client.ws_path);
    } catch (err) {
      scheduleReconnect();
      return;
    }
    ws.onmessage = function (msg) { lastHeard = Date.now(); receive(JSON.parse(msg.data)); };
    ws.onopen = function () { lastHeard = Date.now(); };
    ws.onclose = function (ev) {
      ws = null;
      if (ev.code === 1008) {
        stopped = true;
        setStatus("stopped", "Disconnected: " + (ev.reason || "access to this board has ended") +
          ". Reload the page to try again.");
        return;
      }
      scheduleReconnect(ev.code === 1012 || ev.code === 1013);
    };
    ws.onerror = function () { /* onclose follows and reconnects */ };
  }

  function scheduleReconnect(soon) {
    if (stopped) return;
    attempt += 1;
    var base = soon && attempt < 3 ? 250 : Math.min(10000, 500 * Math.pow(2, attempt - 1));
    var delay = base / 2 + Math.random() * base / 2;
    setStatus("reconnecting", "Reconnecting… (changes you make now are sent when the board is back)");
    setTimeout(connect, delay);
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function command(name, data) {
    if (!isFacilitator) return;
    nextId += 1;
    var id = "c" + Date.now().toString(36) + "-" + nextId + "-" + Math.random().toString(36).slice(2, 7);
    pending[id] = {command: name, data: data || {}};
    if (synced) send({type: "command", id: id, command: name, data: data || {}});
    renderPending();
    return id;
  }

  function resendPending() {
    // Same ids again: a command that did commit before the connection dropped is
    // answered with its original ack instead of running twice.
    Object.keys(pending).forEach(function (id) {
      send({type: "command", id: id, command: pending[id].command, data: pending[id].data});
    });
  }

  function hello() {
    send({type: "hello", last_seq: lastSeq, epoch: epoch || ""});
  }

  function noteClock(serverMs, rtt) {
    if (typeof serverMs !== "number") return;
    // Prefer the estimate from the fastest round trip: its midpoint is closest to the truth.
    if (rtt !== undefined) {
      if (rtt <= bestRtt * 1.5 || rtt < 50) {
        bestRtt = Math.min(bestRtt, rtt);
        offset = serverMs - (Date.now() - rtt / 2);
      }
    } else if (bestRtt === Infinity) {
      offset = serverMs - Date.now();
    }
  }

  function receive(frame) {
    switch (frame.type) {
      case "welcome":
        if (epoch && frame.epoch !== epoch) lastSeq = 0;
        epoch = frame.epoch;
        noteClock(frame.now);
        hello();
        send({type: "ping", t: Date.now()});
        break;
      case "snapshot":
        view = frame.state;
        lastSeq = frame.seq;
        shownTimers = {};
        render();
        break;
      case "event":
        applyEvent(frame);
        break;
      case "synced":
        lastSeq = Math.max(lastSeq, frame.seq);
        synced = true;
        attempt = 0;
        setStatus("live", "Live");
        resendPending();
        render();
        break;
      case "ack":
        delete pending[frame.id];
        renderPending();
        break;
      case "error":
        if (frame.id) delete pending[frame.id];
        renderPending();
        toast(frame.message || frame.code);
        break;
      case "pong":
        if (typeof frame.t === "number") noteClock(frame.now, Date.now() - frame.t);
        break;
    }
  }

  function applyEvent(frame) {
    var event = frame.event;
    if (event.seq <= lastSeq) return;
    if (isFacilitator && lastSeq && event.seq !== lastSeq + 1) {
      hello();  // a gap: ask again from what we have
      return;
    }
    Object.keys(frame.view || {}).forEach(function (key) { view[key] = frame.view[key]; });
    Object.keys(frame.append || {}).forEach(function (key) { view[key] = (view[key] || []).concat(frame.append[key]); });
    lastSeq = event.seq;
    if (isFacilitator) {
      activity.unshift(event);
      activity = activity.slice(0, 30);
    }
    render();
  }

  // Heartbeat: a connection that stays silent past a ping is dead even if the browser
  // has not noticed (a tablet leaving the wifi); drop it and reconnect.
  var lastHeard = Date.now();
  setInterval(function () {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > 25000) { ws.close(4000, "no answer"); return; }
    send({type: "ping", t: Date.now()});
  }, 10000);

  // ------------------------------------------------------------------ timers

  function remaining(timer) {
    var elapsed = timer.elapsed_ms;
    if (timer.running) elapsed += Math.max(0, serverNow() - timer.started_at_ms);
    var ms = Math.max(0, timer.duration_ms - elapsed);
    // The same timer (same revision) only ever counts down on screen, even when our
    // estimate of the server's clock improves; a new revision (extend, resume) resets.
    var key = timer.name + ":" + timer.rev;
    if (shownTimers[key] !== undefined && ms > shownTimers[key]) ms = shownTimers[key];
    shownTimers[key] = ms;
    return ms;
  }

  function clock(ms) {
    var total = Math.ceil(ms / 1000);
    var m = Math.floor(total / 60), s = total % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function timerHtml(timer) {
    if (!timer) return "";
    var ms = remaining(timer);
    return '<p class="timer' + (timer.running ? "" : " paused") + (ms === 0 ? " done" : "") +
      '" data-timer="' + esc(timer.name) + '" role="timer" aria-label="' + esc(timer.label) + ' remaining">' +
      '<span class="timer-label">' + esc(timer.label) + "</span> " +
      '<span class="timer-value">' + clock(ms) + "</span>" + (timer.running ? "" : " <small>(paused)</small>") +
      "</p>";
  }

  setInterval(function () {
    var timers = view.timers || {};
    document.querySelectorAll("[data-timer]").forEach(function (node) {
      var timer = timers[node.dataset.timer];
      if (!timer) return;
      var ms = remaining(timer);
      var value = node.querySelector(".timer-value");
      if (value) value.textContent = clock(ms);
      node.classList.toggle("done", ms === 0);
    });
  }, 250);

  // ------------------------------------------------------------------ rendering

  function render() {
    if (view.status === "new") return;
    renderCurrentTurn();
    renderQueue();
    renderCheckin();
    renderAgenda();
    renderGoals();
    if (isFacilitator) {
      renderAttendance();
      renderSafety();
      renderNotes();
      renderForms();
      renderUndo();
      renderActivity();
    }
    root.classList.toggle("is-closed", view.status === "closed");
  }

  function renderCurrentTurn() {
    var node = $("current-turn");
    var tid = view.active_turn;
    if (!tid || !view.turns[tid]) {
      node.innerHTML = '<p class="quiet muted">No role play running.</p>';
      return;
    }
    var t = view.turns[tid];
    var html = '<p class="turn-who"><strong>' + esc(memberLabel(t.protagonist)) + "</strong> practises with " +
      esc(counterpartLabel(t.counterpart)) + " as <em>" + esc(t.role_label) + "</em></p>";
    html += '<p class="stage" data-stage="' + esc(t.stage) + '">' + esc(STAGE_LABELS[t.stage] || t.stage) +
      (t.status === "paused" ? " · paused" : "") + "</p>";
    if (t.stage === "feedback") {
      html += '<ol class="feedback-order">';
      ["protagonist", "counterpart", "observers", "facilitator"].forEach(function (s) {
        html += '<li class="' + (s === t.feedback_stage ? "now" : "") + '"' +
          (s === t.feedback_stage ? ' aria-current="step"' : "") + ">" + esc(FEEDBACK_LABELS[s]) + "</li>";
      });
      html += "</ol>";
    }
    html += timerHtml(view.timers.turn);
    if (isFacilitator) {
      if (t.scenario) html += '<p class="scenario">' + esc(t.scenario) + "</p>";
      html += '<div class="actions">';
      html += t.status === "paused" ? button("Resume (p)", "resume_turn", {turn: tid}) :
        button("Pause (p)", "pause_turn", {turn: tid});
      html += button("+2 min", "extend_turn", {turn: tid});
      if (t.stage === "practice") html += button("Role reversal (r)", "start_role_reversal", {turn: tid});
      if (t.stage === "practice" || t.stage === "role_reversal") html += button("Start feedback (f)", "start_feedback", {turn: tid});
      if (t.stage === "feedback") html += button("Next voice (f)", "next_feedback", {turn: tid, stage: t.feedback_stage});
      html += button("End turn (e)", "end_turn", {turn: tid});
      html += "</div>";
      html += '<form class="next-step" data-turn="' + esc(tid) + '"><label for="next-step">Next step for the week</label>' +
        '<input id="next-step" name="text" maxlength="1000" value="' + esc(t.next_step) + '">' +
        '<button type="submit" class="secondary">Save next step</button></form>';
    }
    var focused = document.activeElement && document.activeElement.id === "next-step";
    if (focused) return;  // don't wipe what a facilitator is typing
    node.innerHTML = html;
  }

  function renderQueue() {
    var node = $("queue");
    var html = "";
    (view.queue || []).forEach(function (tid, i) {
      var t = view.turns[tid];
      if (!t) return;
      html += '<li data-turn="' + esc(tid) + '"><span class="who">' + esc(memberLabel(t.protagonist)) + "</span> " +
        '<span class="role">with ' + esc(counterpartLabel(t.counterpart)) + " as " + esc(t.role_label) + "</span>";
      if (isFacilitator) {
        html += '<span class="actions">' + button("Start", "start_turn", {turn: tid}) +
          (i > 0 ? button("↑", "move_up", {turn: tid}) : "") +
          (i < view.queue.length - 1 ? button("↓", "move_down", {turn: tid}) : "") +
          button("Skip", "skip_turn", {turn: tid}) + "</span>";
      }
      html += "</li>";
    });
    node.innerHTML = html || '<li class="quiet muted">Nobody is waiting.</li>';
  }

  function renderCheckin() {
    var node = $("checkin");
    if (!node) return;
    var c = view.checkin;
    var html = "";
    if (c && !c.done && c.index !== null) {
      html += '<p class="checkin-now">Check-in: <strong>' + esc(memberLabel(c.order[c.index])) + "</strong>" +
        ' <small class="muted">(' + (c.index + 1) + " of " + c.order.length + ")</small></p>";
      if (isFacilitator) {
        html += button("Next member (n)", "next_checkin", {current: c.order[c.index]}) +
          button("End round", "end_checkin");
      }
    } else if (isFacilitator) {
      html += '<p class="muted">' + (c && c.done ? "Check-in round done." : "Not started.") + "</p>" +
        button("Start check-in round", "start_checkin");
    }
    node.innerHTML = html;
  }

  function renderAgenda() {
    var node = $("agenda");
    if (!node) return;
    var t = view.timers && view.timers.agenda;
    var html = timerHtml(t);
    if (isFacilitator) {
      if (t) {
        html += (t.running ? button("Pause", "pause_timer") : button("Resume", "resume_timer")) +
          button("+5 min", "extend_agenda") + button("Stop", "stop_timer");
      } else {
        html += '<form id="agenda-form" class="inline-form"><label for="agenda-label">Segment</label>' +
          '<input id="agenda-label" name="label" maxlength="80" value="Check-in">' +
          '<label for="agenda-minutes">Minutes</label><input id="agenda-minutes" name="minutes" type="number" min="1" max="240" value="15">' +
          '<button type="submit" class="secondary">Start timer</button></form>';
      }
    }
    if (node.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    node.innerHTML = html;
  }

  function renderGoals() {
    var node = $("goals");
    var goals = view.goals || {};
    var html = "";
    var groupGoals = [], memberGoals = {};
    Object.keys(goals).forEach(function (gid) {
      var g = goals[gid];
      if (g.member) (memberGoals[g.member] = memberGoals[g.member] || []).push(g);
      else groupGoals.push(g);
    });
    if (!isFacilitator) {
      groupGoals.forEach(function (g) {
        html += '<li data-goal="' + esc(g.id) + '">' + esc(g.revised_text || g.text) +
          (g.status !== "active" ? ' <span class="badge">' + esc(g.status) + "</span>" : "") +
          (g.rating !== null ? ' <span class="rating" aria-label="progress ' + g.rating + ' of 4">' +
            "●".repeat(g.rating) + "○".repeat(4 - g.rating) + "</span>" : "") + "</li>";
      });
      node.innerHTML = html || '<li class="quiet">No group goals yet.</li>';
      return;
    }
    function goalRow(g) {
      var row = '<div class="goal" data-goal="' + esc(g.id) + '"><p>' + esc(g.revised_text || g.text) +
        ' <span class="badge">' + esc(g.status) + "</span></p>";
      row += '<div class="rating-buttons" role="group" aria-label="Progress this session">';
      for (var r = 0; r <= 4; r++) {
        row += '<button type="button" class="secondary' + (g.rating === r ? " chosen" : "") +
          '" data-action="rate_goal" data-goal="' + esc(g.id) + '" data-rating="' + r + '" aria-pressed="' +
          (g.rating === r) + '">' + r + "</button>";
      }
      row += '</div><label class="inline">Status <select data-action="set_goal_status" data-goal="' + esc(g.id) + '">';
      ["active", "achieved", "revised", "dropped"].forEach(function (s) {
        row += '<option value="' + s + '"' + (g.status === s ? " selected" : "") + ">" + s + "</option>";
      });
      row += "</select></label></div>";
      return row;
    }
    html += "<h3>Group goals</h3>" + (groupGoals.map(goalRow).join("") || '<p class="muted">None.</p>');
    Object.keys(view.members || {}).forEach(function (mid) {
      var mark = view.attendance && view.attendance[mid];
      if (mark && mark.status !== "present" && mark.status !== "late") return;
      if (!memberGoals[mid]) return;
      html += "<h3>" + esc(memberLabel(mid)) + "</h3>" + memberGoals[mid].map(goalRow).join("");
    });
    if (node.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
    node.innerHTML = html;
  }

  function renderAttendance() {
    var node = $("attendance");
    var html = "";
    Object.keys(view.members || {}).forEach(function (mid) {
      var m = view.members[mid];
      var mark = view.attendance[mid];
      html += '<li data-member="' + esc(mid) + '"><span class="who">' + esc(m.name) + "</span>" +
        '<label class="visually-hidden" for="att-' + esc(mid) + '">Attendance of ' + esc(m.name) + "</label>" +
        '<select id="att-' + esc(mid) + '" data-action="mark_attendance" data-member="' + esc(mid) + '">' +
        '<option value="">not marked</option>';
      ATTENDANCE.forEach(function (a) {
        html += '<option value="' + a[0] + '"' + (mark && mark.status === a[0] ? " selected" : "") + ">" + a[1] + "</option>";
      });
      html += "</select>";
      html += '<input class="reason" data-member="' + esc(mid) + '" aria-label="Private reason for ' + esc(m.name) +
        '" placeholder="private reason" maxlength="500" value="' + esc(mark ? mark.reason : "") + '">';
      html += "</li>";
    });
    if (node.contains(document.activeElement)) return;
    node.innerHTML = html || '<li class="muted">No enrolled members.</li>';
  }

  function renderSafety() {
    var node = $("safety");
    var items = view.safety || [];
    node.hidden = items.length === 0;
    $("safety-list").innerHTML = items.map(function (s) {
      var what = s.source === "disclosure" ? "disclosed in session" : "PHQ-9 item 9 answered " + esc(s.item9);
      return "<li>" + esc(memberLabel(s.member)) + ": " + what + " (open since " + esc((s.opened_at || "").slice(0, 10)) +
        (s.due_at ? ", contact due by " + esc(new Date(s.due_at).toLocaleString()) : "") +
        ') <a href="/safety/' + esc(s.id) + '">risk check</a></li>';
    }).join("");
  }

  function renderNotes() {
    $("notes").innerHTML = (view.notes || []).slice().reverse().map(function (n) {
      return "<li><small class=\"muted\">" + esc((n.at || "").slice(11, 16)) + (n.member ? " · " + esc(memberLabel(n.member)) : "") +
        "</small> " + esc(n.text) + "</li>";
    }).join("");
  }

  var formsFor = null;
  function renderForms() {
    var key = JSON.stringify([Object.keys(view.members || {}), Object.keys(view.goals || {}), view.attendance]);
    if (key === formsFor) return;
    formsFor = key;
    var members = Object.keys(view.members || {});
    function present(mid) {
      var mark = view.attendance[mid];
      return !mark || mark.status === "present" || mark.status === "late";
    }
    var prot = $("t-protagonist"), cp = $("t-counterpart"), goal = $("t-goal"), noteMember = $("note-member");
    var keepProt = prot.value, keepCp = cp.value, keepGoal = goal.value;
    prot.innerHTML = members.filter(present).map(function (mid) {
      return '<option value="' + esc(mid) + '">' + esc(memberLabel(mid)) + "</option>";
    }).join("");
    var cps = Object.keys(view.facilitators || {}).map(function (fid) {
      return '<option value="facilitator:' + esc(fid) + '">' + esc(facilitatorLabel(fid)) + " (facilitator)</option>";
    });
    members.filter(present).forEach(function (mid) {
      cps.push('<option value="member:' + esc(mid) + '">' + esc(memberLabel(mid)) + " (volunteer)</option>");
    });
    cp.innerHTML = cps.join("");
    if (keepProt) prot.value = keepProt;
    if (keepCp) cp.value = keepCp;
    updateGoalOptions(keepGoal);
    noteMember.innerHTML = '<option value="">The group</option>' + members.map(function (mid) {
      return '<option value="' + esc(mid) + '">' + esc(memberLabel(mid)) + "</option>";
    }).join("");
    $("labels-mode").value = view.display_labels || "first_name";
  }

  function updateGoalOptions(keep) {
    var goal = $("t-goal"), prot = $("t-protagonist").value;
    goal.innerHTML = '<option value="">None</option>' + Object.keys(view.goals || {}).filter(function (gid) {
      return view.goals[gid].member === prot;
    }).map(function (gid) {
      return '<option value="' + esc(gid) + '">' + esc(view.goals[gid].revised_text || view.goals[gid].text) + "</option>";
    }).join("");
    if (keep) goal.value = keep;
  }

  function renderUndo() {
    var b = $("undo-btn");
    b.disabled = !view.undo || view.status !== "open";
    b.textContent = view.undo ? "Undo: " + describe(view.undo.type) : "Undo";
    b.dataset.seq = view.undo ? view.undo.seq : "";
  }

  function describe(type) { return type.replace(/_/g, " "); }

  function renderActivity() {
    $("activity").innerHTML = activity.map(function (e) {
      return '<li data-seq="' + e.seq + '"><small class="muted">#' + e.seq + " " + esc((e.at || "").slice(11, 19)) +
        "</small> " + esc(describe(e.type)) + (e.actor ? " · " + esc(e.actor.name) : "") + "</li>";
    }).join("");
  }

  function renderPending() {
    var n = Object.keys(pending).length;
    root.classList.toggle("has-pending", n > 0);
    if (n && synced) setStatus("live", "Live · saving " + n + "…");
    else if (synced) setStatus("live", "Live");
  }

  // ------------------------------------------------------------------ actions

  function moveInQueue(tid, delta) {
    var order = view.queue.slice();
    var i = order.indexOf(tid), j = i + delta;
    if (i < 0 || j < 0 || j >= order.length) return;
    order[i] = order[j];
    order[j] = tid;
    command("reorder_queue", {order: order});
  }

  function act(node) {
    var a = node.dataset.action, d = node.dataset;
    switch (a) {
      case "start_turn": case "pause_turn": case "resume_turn": case "end_turn": case "skip_turn":
      case "start_role_reversal": case "start_feedback":
        return command(a, {turn: d.turn});
      case "next_feedback": return command(a, {turn: d.turn, from_stage: d.stage});
      case "extend_turn": return command("extend_timer", {name: "turn", seconds: 120});
      case "move_up": return moveInQueue(d.turn, -1);
      case "move_down": return moveInQueue(d.turn, 1);
      case "start_checkin": case "end_checkin": return command(a, {});
      case "next_checkin": return command(a, {current: d.current});
      case "pause_timer": case "resume_timer": case "stop_timer": return command(a, {name: "agenda"});
      case "extend_agenda": return command("extend_timer", {name: "agenda", seconds: 300});
      case "rate_goal": return command(a, {goal: d.goal, rating: parseInt(d.rating, 10)});
    }
  }

  function undo() {
    if (!view.undo) return;
    command("undo", {seq: view.undo.seq});
  }

  if (isFacilitator) {
    root.addEventListener("click", function (ev) {
      var target = ev.target.closest("button[data-action]");
      if (target) act(target);
    });
    root.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t.dataset.action === "mark_attendance" && t.value) {
        var reason = root.querySelector('input.reason[data-member="' + t.dataset.member + '"]');
        command("mark_attendance", {member: t.dataset.member, status: t.value, reason: reason ? reason.value : ""});
      } else if (t.dataset.action === "set_goal_status") {
        var data = {goal: t.dataset.goal, status: t.value};
        if (t.value === "revised") {
          var text = window.prompt("The goal as revised:");
          if (!text) { render(); return; }
          data.text = text;
        }
        command("set_goal_status", data);
      } else if (t.id === "t-protagonist") {
        updateGoalOptions("");
      } else if (t.id === "labels-mode") {
        if (t.value !== view.display_labels) command("set_display_labels", {mode: t.value});
      } else if (t.classList.contains("reason")) {
        var select = $("att-" + t.dataset.member);
        if (select && select.value) command("mark_attendance", {member: t.dataset.member, status: select.value, reason: t.value});
      }
    });
    root.addEventListener("submit", function (ev) {
      var form = ev.target;
      ev.preventDefault();
      if (form.id === "add-turn") {
        var cp = form.counterpart.value.split(":");
        var data = {
          protagonist: form.protagonist.value, counterpart: {kind: cp[0], id: cp[1]},
          role_label: form.role_label.value, scenario: form.scenario.value,
          duration_s: Math.round(parseFloat(form.minutes.value || "10") * 60)
        };
        if (form.goal.value) data.goal = form.goal.value;
        command("add_turn", data);
        form.role_label.value = "";
        form.scenario.value = "";
      } else if (form.id === "note-form") {
        var note = {text: form.text.value};
        if (form.member.value) note.member = form.member.value;
        command("add_note", note);
        form.text.value = "";
      } else if (form.id === "agenda-form") {
        command("start_timer", {name: "agenda", label: form.label.value,
          duration_s: Math.round(parseFloat(form.minutes.value || "15") * 60)});
      } else if (form.classList.contains("next-step")) {
        command("record_next_step", {turn: form.dataset.turn, text: form.text.value});
        form.text.blur();
      }
    });
    $("undo-btn").addEventListener("click", undo);
    $("favour-btn").addEventListener("click", function () { command("favour_new_members", {}); });
    $("close-btn").addEventListener("click", function () {
      var unmarked = Object.keys(view.members || {}).filter(function (m) { return !view.attendance[m]; });
      var question = unmarked.length ?
        "Attendance is not marked for " + unmarked.length + " member(s). Close the session anyway?" :
        "Close the session? Attendance, turns, goal progress and notes are stored as its record.";
      var data = {confirm_unmarked: unmarked.length > 0};
      // Safety items of members who were in the room need a documented contact first (safety_open).
      var waiting = (view.safety || []).filter(function (s) {
        var mark = view.attendance[s.member];
        return !mark || mark.status === "present" || mark.status === "late";
      });
      if (waiting.length) {
        var reason = window.prompt(waiting.length + " safety item(s) of members who were here have no documented " +
          "contact yet. Record the risk check first; only a clinician may close anyway. Why close now?");
        if (!reason) return;
        data.confirm_safety_reason = reason;
      } else if (!window.confirm(question)) return;
      command("close_meeting", data);
    });

    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var tag = (ev.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) return;
      var tid = view.active_turn, t = tid && view.turns[tid];
      var handled = true;
      switch (ev.key) {
        case "s": if (!t && view.queue.length) command("start_turn", {turn: view.queue[0]}); break;
        case "p": if (t) command(t.status === "paused" ? "resume_turn" : "pause_turn", {turn: tid}); break;
        case "r": if (t && t.stage === "practice") command("start_role_reversal", {turn: tid}); break;
        case "f":
          if (t && (t.stage === "practice" || t.stage === "role_reversal")) command("start_feedback", {turn: tid});
          else if (t && t.stage === "feedback") command("next_feedback", {turn: tid, from_stage: t.feedback_stage});
          break;
        case "e": if (t) command("end_turn", {turn: tid}); break;
        case "n":
          var c = view.checkin;
          if (c && !c.done && c.index !== null) command("next_checkin", {current: c.order[c.index]});
          break;
        case "u": undo(); break;
        case "a":
          $("add-turn-box").open = true;
          $("t-protagonist").focus();
          break;
        default: handled = false;
      }
      if (handled) ev.preventDefault();
    });
  }

  window.addEventListener("offline", function () {
    if (ws) ws.close(4001, "offline");
    setStatus("reconnecting", "Reconnecting… (this device is offline)");
  });
  window.addEventListener("online", function () { if (!ws && !stopped) { attempt = 0; connect(); } });
  // Exposed for tests and for a curious facilitator's console; not an API.
  window.groupiptBoard = {
    get lastSeq() { return lastSeq; }, get view() { return view; }, get pending() { return pending; },
    get offset() { return offset; }
  };

  render();
  connect();
})();

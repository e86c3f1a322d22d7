/* Live pages: one WebSocket to /ws (session cookie auth), reconnected with backoff while a
   banner says so; the run page and the run list update from execution events. No build step. */
(function () {
  "use strict";

  var TERMINAL = ["completed", "failed", "cancelled", "timeout"];
  var NODE_ORDER = ["running", "review", "queued", "incomplete", "failed", "timeout", "cancelled"];
  var banner = document.getElementById("live-banner");

  function LiveSocket(onOpen, onMessage) {
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.attempt = 0;
    this.connected = false;
    this.connect();
  }
  LiveSocket.prototype.connect = function () {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws");
    this.socket = socket;
    socket.onopen = function () {
      self.attempt = 0;
      self.connected = true;
      document.body.dataset.live = "open";  // what a test (or a style) can wait for
      if (banner) banner.hidden = true;
      self.heartbeat = setInterval(function () { self.send("heartbeat", {}); }, 25000);
      self.onOpen(self);
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      self.onMessage(message);
    };
    socket.onclose = function (event) {
      clearInterval(self.heartbeat);
      self.connected = false;
      delete document.body.dataset.live;
      if (event.code === 4001 || event.code === 4003) {  // signed out: reconnecting cannot help
        if (banner) { banner.textContent = "Live updates stopped: sign in again."; banner.hidden = false; }
        return;
      }
      if (banner) { banner.textContent = "Reconnecting to live updates…"; banner.hidden = false; }
      var delay = Math.min(15000, 500 * Math.pow(2, self.attempt)) * (0.75 + Math.random() / 2);
      self.attempt += 1;
      setTimeout(function () { self.connect(); }, delay);
    };
  };
  LiveSocket.prototype.send = function (method, data) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ method: method, data: data }));
    }
  };

  /* A run that completed with failed nodes (SPEC §17) shows "completed with errors" in amber. */
  function setBadge(el, status, hasErrors) {
    if (!el) return;
    var withErrors = status === "completed" && hasErrors;
    el.dataset.status = status;
    el.textContent = withErrors ? "completed with errors" : status;
    el.className = el.className.replace(/status-\S+/, "status-" + (withErrors ? "completed-errors" : status));
  }

  function seconds(start, end) {
    if (!start || !end) return "–";
    var s = (Date.parse(end) - Date.parse(start)) / 1000;
    return s < 1 ? Math.round(s * 1000) + " ms" : s.toFixed(2) + " s";
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* Replace parts of the page with the server's current rendering (after the final event, or
     after a reconnect that may have missed events): no page reload. */
  var refreshing = Promise.resolve();
  function refresh(selectors, then) {
    refreshing = refreshing.then(function () { return refreshNow(selectors); }).then(then, then);
    return refreshing;
  }
  function refreshNow(selectors) {
    return fetch(location.href, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) return;
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        selectors.forEach(function (selector) {
          var now = document.querySelector(selector), next = fresh.querySelector(selector);
          if (now && next) now.replaceWith(next);
        });
      });
    });
  }

  function runPage() {
    var runId = document.body.dataset.run;
    var names = JSON.parse((document.getElementById("block-names") || {}).textContent || "{}");
    var byNode = {};  // node key -> {node execution id -> status}
    var finished = false;

    function nodeStatus(key) {
      var seen = Object.values(byNode[key] || {});
      for (var i = 0; i < NODE_ORDER.length; i++) if (seen.indexOf(NODE_ORDER[i]) >= 0) return NODE_ORDER[i];
      return seen.length ? "completed" : "idle";
    }

    function timelineRow(data) {
      var row = document.querySelector('.tl-row[data-exec="' + data.id + '"]');
      if (row) return row;
      var empty = document.querySelector("#timeline [data-empty]");
      if (empty) empty.remove();
      row = document.createElement("details");
      row.className = "tl-row";
      row.dataset.exec = data.id;
      row.dataset.node = data.node_id;
      var summary = document.createElement("summary");
      var name = document.createElement("span");
      name.className = "tl-name";
      name.textContent = (names[data.node_id] || data.node_id) + " #" + data.sequence;
      var badge = document.createElement("span");
      badge.className = "badge status-queued";
      badge.dataset.status = "";
      var time = document.createElement("span");
      time.className = "tl-time";
      time.dataset.seconds = "";
      var bar = document.createElement("span");
      bar.className = "tl-bar";
      summary.append(name, bar, badge, time);
      row.append(summary);
      document.getElementById("timeline").append(row);
      return row;
    }

    var LIVE_PARTS = ["#run-head", ".facts", "#run-outputs", "#timeline", ".dag-wrap", "#run-reviews"];

    function seed() {  // what the server rendered counts as seen
      var status = document.querySelector("#run-head [data-status]");
      if (status && TERMINAL.indexOf((status.dataset.status || status.textContent).trim()) >= 0) finished = true;
      byNode = {};
      document.querySelectorAll(".tl-row").forEach(function (row) {
        var badge = row.querySelector("[data-status]");
        (byNode[row.dataset.node] = byNode[row.dataset.node] || {})[row.dataset.exec] = badge.textContent.trim();
      });
    }
    seed();

    function onNode(data) {
      (byNode[data.node_id] = byNode[data.node_id] || {})[data.id] = data.status;
      var node = document.querySelector('.dag .node[data-node="' + data.node_id + '"]');
      if (node) node.setAttribute("class", "node status-" + nodeStatus(data.node_id));
      var row = timelineRow(data);
      setBadge(row.querySelector("[data-status]"), data.status);
      row.querySelector("[data-seconds]").textContent = seconds(data.started_at, data.ended_at);
    }

    function onRun(data) {
      setBadge(document.querySelector("#run-head [data-status]"), data.status, data.has_errors);
      var cost = document.querySelector('[data-field="cost"]');
      if (cost && data.stats && data.stats.cost !== undefined) cost.textContent = data.stats.cost;
      // A run waiting for a human review: its review card appears (and goes with the decision).
      if (data.status === "review" || data.status === "queued") refresh(LIVE_PARTS, seed);
      if (TERMINAL.indexOf(data.status) >= 0 && !finished) {
        finished = true;
        var stopForm = document.getElementById("stop-form");
        if (stopForm) stopForm.hidden = true;
        refresh(LIVE_PARTS, seed);
      }
    }

    // A node of the drawing opens its executions in the timeline.
    document.addEventListener("click", function (event) {
      var node = event.target.closest(".dag .node");
      if (!node) return;
      var rows = document.querySelectorAll('.tl-row[data-node="' + node.dataset.node + '"]');
      rows.forEach(function (row) { row.open = true; });
      if (rows.length) rows[0].scrollIntoView({ block: "center" });
    });

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.id !== "stop-form" || event.defaultPrevented) return;
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      button.textContent = "Stopping…";
      function failed() {
        button.disabled = false;
        button.textContent = "Stop (failed, try again)";
      }
      fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "fetch" }
      }).then(function (response) { if (!response.ok) failed(); }, failed);
    });

    // The `seq` of the last event of this run shown (SPEC §17), first the one the server
    // rendered: every (re)subscription gives it and the server replays what came after, then
    // goes live, each event once.
    var rendered = parseInt(document.body.dataset.lastSeq, 10);
    var lastSeq = isNaN(rendered) ? null : rendered, replaying = false;
    var channel = "exec." + runId;
    live(function (socket) {
      replaying = lastSeq !== null;
      socket.send("subscribe_graph_execution", replaying ? { graph_exec_id: runId, since_seq: lastSeq } : { graph_exec_id: runId });
    }, function (message) {
      // Subscribed without a seq: catch up with what happened between the render and now;
      // with one, the replay that follows the answer is the catching up.
      if (message.method === "subscribe_graph_execution" && message.success && !finished && !replaying) {
        refresh(LIVE_PARTS, seed);
        return;
      }
      if (message.channel !== channel || typeof message.seq !== "number") return;
      if (lastSeq !== null && message.seq <= lastSeq) return;  // a repeat (the watchdog's)
      lastSeq = message.seq;
      document.body.dataset.lastSeq = String(lastSeq);
      if (message.method === "node_execution_event") onNode(message.data);
      else if (message.method === "graph_execution_event") onRun(message.data);
    });
  }

  /* A list of runs (#run-list): rows follow their runs; on the first page, a run that
     starts (or reaches the list's status filter, data-new-runs) brings the list up to date.
     Runs of the graphs in data-graphs come through one subscription a graph; a row of another
     graph (a library agent's) subscribes to its run alone. */
  function runList(list) {
    var graphs = (list.dataset.graphs || "").split(" ").filter(Boolean);
    var opened = false, busy = false, again = false;
    function reload() {  // one page fetch at a time; events seen meanwhile fetch it once more
      if (busy) { again = true; return; }
      busy = true;
      refresh(["#run-list"], function () {
        busy = false;
        list = document.getElementById("run-list");
        if (again) { again = false; reload(); }
      });
    }
    live(function (socket) {
      graphs.forEach(function (id) { socket.send("subscribe_graph_executions", { graph_id: id }); });
      list.querySelectorAll("tr[data-live]").forEach(function (row) {
        if (graphs.indexOf(row.dataset.graph) < 0) socket.send("subscribe_graph_execution", { graph_exec_id: row.dataset.run });
      });
      if (opened) reload();  // a reconnect: events may have been missed
      opened = true;
    }, function (message) {
      if (message.method !== "graph_execution_event") return;
      var data = message.data;
      if (busy) again = true;
      var row = list.querySelector('tr[data-run="' + data.id + '"]');
      if (!row) {
        var wanted = list.dataset.newRuns;
        if (wanted !== undefined && (wanted === "" || wanted === data.status)) reload();
        return;
      }
      setBadge(row.querySelector("[data-status]"), data.status, data.has_errors);
      if (data.stats && data.stats.cost !== undefined) row.querySelector("[data-cost]").textContent = data.stats.cost;
      row.querySelector("[data-duration]").textContent = seconds(data.started_at, data.ended_at);
      if (TERMINAL.indexOf(data.status) >= 0) row.removeAttribute("data-live");
    });
  }

  /* Every signed-in page: the user's notifications (the consumer joins `user.<id>` on
     connect) bump the top bar's badge and show a toast. */
  function notificationToast(data) {
    var badge = document.querySelector('[data-nav-badge="notifications"]');
    if (badge && !data.is_read) {
      badge.textContent = (parseInt(badge.textContent, 10) || 0) + 1;
      badge.classList.remove("zero");
    }
    var box = document.getElementById("toasts");
    if (!box) return;
    // At most three at once, each closable, so they never cover a page for long.
    var toast = document.createElement("div");
    toast.className = "toast";
    var link = document.createElement("a");
    link.href = "/notifications";
    var title = document.createElement("strong");
    title.textContent = data.title || "New notification";
    link.append(title);
    if (data.message) {
      var text = document.createElement("span");
      text.textContent = data.message.length > 140 ? data.message.slice(0, 140) + "…" : data.message;
      link.append(text);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.append(link, close);
    box.append(toast);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(function () { toast.remove(); }, 6000);
    // The notifications page shows it in its list at once (the server renders the row).
    if (document.body.dataset.page === "notifications") refresh(["#notifications", ".pager"]);
  }

  /* The agent page's cron helper: the next runs, computed by the server with the schedules
     app's own crontab logic. */
  function cronHelper() {
    var helper = document.querySelector(".cron-helper");
    var cron = document.getElementById("id_cron"), zone = document.getElementById("id_timezone");
    if (!helper || !cron || !zone) return;
    var list = document.getElementById("cron-next"), error = document.getElementById("cron-error");
    var timer = null, asked = 0;
    function ask() {
      var mine = ++asked;
      var url = helper.dataset.previewUrl + "?cron=" + encodeURIComponent(cron.value) +
        "&timezone=" + encodeURIComponent(zone.value);
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.json().then(function (body) {
          if (mine !== asked) return;  // an answer to an older question
          list.replaceChildren();
          error.hidden = response.ok;
          if (!response.ok) { error.textContent = body.error || "Invalid cron expression."; return; }
          body.shown.forEach(function (text) {
            var item = document.createElement("li");
            item.textContent = text;
            list.append(item);
          });
        });
      });
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 250); }
    cron.addEventListener("input", later);
    zone.addEventListener("change", later);
  }

  /* The chat page: the reply streams in from the chat API's server-sent events, read with
     fetch and a ReadableStream. */
  function chatPage() {
    var form = document.getElementById("chat-form");
    if (!form) return;
    var input = document.getElementById("chat-input");
    // Looked up each time: a refresh replaces the list with the saved one.
    function messageList() { return document.getElementById("chat-messages"); }
    var error = document.getElementById("chat-error"), send = document.getElementById("chat-send");

    function bubble(role, text) {
      var empty = messageList().querySelector("[data-empty]");
      if (empty) empty.remove();
      var box = document.createElement("div");
      box.className = "bubble " + role;
      var body = document.createElement("div");
      body.className = "bubble-text";
      body.textContent = text;
      box.append(body);
      messageList().append(box);
      messageList().scrollTop = messageList().scrollHeight;
      return box;
    }
    function note(box, text) {
      var meta = document.createElement("div");
      meta.className = "muted small";
      meta.textContent = text;
      box.append(meta);
    }
    function fail(text) { error.textContent = text; error.hidden = false; }
    var sending = false;  // a message is posted and its reply has not started yet

    function readEvents(response, onEvent) {
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true });
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          parts.forEach(function (part) {
            var event = "message", data = "";
            part.split("\n").forEach(function (line) {
              if (line.indexOf("event: ") === 0) event = line.slice(7);
              else if (line.indexOf("data: ") === 0) data += line.slice(6);
            });
            try { onEvent(event, JSON.parse(data || "null")); } catch (e) { onEvent(event, null); }
          });
          return pump();
        });
      }
      return pump();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var content = input.value;
      if (!content.trim()) return;
      error.hidden = true;
      send.disabled = true;
      sending = true;
      fetch(form.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream",
                   "X-CSRFToken": csrfToken(form) },
        body: JSON.stringify({ content: content })
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/event-stream") < 0) {
          return response.text().then(function (text) {
            var message = "The message could not be sent (" + response.status + ").";
            try { message = JSON.parse(text).error.message || message; } catch (e) {
              var match = /data: (.*)/.exec(text);
              if (match) { try { message = JSON.parse(match[1]).error.message; } catch (e2) { /* keep */ } }
            }
            fail(message);
          });
        }
        input.value = "";
        bubble("user", content);
        var reply = bubble("assistant", ""), text = reply.querySelector(".bubble-text");
        var copilot = false;
        reply.classList.add("status-streaming");
        return readEvents(response, function (name, data) {
          if (name === "message_start" && data) {
            streaming[data.message_id] = true;
            sending = false;
            var early = messageList().querySelector('[data-message="' + data.message_id + '"]');
            if (early) early.remove();  // its first deltas came over /ws before this event
            reply.dataset.message = data.message_id;
          } else if (name === "delta" && data) { text.textContent += data.content; messageList().scrollTop = messageList().scrollHeight; }
          else if (name === "tool_call" && data) {
            // A copilot's step, shown as it happens; the saved list replaces these at the end.
            copilot = true;
            var call = document.createElement("div");
            call.className = "tool-call small";
            call.dataset.toolCall = data.tool_call_id;
            call.textContent = "Calls " + data.name + " …";
            reply.insertBefore(call, text);
          } else if (name === "tool_result" && data) {
            var pending = reply.querySelector('[data-tool-call="' + data.tool_call_id + '"]');
            if (pending) pending.textContent = "Called " + data.name + (data.result && data.result.error ? ": " + data.result.error : "");
          } else if (name === "done" && data) {
            reply.classList.replace("status-streaming", "status-completed");
            text.textContent = data.content;
            note(reply, data.cost + " credit" + (data.cost === 1 ? "" : "s"));
            if (copilot) refresh(["#chat-messages"]);  // the saved steps, proposals and runs
          } else if (name === "error") {
            if (copilot) refresh(["#chat-messages"]);
            reply.classList.replace("status-streaming", "status-failed");
            note(reply, "failed: " + ((data && data.message) || "the reply failed"));
          }
        });
      }).catch(function () { fail("The connection was lost; the reply is saved in the chat when it ends."); })
        .then(function () { send.disabled = false; sending = false; input.focus(); });
    });

    // Replies sent from another tab (or device) arrive over /ws: shown as they stream, then
    // the list is fetched again for the saved messages.
    var streaming = {};  // message ids this page streams itself
    live(function () {}, function (message) {
      var data = message.data || {};
      if (data.session_id !== form.dataset.session || streaming[data.message_id]) return;
      if (sending) return;  // most likely this page's own reply, ahead of its first event
      if (message.method === "chat_message_delta") {
        var box = messageList().querySelector('[data-message="' + data.message_id + '"]');
        if (!box) {
          box = bubble("assistant", "");
          box.dataset.message = data.message_id;
          box.classList.add("status-streaming");
        }
        box.querySelector(".bubble-text").textContent += data.content;
      } else if (message.method === "chat_message_done" || message.method === "chat_run") {
        refresh(["#chat-messages"]);
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = document.querySelector(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // One socket a page: each part adds what it sends on (re)connect and what it handles.
  var onOpens = [], onMessages = [function (message) {
    if (message.method === "notification" && message.data) notificationToast(message.data);
  }];
  function live(onOpen, onMessage) { onOpens.push(onOpen); onMessages.push(onMessage); }

  var page = document.body.dataset.page;
  if (page === "run") runPage();
  else if (page === "chat") chatPage();
  var runs = document.getElementById("run-list");
  if (runs) runList(runs);
  cronHelper();
  if (document.getElementById("toasts")) {
    new LiveSocket(function (socket) {
      onOpens.forEach(function (f) { f(socket); });
    }, function (message) {
      onMessages.forEach(function (f) { f(message); });
    });
  }
})();

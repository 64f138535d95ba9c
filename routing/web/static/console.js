// Concierge agent console: sign in (HttpOnly session cookie + CSRF token), see my queues live (Server-Sent Events)
// with SLA timers, take customers, read the packet, chat, note, transfer, close. Everything is rendered as text.
(function () {
  "use strict";
  const API = "/api/v1/agent";
  const OPEN_FOR_TAKING = ["waiting", "callback_requested", "ticket"];
  const MINE = ["assigned", "active"];
  const state = {csrf: null, me: null, selected: null, wanted: null, detail: null, stream: null, retry: null, drafts: {}};
  const $ = (id) => document.getElementById(id);
  const {el, describeError} = window.ConciergePages;  // pages.js

  // ---- HTTP ---------------------------------------------------------------------------------------------------
  async function api(path, options = {}) { return (await apiPage(path, options)).body; }

  // The answer's body, and whether a `Link: <...>; rel="next"` header says that more pages follow (lists are paged).
  async function apiPage(path, options = {}) {
    const headers = {"Content-Type": "application/json", ...(options.headers || {})};
    if (options.method && options.method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    const response = await fetch(API + path, {...options, headers, credentials: "same-origin"});
    if (response.status === 401) { showLogin("Your session ended; please sign in again."); throw new Error("Signed out."); }
    if (response.status === 204) return {body: null, more: false};
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(describeError(body, response.status));
    return {body, more: /rel="next"/.test(response.headers.get("Link") || "")};
  }

  // ---- rendering helpers (text only, never HTML) ------------------------------------------------------------------
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  }

  const money = (amount, currency) =>
    new Intl.NumberFormat("en-US", {style: "currency", currency: currency || "USD"}).format(amount);
  const day = (iso) => new Date(iso).toLocaleDateString("en-US", {year: "numeric", month: "short", day: "numeric"});

  // Timers count on the service's clock (its `now` in /web/config), not on this computer's: SLAs are the service's.
  let skew = 0;
  const serverNow = () => Date.now() + skew;
  fetch("/web/config").then((r) => r.json()).then((config) => {
    const at = Date.parse(config.now);
    if (!Number.isNaN(at)) skew = at - Date.now();
  }).catch(() => {});

  // A timer element: data-since (counts up) or data-due (counts down to the SLA, then shows how overdue).
  function timer(attrs) { const node = el("span", attrs); tick(node, serverNow()); return node; }

  function tick(node, now) {
    if (node.dataset.since) {
      node.textContent = (node.dataset.label || "") + clock((now - Date.parse(node.dataset.since)) / 1000);
      return;
    }
    if (!node.dataset.due) return;
    const left = (Date.parse(node.dataset.due) - now) / 1000;
    const overdue = left < 0;
    node.textContent = overdue ? `SLA overdue by ${clock(-left)}` : `SLA ${clock(left)} left`;
    node.classList.toggle("overdue", overdue);
    node.dataset.overdue = String(overdue);
  }

  setInterval(() => {
    const now = serverNow();
    document.querySelectorAll("[data-since], [data-due]").forEach((node) => tick(node, now));
  }, 1000);

  // The SLA of an escalation: ticking while nobody has answered, then met or missed.
  function slaNode(e, testid) {
    if (!e.sla_due_at) return el("span", {class: "sla", "data-testid": testid}, "no SLA");
    if (e.active_at) {
      const met = Date.parse(e.active_at) <= Date.parse(e.sla_due_at);
      return el("span", {class: "sla " + (met ? "met" : "overdue"), "data-testid": testid}, met ? "SLA met" : "SLA missed");
    }
    if (!OPEN_FOR_TAKING.includes(e.status) && !MINE.includes(e.status)) return el("span", {class: "sla", "data-testid": testid}, "");
    return timer({class: "sla", "data-due": e.sla_due_at, "data-testid": testid,
                  title: `first answer due within ${clock(e.sla_seconds || 0)}`});
  }

  // ---- sign in / out ------------------------------------------------------------------------------------------------
  function showLogin(message) {
    state.csrf = null; state.me = null; state.selected = null; state.wanted = null;
    if (state.stream) { state.stream.close(); state.stream = null; }
    clearTimeout(state.retry);
    $("app").hidden = true;
    $("app").dataset.live = "false";
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("detail").replaceChildren(el("p", {class: "empty"}, "Select or take an escalation."));
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    $("login-error").textContent = "";
    const response = await fetch(API + "/login", {
      method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: JSON.stringify({login: form.get("login"), password: form.get("password"), session: "cookie"}),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("login-error").textContent = describeError(body, response.status); return; }
    event.target.reset();
    state.csrf = body.csrf_token;
    start();
  });

  $("logout").addEventListener("click", async () => {
    try { await api("/logout", {method: "POST"}); } catch (err) { /* already signed out */ }
    showLogin("You signed out.");
  });

  function showPresence(status) {
    $("status").value = status;
    $("presence").textContent = {online: "● Online", away: "● Away", offline: "● Offline"}[status] || status;
    $("presence").className = "presence " + status;
    $("app").dataset.presence = status;
  }

  $("status").addEventListener("change", async (event) => {
    try { showPresence((await api("/status", {method: "POST", body: JSON.stringify({status: event.target.value})})).status); }
    catch (err) { $("claim-error").textContent = err.message; }
  });

  // ---- queues and escalation list (refreshed on every live event; one request at a time, latest wins) ---------------
  let refreshing = null, again = false;
  function refreshLists() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      try {
        do {
          again = false;
          const [queues, page] = await Promise.all([api("/queues"), apiPage("/escalations")]);
          renderLists(queues, page.body);
          $("escalations-more").hidden = !page.more;
        } while (again);
      } finally { refreshing = null; }
    })();
    return refreshing;
  }

  function renderLists(queues, list) {
    $("queues").replaceChildren(...queues.map((q) => {
      const li = el("li", {"data-queue": q.name, "data-waiting": q.waiting, "data-in-progress": q.in_progress});
      li.append(el("strong", {}, q.display_name), q.open ? "" : el("span", {class: "pill"}, "closed"),
        el("span", {class: "counts", "data-testid": "queue-counts"}, `${q.waiting} waiting · ${q.in_progress} in progress`));
      if (q.oldest_waiting_at) {
        li.append(timer({class: "oldest", "data-since": q.oldest_waiting_at, "data-label": "oldest waits ",
                         "data-testid": "queue-oldest"}));
      }
      return li;
    }));
    $("escalations").replaceChildren(...list.map((e) => {
      const li = el("li", {"data-id": e.id, "data-status": e.status, "data-conversation": e.conversation_id,
                           "data-queue": e.queue});
      const open = el("button", {type: "button", class: "open", "aria-label": `Open escalation ${e.id}`});
      open.append(el("span", {class: "pill " + e.tier}, e.tier), ` #${e.id} · ${e.queue} · ${e.status}`,
        el("span", {class: "intent"}, e.intent || e.reason || "—"));
      const times = el("span", {class: "times"});
      times.append(MINE.includes(e.status) && e.assigned_at
        ? timer({"data-since": e.assigned_at, "data-label": "with agent ", class: "wait"})
        : timer({"data-since": e.created_at, "data-label": "waits ", class: "wait"}), slaNode(e, "sla-timer"));
      open.append(times);
      open.addEventListener("click", () => select(e.id).catch((err) => { $("claim-error").textContent = err.message; }));
      li.append(open);
      if (state.selected === e.id) li.classList.add("selected");
      return li;
    }));
  }

  $("claim-next").addEventListener("click", async () => {
    $("claim-error").textContent = "";
    try {
      const claimed = await api("/escalations/claim-next", {method: "POST", body: JSON.stringify({queues: null})});
      if (!claimed) { $("claim-error").textContent = "Nobody is waiting in your queues."; return; }
      await select(claimed.id);
      await refreshLists();
    } catch (err) { $("claim-error").textContent = err.message; }
  });

  // ---- one escalation -------------------------------------------------------------------------------------------
  async function select(id) {
    state.wanted = id;  // the latest choice wins: an older answer that arrives late is dropped
    const [detail, canned] = await Promise.all([api(`/escalations/${id}`), api(`/escalations/${id}/canned-replies`)]);
    if (state.wanted !== id) return;
    if (state.selected !== null && state.selected !== id) state.drafts = {};
    state.selected = id;
    renderDetail(detail, canned);
    document.querySelectorAll("#escalations li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.id) === id));
  }

  // What the agent typed or chose, and the focus, survive a re-render caused by a live update.
  const DRAFT_FIELDS = ["reply-input", "note-input", "transfer-reason", "transfer-queue", "disposition", "canned-select"];

  function keepDrafts(host) {
    const focused = document.activeElement && host.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
    for (const name of DRAFT_FIELDS) {
      const input = host.querySelector(`[data-testid=${name}]`);
      if (input) state.drafts[name] = input.value;
    }
    return focused;
  }

  function restoreDrafts(host) {
    for (const name of DRAFT_FIELDS) {
      const input = host.querySelector(`[data-testid=${name}]`), value = state.drafts[name];
      if (!input || value === undefined) continue;
      if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === value)) continue;
      input.value = value;
    }
  }

  function renderDetail(d, canned) {
    const host = $("detail");
    const again = state.detail && state.detail.id === d.id;
    const focused = again ? keepDrafts(host) : null;
    if (again) {  // a snapshot fetched before a live message arrived must not drop that message
      const known = new Set((d.messages || []).map((m) => m.id));
      d.messages = (d.messages || []).concat((state.detail.messages || []).filter((m) => !known.has(m.id)))
        .sort((a, b) => a.id - b.id);
    }
    state.detail = d;
    host.replaceChildren($("detail-template").content.cloneNode(true));
    host.dataset.id = d.id;
    const field = (name) => host.querySelector(`[data-field=${name}]`);
    const c = d.customer;
    field("customer").textContent = d.customer_name || (d.contact && d.contact.name) || "Guest";
    field("tier").textContent = d.tier;
    field("tier").classList.add(d.tier);
    field("status").textContent = d.status;
    field("sla").replaceWith(slaNode(d, "packet-sla"));
    field("tier_reason").textContent = d.tier_reason || "—";
    field("lifetime_value").textContent = c && c.lifetime_value !== null
      ? `${money(c.lifetime_value)} (spent ${money((c.lifetime_spend_cents || 0) / 100)} over ${c.orders_total} orders)`
      : "— (not a signed-in customer)";
    field("queue").textContent = d.queue;
    field("reason").textContent = d.reason || "—";
    field("intent").textContent = [d.intent, d.rule].filter(Boolean).join(" · ") || "—";
    field("summary").textContent = d.summary || "—";
    field("facts").textContent = Object.entries(d.facts || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ") || "—";

    const orders = host.querySelector(".orders tbody");
    for (const o of (c && c.recent_orders) || []) {
      const row = el("tr", {"data-order": o.number});
      row.append(el("td", {}, o.number), el("td", {}, o.status), el("td", {}, money(o.total_cents / 100, o.currency)),
                 el("td", {}, day(o.placed_at)));
      orders.appendChild(row);
    }
    if (!orders.children.length) orders.appendChild(el("tr", {}, "")).appendChild(el("td", {colspan: 4}, "No orders on record."));

    const messages = host.querySelector(".messages");
    for (const line of d.transcript || []) {
      messages.appendChild(el("li", {"data-role": line.role, "data-source": "transcript", "data-label": label(line.role)}, line.text));
    }
    messages.appendChild(el("li", {class: "handoff", role: "separator"}, "handed off to a person"));
    for (const m of d.messages || []) appendMessage(messages, m);
    const notes = host.querySelector(".notes");
    for (const n of d.notes || []) notes.appendChild(el("li", {}, n.text));

    const dispositions = host.querySelector("[name=disposition]");
    for (const code of d.dispositions || []) dispositions.appendChild(el("option", {value: code}, code.replaceAll("_", " ")));
    const transfer = host.querySelector("[name=transfer]");
    for (const q of d.transfer_queues || []) transfer.appendChild(el("option", {value: q}, q));
    const picker = host.querySelector("[name=canned]");
    for (const reply of canned || []) picker.appendChild(el("option", {value: reply.id, "data-text": reply.text}, reply.title));

    const mine = MINE.includes(d.status) && state.me && d.agent_id === state.me.id;
    const take = host.querySelector("[data-action=take]");
    take.hidden = !OPEN_FOR_TAKING.includes(d.status);
    field("work").hidden = !mine;
    field("actions").hidden = !mine;

    const reply = host.querySelector("form.reply [name=text]");
    const note = host.querySelector("form.note [name=text]");
    const reason = host.querySelector("[name=transfer-reason]");
    restoreDrafts(host);
    if (focused) { const back = host.querySelector(`[data-testid=${focused}]`); if (back && !back.closest("[hidden]")) back.focus(); }

    const error = field("error");
    const guard = (fn) => async (event) => {
      event.preventDefault();
      error.textContent = "";
      try { await fn(event); } catch (err) { error.textContent = err.message; }
    };
    const reload = async () => { state.drafts = {}; await select(d.id); await refreshLists(); };
    host.querySelector("[data-action=insert-canned]").addEventListener("click", () => {
      const option = picker.selectedOptions[0];
      if (!option || !option.value) { error.textContent = "Choose a canned reply first."; picker.focus(); return; }
      const text = option.dataset.text, start = reply.selectionStart ?? reply.value.length, end = reply.selectionEnd ?? start;
      reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
      reply.focus();
      reply.setSelectionRange(start + text.length, start + text.length);
      error.textContent = "";
    });
    host.querySelector("form.reply").addEventListener("submit", guard(async () => {
      if (!reply.value.trim()) return;
      const sent = await api(`/escalations/${d.id}/messages`, {method: "POST", body: JSON.stringify({text: reply.value})});
      showMessage(d.id, {id: sent.id, sender: "agent", agent_id: state.me.id, text: reply.value, delivery: "sending"});
      reply.value = ""; state.drafts["reply-input"] = "";
    }));
    host.querySelector("form.note").addEventListener("submit", guard(async () => {
      if (!note.value.trim()) return;
      await api(`/escalations/${d.id}/notes`, {method: "POST", body: JSON.stringify({text: note.value})});
      note.value = ""; state.drafts["note-input"] = "";
      await select(d.id);
    }));
    take.addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/claim`, {method: "POST"});
      await reload();
    }));
    host.querySelector("[data-action=resolve]").addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/resolve`, {method: "POST", body: JSON.stringify({disposition: dispositions.value})});
      await reload();
    }));
    host.querySelector("[data-action=handback]").addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/handback`, {method: "POST", body: JSON.stringify({disposition: dispositions.value || null})});
      await reload();
    }));
    host.querySelector("[data-action=transfer]").addEventListener("click", guard(async () => {
      if (!reason.value.trim()) { reason.focus(); throw new Error("Give a reason for the transfer."); }
      await api(`/escalations/${d.id}/transfer`, {method: "POST", body: JSON.stringify({queue: transfer.value, reason: reason.value})});
      state.drafts = {};
      if (!state.me.queues.includes(transfer.value)) {  // out of my queues now: nothing more to show
        state.selected = null; state.wanted = null; state.detail = null;
        $("detail").replaceChildren(el("p", {class: "empty", role: "status", "data-testid": "transferred"},
                                       `Transferred to ${transfer.value}.`));
      } else await select(d.id);
      await refreshLists();
    }));
  }

  function label(role, m) {  // who said it; live messages name the agent, stored ones carry the agent's id
    if (role === "agent") return (m && m.agent) || (m && state.me && m.agent_id === state.me.id ? state.me.name : "Agent");
    return {customer: "Customer", bot: "Bot", notice: "Concierge notice"}[role] || role;
  }

  // A message sent or streamed live joins the open escalation's model (kept across re-renders) and its list.
  function showMessage(escalationId, m) {
    if (!state.detail || state.detail.id !== escalationId) return;
    state.detail.messages = state.detail.messages || [];
    if (!state.detail.messages.some((x) => x.id === m.id)) state.detail.messages.push(m);
    const list = document.querySelector("#detail .messages");
    if (list) appendMessage(list, m);
  }

  function appendMessage(list, m) {
    if (list.querySelector(`[data-message-id="${Number(m.id)}"]`)) return;
    const item = el("li", {"data-role": m.sender, "data-message-id": Number(m.id), "data-label": label(m.sender, m)}, m.text);
    if (m.sender === "agent") markDelivery(item, m.delivery);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  // Whether an agent's message reached the customer: shown under it (an attribute rendered by CSS, never HTML).
  const DELIVERY = {
    sending: "sending…",
    failed: "Not delivered: the customer did not get this message (an operator can send it again)",
  };

  function markDelivery(item, delivery) {
    if (!delivery) return;
    item.dataset.delivery = delivery;
    if (DELIVERY[delivery]) { item.dataset.deliveryLabel = DELIVERY[delivery]; item.title = DELIVERY[delivery]; }
    else { delete item.dataset.deliveryLabel; item.removeAttribute("title"); }
  }

  function showDelivery(escalationId, messageId, delivery) {
    if (!state.detail || state.detail.id !== escalationId) return;
    const known = (state.detail.messages || []).find((x) => x.id === messageId);
    if (known) known.delivery = delivery;
    const item = document.querySelector(`#detail .messages [data-message-id="${Number(messageId)}"]`);
    if (item) markDelivery(item, delivery);
  }

  // ---- live stream (the session cookie signs it in) ------------------------------------------------------------
  // The service ends a stream whose reader fell too far behind (a `reload` event first), and refuses one over its
  // limits (429/503); EventSource reconnects by itself after a stream ends or a network error, but gives up on a
  // refusal: then we check the session and try again, waiting longer after each refusal (up to a minute). Every
  // (re)connection catches up on what it may have missed: the lists and the open escalation are read again.
  let refusals = 0;
  function connectStream() {
    if (state.stream) state.stream.close();
    const stream = new EventSource(`${API}/stream`);
    state.stream = stream;
    stream.onopen = () => {
      refusals = 0;
      $("stream-state").textContent = "live"; $("app").dataset.live = "true";
      catchUp();
    };
    stream.onerror = () => {
      $("stream-state").textContent = "reconnecting…"; $("app").dataset.live = "false";
      if (stream.readyState === EventSource.CLOSED) {  // refused (signed out elsewhere, too many streams): retry
        clearTimeout(state.retry);
        const wait = Math.min(60000, 2000 * 2 ** refusals++);
        state.retry = setTimeout(() => api("/me").then(connectStream).catch(() => {}), wait);
      }
    };
    stream.addEventListener("reload", () => {  // this console fell behind: the stream ends, read everything again
      $("stream-state").textContent = "reconnecting…"; $("app").dataset.live = "false";
      catchUp();
    });
    const onEscalation = (event) => {
      refreshLists().catch(() => {});
      const id = JSON.parse(event.data).escalation.id;
      if (id === state.selected && id === state.wanted) select(id).catch(() => {});
    };
    stream.addEventListener("escalation.created", onEscalation);
    stream.addEventListener("escalation.updated", onEscalation);
    stream.addEventListener("message.created", (event) => {
      const data = JSON.parse(event.data);
      showMessage(data.escalation_id, data.message);
    });
    stream.addEventListener("message.delivery", (event) => {
      const data = JSON.parse(event.data);
      showDelivery(data.escalation_id, data.message_id, data.delivery);
    });
  }

  function catchUp() {
    refreshLists().catch(() => {});
    if (state.selected !== null && state.selected === state.wanted) select(state.selected).catch(() => {});
  }

  async function start(known) {
    let me = known;
    if (!me) { try { me = await api("/me"); } catch (err) { return; } }
    state.me = me;
    state.csrf = me.csrf_token;
    $("me").textContent = `${me.name} (${me.login})`;
    $("login-view").hidden = true;
    $("app").hidden = false;
    showPresence(me.status);
    if (me.status === "offline") showPresence((await api("/status", {method: "POST", body: JSON.stringify({status: "online"})})).status);
    connectStream();
    await refreshLists();
  }

  // A page (re)load: the session cookie, if any, signs in again; otherwise show the form.
  fetch(API + "/me", {credentials: "same-origin"})
    .then(async (r) => (r.ok ? start(await r.json()) : showLogin())).catch(() => showLogin());
})();

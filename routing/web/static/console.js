// Concierge agent console: sign in, see my queues live (Server-Sent Events), take customers, chat, note, close.
(function () {
  "use strict";
  const API = "/api/v1/agent";
  const state = {token: sessionStorage.getItem("agent-token"), me: null, selected: null, stream: null, queues: []};
  const $ = (id) => document.getElementById(id);

  async function api(path, options = {}) {
    const response = await fetch(API + path, {
      ...options,
      headers: {"Content-Type": "application/json", Authorization: "Bearer " + state.token, ...(options.headers || {})},
    });
    if (response.status === 401) { signOut(); throw new Error("Your session ended; please sign in again."); }
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(describeError(body, response.status));
    return body;
  }

  function describeError(body, status) {
    if (Array.isArray(body.detail)) return body.detail.map((d) => (d.loc || []).slice(-1)[0] + ": " + d.msg).join("; ");
    return body.detail || ("Request failed (" + status + ")");
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function minutesSince(iso) {
    return Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  }

  // ---- sign in / out -------------------------------------------------------------------------------------
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    $("login-error").textContent = "";
    const response = await fetch(API + "/login", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({login: form.get("login"), password: form.get("password")}),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("login-error").textContent = describeError(body, response.status); return; }
    state.token = body.token;
    sessionStorage.setItem("agent-token", body.token);
    start();
  });

  function signOut() {
    sessionStorage.removeItem("agent-token");
    state.token = null;
    if (state.stream) state.stream.close();
    $("app").hidden = true;
    $("login-view").hidden = false;
  }
  $("logout").addEventListener("click", signOut);

  $("status").addEventListener("change", async (event) => {
    await api("/status", {method: "POST", body: JSON.stringify({status: event.target.value})});
  });

  // ---- queues and escalation list ---------------------------------------------------------------------------
  async function refreshLists() {
    const [queues, list] = await Promise.all([api("/queues"), api("/escalations")]);
    state.queues = queues;
    const ql = $("queues");
    ql.replaceChildren(...state.queues.map((q) => el("li", {"data-queue": q.name},
      `${q.display_name}${q.open ? "" : " (closed)"}: ${q.waiting} waiting, ${q.in_progress} in progress` +
      (q.oldest_waiting_at ? ` · oldest ${minutesSince(q.oldest_waiting_at)} min` : ""))));
    const items = list;
    const el_ = $("escalations");
    el_.replaceChildren(...items.map((e) => {
      const li = el("li", {"data-id": e.id, "data-status": e.status},
        `#${e.id} · ${e.queue} · ${e.tier} · ${e.status} · ${e.intent || "?"} · ${minutesSince(e.created_at)} min`);
      if (state.selected === e.id) li.classList.add("selected");
      li.addEventListener("click", () => select(e.id));
      return li;
    }));
  }

  $("claim-next").addEventListener("click", async () => {
    $("claim-error").textContent = "";
    try {
      const claimed = await api("/escalations/claim-next", {method: "POST", body: JSON.stringify({queues: null})});
      if (!claimed) { $("claim-error").textContent = "Nobody is waiting in your queues."; return; }
      await refreshLists();
      await select(claimed.id);
    } catch (err) { $("claim-error").textContent = err.message; }
  });

  // ---- one escalation ---------------------------------------------------------------------------------------
  async function select(id) {
    state.selected = id;
    const detail = await api(`/escalations/${id}`);
    renderDetail(detail);
    document.querySelectorAll("#escalations li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.id) === id));
  }

  function renderDetail(d) {
    const host = $("detail");
    host.replaceChildren($("detail-template").content.cloneNode(true));
    const field = (name) => host.querySelector(`[data-field=${name}]`);
    field("customer").textContent = d.customer_name || (d.customer_id ? `Customer #${d.customer_id}` : "Guest");
    field("tier").textContent = d.tier;
    field("tier").classList.add(d.tier);
    field("status").textContent = d.status;
    field("tier_reason").textContent = d.tier_reason;
    field("queue").textContent = d.queue;
    field("reason").textContent = d.reason;
    field("intent").textContent = d.intent;
    field("summary").textContent = d.summary;
    field("facts").textContent = Object.entries(d.facts || {}).map(([k, v]) => `${k}: ${v}`).join(" · ") || "—";

    const messages = host.querySelector(".messages");
    for (const line of d.transcript || []) messages.appendChild(el("li", {"data-role": line.role}, line.text));
    for (const m of d.messages || []) appendMessage(messages, m);
    const notes = host.querySelector(".notes");
    for (const n of d.notes || []) notes.appendChild(el("li", {}, n.text));

    const dispositions = host.querySelector("[name=disposition]");
    for (const code of d.dispositions || []) dispositions.appendChild(el("option", {value: code}, code));
    const transfer = host.querySelector("[name=transfer]");
    for (const q of d.transfer_queues || []) transfer.appendChild(el("option", {value: q}, q));

    const take = host.querySelector("[data-action=take]");
    take.hidden = !["waiting", "callback_requested", "ticket"].includes(d.status);
    const error = field("error");
    const guard = (fn) => async (event) => {
      event.preventDefault();
      error.textContent = "";
      try { await fn(event); } catch (err) { error.textContent = err.message; }
    };
    host.querySelector("form.reply").addEventListener("submit", guard(async (event) => {
      const input = event.target.elements.text;
      if (!input.value.trim()) return;
      await api(`/escalations/${d.id}/messages`, {method: "POST", body: JSON.stringify({text: input.value})});
      input.value = "";
    }));
    host.querySelector("form.note").addEventListener("submit", guard(async (event) => {
      const input = event.target.elements.text;
      if (!input.value.trim()) return;
      await api(`/escalations/${d.id}/notes`, {method: "POST", body: JSON.stringify({text: input.value})});
      input.value = "";
      await select(d.id);
    }));
    take.addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/claim`, {method: "POST"});
      await select(d.id); await refreshLists();
    }));
    host.querySelector("[data-action=resolve]").addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/resolve`, {method: "POST", body: JSON.stringify({disposition: dispositions.value})});
      await select(d.id); await refreshLists();
    }));
    host.querySelector("[data-action=handback]").addEventListener("click", guard(async () => {
      await api(`/escalations/${d.id}/handback`, {method: "POST", body: JSON.stringify({disposition: dispositions.value || null})});
      await select(d.id); await refreshLists();
    }));
    host.querySelector("[data-action=transfer]").addEventListener("click", guard(async () => {
      const reason = window.prompt("Why transfer?") || "";
      await api(`/escalations/${d.id}/transfer`, {method: "POST", body: JSON.stringify({queue: transfer.value, reason})});
      await select(d.id); await refreshLists();
    }));
  }

  function appendMessage(list, m) {
    if (list.querySelector(`[data-message-id="${m.id}"]`)) return;
    const item = el("li", {"data-role": m.sender, "data-message-id": m.id}, m.text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  // ---- live stream ------------------------------------------------------------------------------------------
  function connectStream() {
    if (state.stream) state.stream.close();
    const stream = new EventSource(`${API}/stream?token=${encodeURIComponent(state.token)}`);
    state.stream = stream;
    stream.onopen = () => { $("stream-state").textContent = "live"; $("app").dataset.live = "true"; };
    stream.onerror = () => { $("stream-state").textContent = "reconnecting…"; $("app").dataset.live = "false"; };
    const onEscalation = () => refreshLists().catch(() => {});
    stream.addEventListener("escalation.created", onEscalation);
    stream.addEventListener("escalation.updated", (event) => {
      onEscalation();
      const id = JSON.parse(event.data).escalation.id;
      if (id === state.selected) select(id).catch(() => {});
    });
    stream.addEventListener("message.created", (event) => {
      const data = JSON.parse(event.data);
      if (data.escalation_id !== state.selected) return;
      const list = document.querySelector("#detail .messages");
      if (list) appendMessage(list, data.message);
    });
  }

  async function start() {
    try {
      state.me = await api("/me");
    } catch (err) { signOut(); return; }
    const me = state.me;
    $("me").textContent = `${me.name} (${me.login})`;
    $("status").value = me.status || "online";
    $("login-view").hidden = true;
    $("app").hidden = false;
    if (me.status !== "online") {
      await api("/status", {method: "POST", body: JSON.stringify({status: "online"})});
      $("status").value = "online";
    }
    await refreshLists();
    connectStream();
  }

  if (state.token) start();
})();

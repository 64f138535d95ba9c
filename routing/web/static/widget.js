// Concierge chat widget: a small socket.io client for Rasa's socketio channel.
// ConciergeWidget.mount({rasaUrl, customerToken, identity}) adds the chat to the page and returns {destroy()}.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sessionId(identity) {
    const key = "concierge-session-" + identity;
    let id = sessionStorage.getItem(key);
    if (!id) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, "");
      sessionStorage.setItem(key, id);
    }
    return id;
  }

  function mount(options) {
    const root = el("section", {class: "cw", "aria-label": "Chat with the shop", "data-testid": "chat-widget"});
    const toggle = el("button", {class: "cw-toggle", "aria-expanded": "false", "data-testid": "chat-open"}, "Chat with us");
    const panel = el("div", {class: "cw-panel", hidden: ""});
    const head = el("div", {class: "cw-head"}, "Concierge");
    const status = el("span", {class: "cw-status", "data-testid": "chat-status"}, "connecting…");
    head.appendChild(status);
    const log = el("ol", {class: "cw-log", "aria-live": "polite", "data-testid": "chat-log"});
    const form = el("form", {class: "cw-form"});
    const input = el("input", {type: "text", "aria-label": "Your message", placeholder: "Type a message…",
                               autocomplete: "off", maxlength: "2000", "data-testid": "chat-input"});
    const send = el("button", {type: "submit", "data-testid": "chat-send"}, "Send");
    form.append(input, send);
    panel.append(head, log, form);
    root.append(toggle, panel);
    document.body.appendChild(root);

    const sid = sessionId(options.identity || "guest");
    root.dataset.sessionId = sid;
    const metadata = options.customerToken ? {customer_token: options.customerToken} : {};
    const socket = io(options.rasaUrl, {path: "/socket.io", transports: ["websocket", "polling"]});

    function add(role, text) {
      const item = el("li", {class: "cw-msg cw-" + role, "data-role": role}, text);
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
      return item;
    }

    function sendText(text, shown) {
      if (!text.trim()) return;
      add("user", shown || text);
      socket.emit("user_uttered", {message: text, session_id: sid, metadata: metadata});
    }

    socket.on("connect", () => socket.emit("session_request", {session_id: sid}));
    socket.on("session_confirm", () => { status.textContent = "online"; root.dataset.ready = "true"; });
    socket.on("disconnect", () => { status.textContent = "reconnecting…"; root.dataset.ready = "false"; });
    socket.on("bot_uttered", (msg) => {
      if (msg.agent && !msg.text) {  // follows a human agent's message: show it as theirs
        const last = [...log.querySelectorAll("[data-role=bot]")].pop();
        if (last) {
          last.dataset.role = "agent";
          last.className = "cw-msg cw-agent";
          last.dataset.from = msg.agent;
        }
        return;
      }
      if (msg.text) add("bot", msg.text);
      const buttons = msg.quick_replies || msg.buttons;
      if (buttons && buttons.length) {
        const row = el("li", {class: "cw-buttons"});
        for (const b of buttons) {
          const btn = el("button", {type: "button"}, b.title);
          btn.addEventListener("click", () => { row.remove(); sendText(b.payload, b.title); });
          row.appendChild(btn);
        }
        log.appendChild(row);
      }
    });

    toggle.addEventListener("click", () => {
      const open = panel.hasAttribute("hidden");
      panel.toggleAttribute("hidden", !open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) input.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendText(input.value);
      input.value = "";
    });

    return {
      destroy() { socket.disconnect(); root.remove(); },
    };
  }

  window.ConciergeWidget = {mount};
})();

// Concierge chat widget: plain JavaScript speaking Rasa's socket.io channel (socket.io-client from npm, built into
// vendor/ by scripts/setup.sh). Embed it on any page with one script tag; it loads its CSS and the socket.io client
// from its own origin and mounts itself:
//   <script>window.ConciergeConfig = {rasaUrl: "https://bot.example.com", customerToken: "<shop-signed JWT>"};</script>
//   <script src="https://concierge.example.com/static/widget.js" async></script>
// Pages that want control load the script without ConciergeConfig and call
// ConciergeWidget.mount({rasaUrl, customerToken, identity}), which returns {destroy()}.
// Every text from the customer, the bot or an agent is put in the page as text (textContent, text nodes), never HTML.
(function () {
  "use strict";

  const BASE = new URL(".", document.currentScript ? document.currentScript.src : location.href);  // .../static/
  const TYPING_MS = 8000;
  const KEEP_ITEMS = 200;
  const STORE_PREFIX = "concierge-chat:";
  const LINK_SCHEMES = ["http:", "https:", "mailto:"];
  const IMAGE_SCHEMES = ["http:", "https:"];
  // [title](url) in bot/agent text, or a bare http(s) URL (trailing punctuation stays text)
  const LINKS = /\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]])/g;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An absolute URL (relative ones resolve against the widget's origin) if its scheme is allowed, else null.
  function safeUrl(raw, schemes) {
    try {
      const url = new URL(raw, BASE.origin + "/");
      return schemes.includes(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, label) {
    return el("a", {href: href, target: "_blank", rel: "noopener noreferrer"}, label);
  }

  // Append `text` to `parent` as text nodes, with its links as <a> elements.
  function appendRichText(parent, text) {
    let at = 0;
    for (const m of text.matchAll(LINKS)) {
      const href = safeUrl(m[2] || m[3], LINK_SCHEMES);
      if (!href) continue;  // a disallowed scheme stays plain text
      parent.append(text.slice(at, m.index), link(href, m[1] || m[3]));
      at = m.index + m[0].length;
    }
    parent.append(text.slice(at));
  }

  function loadOnce(tag, attrs) {
    return new Promise((resolve, reject) => {
      const node = el(tag, attrs);
      node.onload = resolve;
      node.onerror = () => reject(new Error("Concierge widget: could not load " + (attrs.src || attrs.href)));
      document.head.appendChild(node);
    });
  }

  let dependencies = null;
  function loadDependencies() {
    if (!dependencies) {
      const css = document.querySelector("link[data-concierge-widget]") ? Promise.resolve()
        : loadOnce("link", {rel: "stylesheet", href: new URL("widget.css", BASE).href, "data-concierge-widget": ""})
          .catch((e) => console.error(e));  // unstyled beats nothing
      const io = window.io ? Promise.resolve()
        : loadOnce("script", {src: new URL("vendor/socket.io.min.js", BASE).href});
      dependencies = Promise.all([css, io]);
    }
    return dependencies;
  }

  function tokenSubject(token) {
    try {
      return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub || null;
    } catch (e) {
      return null;
    }
  }

  function newSessionId() {
    if (crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // What is kept across reloads (sessionStorage, per tab), for one identity only: signing in as someone else
  // forgets the previous customer's conversation.
  function loadState(identity) {
    const key = STORE_PREFIX + identity;
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const other = sessionStorage.key(i);
      if (other && other.startsWith(STORE_PREFIX) && other !== key) sessionStorage.removeItem(other);
    }
    let stored = {};
    try {
      stored = JSON.parse(sessionStorage.getItem(key)) || {};
    } catch (e) { /* start afresh */ }
    return {
      key: key,
      sessionId: stored.sessionId || newSessionId(),
      open: Boolean(stored.open),
      handoff: stored.handoff || {mode: "bot"},
      entries: Array.isArray(stored.entries) ? stored.entries : [],
    };
  }

  function waitText(seconds) {
    if (seconds == null) return "";
    return seconds === 0 ? "any moment now" : "about " + Math.max(1, Math.round(seconds / 60)) + " min";
  }

  function mount(options) {
    let widget = null;
    let destroyed = false;
    loadDependencies().then(() => { if (!destroyed) widget = start(options); },
                            (error) => console.error(error));
    return {
      destroy() {
        destroyed = true;
        if (widget) widget.destroy();
      },
    };
  }

  function start(options) {
    const identity = options.identity || tokenSubject(options.customerToken) || "guest";
    const state = loadState(identity);
    // The browser's time zone lets the bot give opening times in the customer's own time as well.
    const metadata = options.customerToken ? {customer_token: options.customerToken} : {};
    try {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) metadata.timezone = zone;
    } catch (error) { /* an old browser: times stay in the team's zone */ }
    const items = [];  // {entry, node} in log order
    let unattributed = [];  // bot texts since the last custom payload: an {agent} payload marks them as the agent's
    let connected = false;
    let typingTimer = null;

    const root = el("section", {class: "cw", "aria-label": "Chat with the shop", "data-testid": "chat-widget",
                                "data-session-id": state.sessionId});
    const toggle = el("button", {type: "button", class: "cw-toggle", "aria-expanded": "false",
                                 "aria-controls": "cw-panel", "data-testid": "chat-open"}, "Chat with us");
    const panel = el("div", {class: "cw-panel", id: "cw-panel", role: "dialog", "aria-labelledby": "cw-title",
                             hidden: ""});
    const head = el("div", {class: "cw-head"});
    const heading = el("div", {class: "cw-heading"});
    const title = el("h2", {class: "cw-title", id: "cw-title", "data-testid": "chat-title"}, "Concierge");
    const status = el("p", {class: "cw-status", role: "status", "data-testid": "chat-status"}, "Connecting…");
    heading.append(title, status);
    const close = el("button", {type: "button", class: "cw-close", "aria-label": "Close chat",
                                "data-testid": "chat-close"}, "×");
    head.append(heading, close);
    const log = el("ol", {class: "cw-log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
                          tabindex: "0", "data-testid": "chat-log"});
    const typing = el("p", {class: "cw-typing", "aria-live": "polite", "data-testid": "chat-typing"});
    const form = el("form", {class: "cw-form"});
    const input = el("input", {type: "text", "aria-label": "Your message", placeholder: "Type a message…",
                               autocomplete: "off", maxlength: "2000", "data-testid": "chat-input"});
    const send = el("button", {type: "submit", "data-testid": "chat-send"}, "Send");
    form.append(input, send);
    panel.append(head, log, typing, form);
    root.append(toggle, panel);
    document.body.appendChild(root);

    function save() {
      sessionStorage.setItem(state.key, JSON.stringify({
        sessionId: state.sessionId, open: state.open, handoff: state.handoff,
        entries: items.map((item) => item.entry),
      }));
    }

    function scrollDown() {
      log.scrollTop = log.scrollHeight;
    }

    function render(entry) {
      if (entry.csat) return renderCsat(entry);
      if (entry.buttons) {
        const row = el("li", {class: "cw-buttons", role: "group", "aria-label": "Suggested replies"});
        for (const b of entry.buttons) {
          const href = b.url ? safeUrl(b.url, LINK_SCHEMES)
            : /^https?:\/\//i.test(b.payload || "") ? safeUrl(b.payload, LINK_SCHEMES) : null;
          if (href) {
            row.appendChild(link(href, b.title));
            continue;
          }
          const button = el("button", {type: "button"}, b.title);
          button.addEventListener("click", () => {
            remove(entry);
            input.focus();
            sendText(b.payload, b.title);
          });
          row.appendChild(button);
        }
        return row;
      }
      const node = el("li", {class: "cw-msg cw-" + entry.role, "data-role": entry.role});
      if (entry.from) node.dataset.from = entry.from;
      if (entry.image) {
        const img = el("img", {src: entry.image, alt: "Picture from " + (entry.from || "Concierge")});
        img.addEventListener("load", scrollDown);
        node.appendChild(img);
      } else if (entry.role === "bot" || entry.role === "agent") {
        appendRichText(node, entry.text);
      } else {
        node.textContent = entry.text;  // the customer's own text, and notices: always literal
      }
      return node;
    }

    // After a person hands the chat back: one optional question (1-5, a comment), sent to the routing service.
    // It sits in the conversation like a message; the customer may ignore it and keep chatting.
    function renderCsat(entry) {
      const card = el("li", {class: "cw-csat", "data-testid": "csat", role: "group",
                             "aria-label": "Rate your chat"});
      const question = el("p", {}, "How was your chat with " + (entry.csat.agent || "our team") + "?");
      const scale = el("div", {class: "cw-csat-scale"});
      const comment = el("textarea", {rows: "2", maxlength: "1000", "aria-label": "Anything to add? (optional)",
                                      placeholder: "Anything to add? (optional)", "data-testid": "csat-comment"});
      const sendRating = el("button", {type: "button", class: "cw-csat-send", "data-testid": "csat-send",
                                       disabled: ""}, "Send");
      const skip = el("button", {type: "button", class: "cw-csat-skip", "data-testid": "csat-skip"}, "No thanks");
      let chosen = 0;
      const labels = ["very unhappy", "unhappy", "neutral", "happy", "very happy"];
      for (let n = 1; n <= 5; n++) {
        const b = el("button", {type: "button", "aria-pressed": "false", "aria-label": n + " of 5, " + labels[n - 1],
                                "data-testid": "csat-" + n}, String(n));
        b.addEventListener("click", () => {
          chosen = n;
          for (const other of scale.children) other.setAttribute("aria-pressed", String(other === b));
          sendRating.removeAttribute("disabled");
        });
        scale.appendChild(b);
      }
      sendRating.addEventListener("click", () => {
        if (!chosen) return;
        const body = {conversation_id: state.sessionId, rating: chosen, rating_key: entry.csat.key};
        if (comment.value.trim()) body.comment = comment.value.trim().slice(0, 1000);
        fetch(new URL("../api/v1/csat", BASE).href, {method: "POST", headers: {"Content-Type": "application/json"},
                                                     body: JSON.stringify(body)})
          .then((r) => { if (!r.ok) console.warn("Concierge widget: the rating was not stored", r.status); },
                (e) => console.warn("Concierge widget: the rating was not sent", e));
        replace(entry, {role: "notice", text: "Thank you for your feedback"});
      });
      skip.addEventListener("click", () => remove(entry));
      const actions = el("div", {class: "cw-csat-actions"});
      actions.append(sendRating, skip);
      card.append(question, scale, comment, actions);
      return card;
    }

    function replace(entry, next) {
      const item = items.find((i) => i.entry === entry);
      if (!item) return;
      item.entry = next;
      const node = render(next);
      item.node.replaceWith(node);
      item.node = node;
      save();
    }

    function add(entry) {
      const item = {entry: entry, node: render(entry)};
      items.push(item);
      log.appendChild(item.node);
      while (items.length > KEEP_ITEMS) items.shift().node.remove();
      scrollDown();
      save();
      return item;
    }

    function remove(entry) {
      const index = items.findIndex((item) => item.entry === entry);
      if (index >= 0) items.splice(index, 1)[0].node.remove();
      save();
    }

    function refreshHeader() {
      const h = state.handoff;
      title.textContent = h.mode === "agent" ? "You're chatting with " + h.agent
        : h.mode === "waiting" ? "Waiting for a person" : "Concierge";
      let text = "Shop assistant";
      if (!connected) text = root.dataset.ready ? "Reconnecting…" : "Connecting…";
      else if (h.mode === "agent") text = "From our support team";
      else if (h.mode === "waiting") {
        text = [h.queue ? h.queue + " team" : "Support team",
                h.open === false ? "closed now" : "",
                h.position ? "you're number " + h.position + " in line" : "",
                h.open === false ? "" : waitText(h.waitSeconds)].filter(Boolean).join(" · ");
      }
      status.textContent = text;
    }

    function setTyping(on) {
      clearTimeout(typingTimer);
      typing.textContent = on ? "Concierge is typing…" : "";
      if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_MS);
    }

    function setOpen(open, focus) {
      state.open = open;
      panel.toggleAttribute("hidden", !open);
      root.classList.toggle("cw-is-open", open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) {
        scrollDown();
        if (focus) input.focus();
      } else if (focus) {
        toggle.focus();
      }
      save();
    }

    function sendText(text, shown) {
      if (!text.trim()) return;
      add({role: "user", text: shown || text});
      unattributed = [];
      socket.emit("user_uttered", {message: text, session_id: state.sessionId, metadata: metadata});
      if (state.handoff.mode === "bot") setTyping(true);  // while a person holds the chat, the bot stays silent
    }

    // Custom payloads: {agent} follows each agent message (routing relay); {handoff} comes from the bot's actions.
    function onCustom(msg) {
      if (msg.agent) {
        for (const item of unattributed) {
          item.entry.role = "agent";
          item.entry.from = msg.agent;
          const node = render(item.entry);
          item.node.replaceWith(node);
          item.node = node;
        }
        state.handoff = {mode: "agent", agent: msg.agent};
      } else if (msg.handoff === "waiting") {
        // the first announcement, then every change of place, wait or opening while the customer waits
        state.handoff = {mode: "waiting", queue: msg.queue, position: msg.position, waitSeconds: msg.wait_seconds,
                         open: msg.open};
      } else if (msg.handoff === "ended") {
        // only a chat a person held is rated, with the key the routing service signed for this conversation. The
        // bot may tell the end before the key arrives (the customer wrote as the agent closed the chat): the
        // agent's name waits in the state for the "ended" that carries the key.
        const agent = state.handoff.mode === "agent" ? state.handoff.agent : state.handoff.unrated || null;
        if (state.handoff.mode !== "bot") add({role: "notice", text: "You're back with the Concierge assistant"});
        const key = typeof msg.rating_key === "string" ? msg.rating_key : null;
        if (agent && key) add({csat: {agent: agent, key: key}});
        state.handoff = agent && !key ? {mode: "bot", unrated: agent} : {mode: "bot"};
      }
      unattributed = [];
      refreshHeader();
      scrollDown();
      save();
    }

    for (const entry of state.entries) {
      const item = {entry: entry, node: render(entry)};
      items.push(item);
      log.appendChild(item.node);
    }
    refreshHeader();
    setOpen(state.open, false);

    // `conversation` rides on every request of the socket: a front door with several Rasa replicas keeps the
    // conversation on one of them (launcher/nginx.py)
    const socket = window.io(options.rasaUrl, {path: "/socket.io", transports: ["websocket", "polling"],
                                               query: {conversation: state.sessionId}});
    socket.on("connect", () => socket.emit("session_request", {session_id: state.sessionId}));
    socket.on("session_confirm", () => {
      connected = true;
      root.dataset.ready = "true";
      refreshHeader();
    });
    socket.on("disconnect", () => {
      connected = false;
      root.dataset.ready = "false";
      refreshHeader();
    });
    socket.on("bot_uttered", (msg) => {
      setTyping(false);
      if ((msg.agent || msg.handoff) && !msg.text) {
        onCustom(msg);
        return;
      }
      if (msg.text) unattributed.push(add({role: "bot", text: msg.text}));
      const buttons = msg.quick_replies || msg.buttons;
      if (buttons && buttons.length) {
        add({buttons: buttons.map((b) => ({title: b.title, payload: b.payload, url: b.url}))});
      }
      const attachment = msg.attachment;
      if (attachment && attachment.type === "image" && attachment.payload) {
        const src = safeUrl(attachment.payload.src, IMAGE_SCHEMES);
        if (src) add({role: "bot", image: src});
      }
    });

    toggle.addEventListener("click", () => setOpen(panel.hasAttribute("hidden"), true));
    close.addEventListener("click", () => setOpen(false, true));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        setOpen(false, true);
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendText(input.value);
      input.value = "";
    });

    return {
      destroy() {
        clearTimeout(typingTimer);
        socket.disconnect();
        root.remove();
      },
    };
  }

  window.ConciergeWidget = {mount: mount};
  if (window.ConciergeConfig) mount(window.ConciergeConfig);
})();

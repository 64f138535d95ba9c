// What the agent console and the dashboard share: text-only rendering and the wording of a refused request.
// Loaded before either page's own script; the embeddable widget stays self-contained and keeps its own.
(function () {
  "use strict";

  // an element with attributes and text content, never HTML
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // FastAPI's 422 names each refused field; any other error has a detail, or at least a status
  function describeError(body, status) {
    if (Array.isArray(body.detail)) return body.detail.map((d) => (d.loc || []).slice(-1)[0] + ": " + d.msg).join("; ");
    return body.detail || ("Request failed (" + status + ")");
  }

  window.ConciergePages = Object.freeze({el, describeError});
})();

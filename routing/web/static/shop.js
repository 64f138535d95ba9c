// The demo shop page: its stand-in login (demo accounts only, development) and the chat widget.
"use strict";
(async () => {
  const config = await (await fetch("/web/config")).json();
  const select = document.getElementById("login");
  for (const login of config.demo_logins) {
    const opt = document.createElement("option");
    opt.value = login; opt.textContent = login;
    select.appendChild(opt);
  }
  const stored = sessionStorage.getItem("shop-login") || "";
  select.value = stored;
  async function tokenFor(login) {
    if (!login) return null;
    const r = await fetch("/shop/login", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify({external_id: login})});
    if (!r.ok) throw new Error("sign-in failed: " + r.status);
    return (await r.json()).token;
  }
  let widget = ConciergeWidget.mount({rasaUrl: config.rasa_url, customerToken: await tokenFor(stored),
                                      identity: stored || "guest"});
  select.addEventListener("change", async () => {
    sessionStorage.setItem("shop-login", select.value);
    widget.destroy();
    widget = ConciergeWidget.mount({rasaUrl: config.rasa_url, customerToken: await tokenFor(select.value),
                                    identity: select.value || "guest"});
  });
})();

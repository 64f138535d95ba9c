// Concierge dashboard: the figures of /api/v1/analytics for a date range and filters, as charts (Chart.js, from
// npm, in /static/vendor) and tables; the staffing plan of /api/v1/capacity/plan beside today's staffing (leads and
// admins). An agent is shown only their own figures: the service narrows every answer to them. Text only, never HTML.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const {el, describeError} = window.ConciergePages;  // pages.js
  const TIER_COLOURS = {platinum: "#6b5bd2", gold: "#c9a227", silver: "#7d8797", bronze: "#b0703c"};
  const OTHER_COLOURS = ["#2f5bea", "#1f7a3a", "#b3261e", "#6b7280"];
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  // Each figure: its label and how it reads ("rate": a share shown in %, "seconds", "count", "score": 1-5), as the
  // service defines them (routing/analytics/kpis.py, served with the options); the lists below name figures only.
  const KPIS = {};
  const SERIES = ["containment_rate", "escalation_rate", "first_response_p50_seconds", "first_response_p90_seconds",
    "service_level", "abandonment_rate", "average_handle_seconds", "csat_score"];
  const QUEUE_COLUMNS = ["contacts", "offered", "answered", "first_response_p50_seconds", "first_response_p90_seconds",
    "service_level", "service_level_at_threshold", "abandonment_rate", "average_handle_seconds",
    "callback_completion_rate", "csat_score"];
  const FAIRNESS_RATES = ["containment_rate", "escalation_rate", "service_level", "abandonment_rate",
    "recontact_rate_24h", "callback_completion_rate", "csat_score"];
  const FAIRNESS_ROWS = ["contacts", ...FAIRNESS_RATES.slice(0, 2), "first_response_p50_seconds",
    "first_response_p90_seconds", ...FAIRNESS_RATES.slice(2), "average_handle_seconds", "csat_average"];
  const state = {options: null, figures: null, charts: {}, request: 0};

  // ---- HTTP -------------------------------------------------------------------------------------------------------
  async function getJson(path) {
    const response = await fetch(path, {credentials: "same-origin", headers: {Accept: "application/json"}});
    const body = await response.json().catch(() => ({}));
    return {status: response.status, ok: response.ok, body};
  }

  // ---- text-only rendering ----------------------------------------------------------------------------------------
  function format(key, value) {
    if (value === null || value === undefined) return "–";
    const kind = (KPIS[key] || [key, "count"])[1];
    if (kind === "rate") return (100 * value).toFixed(1) + "%";
    if (kind === "seconds") return value >= 120 ? (value / 60).toFixed(1) + " min" : Math.round(value) + " s";
    if (kind === "score") return Number(value).toFixed(2);
    return String(value);
  }

  const label = (key) => (KPIS[key] ? KPIS[key][0] : key.replace(/_/g, " "));
  // the value a chart plots: rates in %, the rest as they are; null leaves a gap
  const plotted = (key, value) => (value === null || value === undefined ? null
    : ((KPIS[key] || [])[1] === "rate" ? Math.round(1000 * value) / 10 : value));
  const colour = (name, i) => TIER_COLOURS[name] || OTHER_COLOURS[i % OTHER_COLOURS.length];

  function figureCell(tag, key, value, column) {
    return el(tag, {"data-kpi": key, "data-col": column,
      "data-value": value === null || value === undefined ? "" : String(value)}, format(key, value));
  }

  function table(node, columns, rows, firstHeader) {
    const head = node.tHead, body = node.tBodies[0];
    head.replaceChildren();
    body.replaceChildren();
    const tr = el("tr");
    tr.append(el("th", {scope: "col"}, firstHeader), ...columns.map((c) => el("th", {scope: "col"}, c.title)));
    head.append(tr);
    for (const row of rows) {
      const line = el("tr", {"data-row": row.key});
      line.append(el("th", {scope: "row"}, row.title), ...columns.map((c) => figureCell("td", c.kpi(row), c.value(row), c.key)));
      body.append(line);
    }
    if (!rows.length) {
      const empty = el("tr");
      empty.append(el("td", {colspan: String(columns.length + 1), class: "empty"}, "Nothing in this range."));
      body.append(empty);
    }
  }

  // ---- charts (Chart.js; no animation, so that what is shown is what was asked for, screenshots included) -----------
  function chart(id, config) {
    if (state.charts[id]) state.charts[id].destroy();
    const canvas = $(id);
    canvas.removeAttribute("data-rendered");
    config.options = {responsive: true, maintainAspectRatio: false, animation: false, ...config.options};
    config.plugins = [{id: "rendered", afterRender: () => canvas.setAttribute("data-rendered", "true")}];
    state.charts[id] = new window.Chart(canvas, config);
  }

  function axis(key) {
    const kind = (KPIS[key] || [])[1];
    return {beginAtZero: true, title: {display: true, text: kind === "rate" ? "%" : kind === "seconds" ? "seconds" : ""},
      ...(kind === "rate" ? {max: 100} : {})};
  }

  function drawOverTime() {
    const key = $("series-kpi").value;
    const daily = state.figures.daily_by_tier;
    const days = Object.keys(daily);
    const tiers = orderedTiers(Object.values(daily).flatMap((perTier) => Object.keys(perTier)));
    chart("chart-over-time", {
      type: "line",
      data: {labels: days, datasets: tiers.map((tier, i) => ({
        label: tier, borderColor: colour(tier, i), backgroundColor: colour(tier, i), spanGaps: true,
        data: days.map((d) => plotted(key, (daily[d][tier] || {})[key])),
      }))},
      options: {scales: {y: axis(key)}, plugins: {title: {display: true, text: label(key) + " per day and tier"}}},
    });
  }

  function orderedTiers(names) {
    const known = state.options.tiers;
    const seen = new Set(names);
    return [...known.filter((t) => seen.has(t)), ...[...seen].filter((t) => !known.includes(t)).sort()];
  }

  function drawFairness() {
    const byTier = state.figures.by_tier;
    const tiers = orderedTiers(Object.keys(byTier));
    chart("chart-fairness-rates", {
      type: "bar",
      data: {labels: FAIRNESS_RATES.map(label), datasets: tiers.map((tier, i) => ({
        label: tier, backgroundColor: colour(tier, i), data: FAIRNESS_RATES.map((k) => plotted(k, byTier[tier][k])),
      }))},
      options: {scales: {y: axis("service_level")}, plugins: {title: {display: true, text: "Outcomes per tier (%)"}}},
    });
    chart("chart-fairness-waits", {
      type: "bar",
      data: {labels: tiers, datasets: [
        {label: "p50", backgroundColor: "#2f5bea", data: tiers.map((t) => byTier[t].first_response_p50_seconds)},
        {label: "p90", backgroundColor: "#9db2f5", data: tiers.map((t) => byTier[t].first_response_p90_seconds)},
      ]},
      options: {scales: {y: axis("first_response_p50_seconds")},
        plugins: {title: {display: true, text: "Time to first human response per tier"}}},
    });
    table($("fairness-table"), tiers.map((t) => ({key: t, title: t, kpi: (row) => row.key, value: (row) => byTier[t][row.key]})),
      FAIRNESS_ROWS.map((k) => ({key: k, title: label(k)})), "Figure");
  }

  function drawQueues() {
    const byQueue = state.figures.by_queue;
    const names = state.options.queues.map((q) => q.name).filter((q) => q in byQueue);
    const titles = Object.fromEntries(state.options.queues.map((q) => [q.name, q.display_name]));
    const extra = Object.keys(byQueue).filter((q) => !names.includes(q) && q !== "-").sort();
    table($("queue-table"), QUEUE_COLUMNS.map((k) => ({key: k, title: label(k), kpi: () => k, value: (row) => byQueue[row.key][k]})),
      [...names, ...extra].map((q) => ({key: q, title: titles[q] || q})), "Queue");
  }

  function drawSummary() {
    const overall = state.figures.overall;
    const list = $("summary");
    list.replaceChildren();
    for (const key of Object.keys(KPIS)) {
      const item = el("div", {class: "kpi"});
      item.append(el("dt", {}, label(key)), figureCell("dd", key, overall[key]));
      list.append(item);
    }
  }

  function render() {
    const f = state.figures;
    const last = new Date(Date.parse(f.until) - 86400000).toISOString().slice(0, 10);
    const whose = f.scope === "own" ? `Your own figures (${state.options.login})` : "Everyone's figures";
    const filters = Object.entries(f.filters).filter(([k]) => f.scope !== "own" || k !== "agent")
      .map(([k, v]) => `${k} ${v}`);
    $("scope").textContent = `${whose}, ${f.since.slice(0, 10)} to ${last} (UTC days)` +
      (filters.length ? `; only ${filters.join(", ")}` : "");
    $("dashboard").dataset.scope = f.scope;
    KPIS.service_level_at_threshold[0] = `Answered within ${f.overall.service_level_threshold_seconds} s`;
    drawSummary();
    drawOverTime();
    drawQueues();
    drawFairness();
    $("dashboard").dataset.loaded = String(state.request);
  }

  // ---- filters ----------------------------------------------------------------------------------------------------
  function fill(select, items) {
    for (const item of items) select.append(el("option", {value: item.name}, item.display_name || item.name));
  }

  function setUpFilters(options) {
    const form = $("filters");
    fill(form.tier, options.tiers.map((name) => ({name})));
    fill(form.queue, options.queues);
    fill(form.agent, options.agents.map((a) => ({name: a.name, display_name: `${a.display_name} (${a.name})`})));
    fill(form.intent, options.intents.map((name) => ({name})));
    if (options.role === "agent") {  // the service answers with one's own figures anyway; say so in the form
      form.agent.value = options.login;
      form.agent.disabled = true;
    }
    const until = new Date(options.today + "T00:00:00Z");
    form.until.value = options.today;
    form.since.value = new Date(until.getTime() - 27 * 86400000).toISOString().slice(0, 10);
    for (const key of SERIES) $("series-kpi").append(el("option", {value: key}, label(key)));
    $("series-kpi").addEventListener("change", drawOverTime);
    form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  }

  async function load() {
    const form = $("filters");
    const params = new URLSearchParams({since: form.since.value, until: form.until.value});
    for (const name of ["tier", "queue", "agent", "intent"]) {
      if (form[name].value && !form[name].disabled) params.set(name, form[name].value);
    }
    const request = ++state.request;
    $("filter-error").textContent = "";
    const answer = await getJson("/api/v1/analytics/operations?" + params);
    if (request !== state.request) return;  // a newer request wins
    if (answer.status === 401) { signedOut(); return; }
    if (!answer.ok) { $("filter-error").textContent = describeError(answer.body, answer.status); return; }
    state.figures = answer.body;
    render();
  }

  // ---- staffing plan (GET /api/v1/capacity/plan) beside today's staffing (GET /api/v1/analytics/staffing) ---------
  async function loadStaffing() {
    $("staffing").hidden = false;
    const [plan, now] = await Promise.all([getJson("/api/v1/capacity/plan?weeks=4"), getJson("/api/v1/analytics/staffing")]);
    const host = $("plan");
    host.replaceChildren();
    const current = now.ok ? Object.fromEntries(now.body.map((q) => [q.queue, q])) : {};
    if (plan.status === 404) {
      $("plan-status").textContent = "The staffing plan is not available on this service yet; today's staffing:";
      $("staffing").dataset.plan = "missing";
      for (const q of Object.values(current)) host.append(queueHeading(q.queue, q.display_name, q, null));
      return;
    }
    if (!plan.ok) {
      $("plan-status").textContent = "The staffing plan could not be read: " + describeError(plan.body, plan.status);
      $("staffing").dataset.plan = "error";
      return;
    }
    $("plan-status").textContent = `Agents needed per hour (forecast of the last ${plan.body.weeks} weeks, ` +
      `${plan.body.method}) beside the agents staffed; shop time zone. Red: fewer staffed than needed.`;
    $("staffing").dataset.plan = "shown";
    for (const q of plan.body.queues) {
      const live = current[q.queue];
      host.append(queueHeading(q.queue, live ? live.display_name : q.queue, live, q), heatmap(q));
    }
  }

  function queueHeading(name, title, live, plan) {
    const box = el("div", {class: "plan-queue", "data-queue": name});
    box.append(el("h3", {}, title));
    const facts = [];
    if (plan) facts.push(`target ${Math.round(100 * plan.target_level)}% answered in ${plan.target_seconds} s`);
    if (live) facts.push(`now: ${live.online_agents} of ${live.agents} agents online, ${live.waiting} waiting, ` +
      `${live.in_progress} in progress${live.open ? "" : " (closed)"}`);
    box.append(el("p", {class: "hint", "data-testid": "staffing-now"}, facts.join(" · ")));
    return box;
  }

  function heatmap(queue) {
    const cells = {};
    for (const h of queue.hours) cells[`${h.weekday}-${h.hour}`] = h;
    const grid = el("table", {class: "heatmap", "data-testid": "plan-heatmap", "data-queue": queue.queue});
    grid.append(el("caption", {}, `${queue.queue}: agents needed / staffed`));
    const head = el("tr");
    head.append(el("th", {scope: "col"}, ""));
    for (let hour = 0; hour < 24; hour++) head.append(el("th", {scope: "col"}, String(hour).padStart(2, "0")));
    grid.append(el("thead"));
    grid.tHead.append(head);
    const body = el("tbody");
    WEEKDAYS.forEach((day, weekday) => {
      const row = el("tr");
      row.append(el("th", {scope: "row"}, day));
      for (let hour = 0; hour < 24; hour++) {
        const h = cells[`${weekday}-${hour}`];
        if (!h) { row.append(el("td", {class: "none"}, "")); continue; }
        const short = h.agents_staffed < h.agents_needed;
        const td = el("td", {class: h.agents_needed === 0 ? "idle" : short ? "short" : "ok",
          title: `${day} ${hour}:00 · forecast ${h.forecast_per_hour} per hour · needed ${h.agents_needed} · staffed ${h.agents_staffed}`,
          "data-needed": h.agents_needed, "data-staffed": h.agents_staffed}, `${h.agents_needed}/${h.agents_staffed}`);
        row.append(td);
      }
      body.append(row);
    });
    grid.append(body);
    return grid;
  }

  // ---- start ------------------------------------------------------------------------------------------------------
  function signedOut() {
    $("dashboard").hidden = true;
    $("signed-out").hidden = false;
  }

  async function start() {
    const [me, options] = await Promise.all([getJson("/api/v1/agent/me"), getJson("/api/v1/analytics/options")]);
    if (!me.ok || !options.ok) { signedOut(); return; }
    state.options = options.body;
    for (const kpi of state.options.kpis) KPIS[kpi.name] = [kpi.label, kpi.kind];
    $("me").textContent = `${me.body.name} (${me.body.login}, ${me.body.role})`;
    $("dashboard").hidden = false;
    $("dashboard").dataset.role = options.body.role;
    setUpFilters(options.body);
    if (options.body.role !== "agent") loadStaffing();
    await load();
  }

  start().catch((err) => { $("filter-error").textContent = String(err.message || err); });
})();

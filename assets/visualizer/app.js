// sforge visualizer: renders the page named by <body data-page> from the JSON API. Every value
// reaches the page through textContent or setAttribute (never innerHTML), and the page loads
// nothing but this script and style.css from the server itself (see docs/visualizer.md).
"use strict";

const body = document.body;
const app = document.getElementById("app");
const POLL_MS = 5000;
const COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#bf8700", "#8250df", "#0598bc", "#cf222e", "#57606a"];
const SVGNS = "http://www.w3.org/2000/svg";

// ---- small helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else if (k === "oninput") node.addEventListener("input", v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const seg = (s) => encodeURIComponent(s);
const runUrl = (run) => "/run/" + seg(run);
const taskUrl = (run, task) => runUrl(run) + "/" + seg(task);

function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
function num(v) {
  if (v === null || v === undefined) return "—";
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 1000) / 1000) : v.toPrecision(6).replace(/\.?0+$/, "");
}
function dur(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m ${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
function when(epoch) {
  if (!epoch) return "—";
  const d = new Date(epoch * 1000);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
function badge(status) { return el("span", { class: "badge st-" + status, text: status }); }

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || `${url}: HTTP ${res.status}`);
  return data;
}

function showError(err) {
  put(el("p", { class: "error", text: String(err.message || err) }),
    el("p", {}, el("a", { href: "/", text: "All runs" })));
}

// Replaces the page's content (absent parts, null, are left out).
function put(...nodes) { app.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined)); }

function crumbs(...parts) {
  const nav = document.getElementById("crumbs");
  nav.replaceChildren(...parts.map(([text, href]) => href ? el("a", { href, text }) : el("span", { text })));
}

let pollTimer = null;
function live(on, refresh) {
  const mark = document.getElementById("live");
  mark.textContent = on ? "● live" : "";
  clearTimeout(pollTimer);
  if (on) pollTimer = setTimeout(() => refresh().catch(showError), POLL_MS);
}

function details(summary, content, open) {
  return el("details", { open: open ? "" : null }, el("summary", { text: summary }), content);
}

function pre(text, cls) { return el("pre", { class: cls || "" , text: text || "" }); }

function table(headers, rows, cls) {
  return el("table", { class: cls || "" },
    el("thead", {}, el("tr", {}, headers.map((h) => (h instanceof Node ? h : el("th", { text: h }))))),
    el("tbody", {}, rows));
}

function warnings(list) {
  if (!list || !list.length) return null;
  return el("ul", { class: "warnings" }, list.map((w) => el("li", { text: w })));
}

// ---- charts (hand-written SVG)

// series: [{name, color, points: [{x, y, kind, best, label}]}]; opts: {xLabel, yLabel, budget, height}
function chart(series, opts) {
  const W = opts.width || 760, H = opts.height || 300, L = 64, R = 34, T = 14, B = 40;
  const pts = series.flatMap((s) => s.points).filter((p) => p.y !== null && p.y !== undefined);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": opts.yLabel + " over time" });
  if (!pts.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, document.createTextNode("no graded rounds yet")));
    return root;
  }
  let xMax = Math.max(...pts.map((p) => p.x), opts.budget || 0, 1);
  let yMin = Math.min(...pts.map((p) => p.y)), yMax = Math.max(...pts.map((p) => p.y));
  if (opts.unit) { yMin = Math.min(0, yMin); yMax = Math.max(1, yMax); }
  if (yMin === yMax) { yMin -= 1; yMax += 1; }
  const pad = opts.unit ? 0 : (yMax - yMin) * 0.06; yMin -= pad; yMax += pad;
  const sx = (x) => L + (x / xMax) * (W - L - R);
  const sy = (y) => T + (1 - (y - yMin) / (yMax - yMin)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const yv = yMin + ((yMax - yMin) * i) / 4, xv = (xMax * i) / 4;
    root.append(svg("line", { x1: L, x2: W - R, y1: sy(yv), y2: sy(yv), class: "grid" }));
    root.append(svg("text", { x: L - 6, y: sy(yv) + 4, "text-anchor": "end", class: "axis" }, document.createTextNode(opts.unit ? pct(yv) : num(Number(yv.toPrecision(4))))));
    root.append(svg("text", { x: sx(xv), y: H - B + 16, "text-anchor": "middle", class: "axis" }, document.createTextNode(dur(xv))));
  }
  root.append(svg("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", class: "axis" }, document.createTextNode(opts.xLabel)));
  root.append(svg("text", { x: 12, y: T + (H - T - B) / 2, "text-anchor": "middle", class: "axis", transform: `rotate(-90 12 ${T + (H - T - B) / 2})` }, document.createTextNode(opts.yLabel)));
  if (opts.budget) {
    root.append(svg("line", { x1: sx(opts.budget), x2: sx(opts.budget), y1: T, y2: H - B, class: "budget" }));
    root.append(svg("text", { x: sx(opts.budget) - 4, y: T + 10, "text-anchor": "end", class: "axis" }, document.createTextNode("time budget")));
  }
  for (const s of series) {
    const p = s.points.filter((q) => q.y !== null && q.y !== undefined);
    if (p.length > 1) {
      root.append(svg("polyline", { points: p.map((q) => `${sx(q.x)},${sy(q.y)}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 1.5, class: "line" }));
    }
    for (const q of p) root.append(marker(q, sx(q.x), sy(q.y), s.color));
  }
  return root;
}

function marker(q, x, y, color) {
  const tip = svg("title", {}, document.createTextNode(`${q.label} (${q.kind}) at ${dur(q.x)}: ${q.text}`));
  let shape;
  if (q.kind === "auto") shape = svg("rect", { x: x - 4, y: y - 4, width: 8, height: 8 });
  else if (q.kind === "final") shape = svg("polygon", { points: `${x},${y - 6} ${x + 6},${y} ${x},${y + 6} ${x - 6},${y}` });
  else if (q.kind === "manual") shape = svg("polygon", { points: `${x},${y - 6} ${x + 6},${y + 5} ${x - 6},${y + 5}` });
  else if (q.kind === "game") shape = svg("polygon", { points: `${x - 6},${y - 5} ${x + 6},${y - 5} ${x},${y + 6}` });
  else shape = svg("circle", { cx: x, cy: y, r: 5 });
  shape.setAttribute("fill", color);
  shape.setAttribute("class", "mark kind-" + q.kind);
  const g = svg("g", { "data-round": q.label }, shape, tip);
  if (q.best) g.append(svg("circle", { cx: x, cy: y, r: 10, class: "best-ring" }));
  return g;
}

function legend(items) {
  return el("div", { class: "legend" }, items.map(([text, cls, color]) => {
    const sw = el("span", { class: "swatch " + (cls || "") });
    if (color) sw.style.background = color;
    return el("span", { class: "legend-item" }, sw, text);
  }));
}

function roundPoints(rounds, started, metric) {
  return rounds.filter((r) => r.submitted_at !== null).map((r) => ({
    x: Math.max(0, r.submitted_at - (started || rounds[0].submitted_at)),
    y: r[metric], kind: r.kind, best: r.is_best, label: r.label,
    text: metric === "score" ? "score " + num(r.score) : "pass rate " + pct(r.pass_rate),
  }));
}

// ---- pages

// A mark with the number of unreadable files and task errors of a run (listed in its title).
function problems(r) {
  const list = r.tasks.flatMap((t) => [t.error, ...t.warnings].filter(Boolean).map((w) => `${t.task}: ${w}`));
  return list.length ? el("span", { class: "warn problems", title: list.join("\n"), text: ` ⚠ ${list.length}` }) : null;
}

function bestScores(r) {
  const scores = r.tasks.map((t) => t.best_score).filter((v) => v !== null && v !== undefined);
  if (!scores.length) return "—";
  return r.tasks.length === 1 ? num(scores[0]) : scores.slice(0, 3).map(num).join(" · ") + (scores.length > 3 ? " …" : "");
}

const runsState = { filter: "", status: "", sort: "started_at", desc: true, picked: new Set() };

async function runsPage() {
  crumbs(["Runs", null]);
  const data = await getJSON("/api/runs");
  const state = runsState;
  const tbody = el("tbody");
  const cols = [["run_id", "Run"], ["agent", "Agent"], ["model", "Model"], ["task_count", "Tasks"], ["pass_rate", "Pass rate"], ["best_score", "Best score"], ["status", "Status"], ["started_at", "Started"], ["duration_seconds", "Duration"]];
  const heads = [el("th", { title: "pick runs to compare" })].concat(cols.map(([key, label]) => el("th", { class: "sortable", "data-key": key, text: label, onclick: () => {
    state.desc = state.sort === key ? !state.desc : key !== "run_id";
    state.sort = key; draw();
  } })));
  function draw() {
    const q = state.filter.toLowerCase();
    const rows = data.runs.filter((r) => (!state.status || r.status === state.status) &&
      (!q || [r.run_id, r.agent, r.model, ...r.tasks.map((t) => t.task)].some((v) => v && v.toLowerCase().includes(q))));
    const missing = (v) => v === null || v === undefined;
    rows.sort((a, b) => {
      const x = a[state.sort], y = b[state.sort];
      if (missing(x) || missing(y)) return missing(x) - missing(y); // unknown values last
      const c = x === y ? 0 : x < y ? -1 : 1;
      return state.desc ? -c : c;
    });
    heads.forEach((h) => h.classList.toggle("sorted", h.dataset.key === state.sort));
    tbody.replaceChildren(...rows.map((r) => el("tr", {}, el("td", {}, pickBox(state.picked, r.run_id)),
      el("td", {}, el("a", { href: runUrl(r.run_id), text: r.run_id })),
      el("td", { text: r.agent || "—" }), el("td", { text: r.model || "—" }),
      el("td", { title: r.tasks.map((t) => t.task).join(", ") }, taskLinks(r)),
      el("td", { class: "num", text: pct(r.pass_rate) }),
      el("td", { class: "num", text: bestScores(r), title: r.tasks.map((t) => `${t.task}: ${num(t.best_score)}`).join("\n") }),
      el("td", {}, badge(r.status), problems(r)), el("td", { text: when(r.started_at) }),
      el("td", { class: "num", text: dur(r.duration_seconds) }))));
    count.textContent = `${rows.length} of ${data.runs.length} run(s) in ${data.runs_dir}` + (data.left_out ? ` (${data.left_out} older not listed)` : "");
  }
  const count = el("p", { class: "muted" });
  const statuses = [...new Set(data.runs.map((r) => r.status))];
  const controls = el("div", { class: "controls" },
    el("input", { type: "search", placeholder: "Filter by run, agent, model or task", id: "filter", value: state.filter, oninput: (e) => { state.filter = e.target.value; draw(); } }),
    el("select", { id: "status-filter" }, el("option", { value: "", text: "any status" }), statuses.map((s) => el("option", { value: s, text: s }))),
    compareControls(data.runs, state.picked));
  controls.querySelector("select").value = state.status;
  controls.querySelector("select").addEventListener("change", (e) => { state.status = e.target.value; draw(); });
  const tbl = el("table", { class: "runs" }, el("thead", {}, el("tr", {}, heads)), tbody);
  put(el("h1", { text: "Runs" }), controls, count, data.runs.length ? tbl : el("p", { class: "muted", text: "No runs recorded yet. Start one with sforge run." }));
  draw();
  live(data.runs.some((r) => r.status === "running"), runsPage);
}

async function runPage() {
  const run = body.dataset.run;
  crumbs(["Runs", "/"], [run, null]);
  const data = await getJSON("/api/run/" + seg(run));
  const r = data.run;
  const rows = r.tasks.map((t) => el("tr", {},
    el("td", {}, el("a", { href: taskUrl(run, t.task), text: t.task })), el("td", {}, badge(t.status)),
    el("td", { class: "num", text: pct(t.best_pass_rate) }), el("td", { class: "num", text: num(t.best_score) }),
    el("td", { text: t.best_round || "—" }), el("td", { class: "num", text: t.rounds }),
    el("td", { class: "num", text: dur(t.duration_seconds) }), el("td", { class: "num", text: dur(t.timeout_seconds) }),
    el("td", { class: "warn", text: [t.error, ...t.warnings].filter(Boolean).join("; ") })));
  const charted = r.tasks.filter((t) => t.task in data.rounds);
  const series = charted.map((t, i) => ({ name: t.task, color: COLORS[i % COLORS.length], points: roundPoints(data.rounds[t.task] || [], t.started_at, "pass_rate") }));
  const budget = Math.max(0, ...r.tasks.map((t) => t.timeout_seconds || 0));
  const smalls = charted.map((t, i) => {
    const rounds = data.rounds[t.task] || [];
    const metric = rounds.some((x) => x.score !== null) ? "score" : "pass_rate";
    return el("figure", { class: "small" }, el("figcaption", {}, el("a", { href: taskUrl(run, t.task), text: t.task }), ` — ${metric.replace("_", " ")}`),
      chart([{ name: t.task, color: COLORS[i % COLORS.length], points: roundPoints(rounds, t.started_at, metric) }],
        { xLabel: "time since start", yLabel: metric.replace("_", " "), unit: metric === "pass_rate", budget: t.timeout_seconds, height: 220, width: 480 }));
  });
  put(
    el("h1", {}, run, " ", badge(r.status)),
    el("p", { class: "meta" }, `agent ${r.agent || "—"} · model ${r.model || "—"} · ${r.task_count} task(s) · started ${when(r.started_at)} · duration ${dur(r.duration_seconds)} · mean best pass rate ${pct(r.pass_rate)}`),
    el("h2", { text: "Tasks" }),
    table(["Task", "Status", "Best pass rate", "Best score", "Best round", "Rounds", "Duration", "Budget", "Problems"], rows, "compare"),
    r.tasks.length > 1 ? el("section", {}, el("h2", { text: "Pass rate across tasks" }),
      legend(series.map((s) => [s.name, "", s.color])),
      chart(series, { xLabel: "time since each task's start", yLabel: "pass rate", unit: true, budget })) : null,
    el("h2", { text: "Per task" }), el("div", { class: "smalls" }, smalls));
  live(r.status === "running", runPage);
}

async function taskPage() {
  const run = body.dataset.run, task = body.dataset.task;
  crumbs(["Runs", "/"], [run, runUrl(run)], [task, null]);
  const data = await getJSON(`/api/run/${seg(run)}/${seg(task)}`);
  const s = data.summary;
  const hasScore = data.rounds.some((r) => r.score !== null);
  const metricBox = el("div", { class: "chart-box" });
  let metric = hasScore ? "score" : "pass_rate";
  function drawChart() {
    metricBox.replaceChildren(chart([{ name: task, color: COLORS[0], points: roundPoints(data.rounds, s.started_at, metric) }],
      { xLabel: "time since the agent started", yLabel: metric.replace("_", " "), unit: metric === "pass_rate", budget: s.timeout_seconds }));
  }
  const toggles = hasScore ? el("div", { class: "controls" }, ["score", "pass_rate"].map((m) =>
    el("button", { type: "button", text: m.replace("_", " "), onclick: () => { metric = m; drawChart(); } }))) : null;
  drawChart();
  const base = `/run/${seg(run)}/${seg(task)}`;
  const rows = data.rounds.map((r) => el("tr", { class: r.is_best ? "best" : "" },
    el("td", {}, el("a", { href: `${base}/submission/${seg(r.label)}`, text: r.label }), r.is_best ? el("span", { class: "star", title: "best round", text: " ★" }) : null),
    el("td", {}, el("span", { class: "kind kind-" + r.kind, text: r.kind })),
    el("td", { class: "num", text: r.submitted_at && s.started_at ? "+" + dur(r.submitted_at - s.started_at) : when(r.submitted_at) }),
    el("td", { text: r.status || "—" }),
    el("td", { class: "num", text: r.total !== null ? `${r.passed ?? "—"}/${r.total}` : "—" }),
    el("td", { class: "num", text: pct(r.pass_rate) }), el("td", { class: "num", text: num(r.score) }),
    el("td", { text: r.error || r.summary || "" })));
  const phases = Object.entries(s.phase_seconds || {});
  const total = phases.reduce((a, [, v]) => a + v, 0) || 1;
  const phaseRows = phases.map(([name, secs]) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = Math.max(1, (secs / total) * 100) + "%";
    return el("tr", {}, el("td", { text: name }), el("td", { class: "num", text: secs.toFixed(2) + " s" }), el("td", { class: "barcell" }, bar));
  });
  put(
    el("h1", {}, task, " ", badge(s.status)),
    el("p", { class: "meta" }, `run ${run} · agent ${s.agent || "—"} · model ${s.model || "—"} · best ${pct(s.best_pass_rate)}` +
      (s.best_score !== null ? ` / score ${num(s.best_score)}` : "") + ` (${s.best_round || "—"}) · started ${when(s.started_at)} · duration ${dur(s.duration_seconds)}` +
      ` · agent time ${dur((s.phase_seconds || {}).agent)}` + (s.timeout_seconds ? ` of a ${dur(s.timeout_seconds)} budget` : "")),
    el("p", { class: "links" }, el("a", { href: base + "/trajectory", text: "Agent trajectory" }), el("a", { href: base + "/prompt", text: "Prompt (text)" }),
      el("a", { href: base + "/log", text: "Run log (text)" }), data.has_daemon_log ? el("a", { href: base + "/daemon-log", text: "Auto-eval log (text)" }) : null,
      el("a", { href: base + "/download", text: "Download task (.tar.gz)" }), data.agent_output_bytes ? el("a", { href: base + "/agent-output", text: `agent_output.txt (${data.agent_output_bytes} bytes)` }) : null),
    s.error ? el("p", { class: "error", text: s.error }) : null,
    el("p", { class: "links" }, el("a", { href: taskRunsUrl(task), text: `All runs of ${task}` })),
    warnings(data.warnings),
    el("h2", { text: "Score over time" }), toggles,
    legend([...["agent", "auto", "final", "manual", "game"].filter((k) => k === "agent" || data.rounds.some((r) => r.kind === k)).map((k) => [k + " round", "m-" + k]),
      ["best round", "m-best"], ["time budget", "m-budget"]]),
    metricBox,
    el("h2", { text: `Rounds (${data.rounds.length})` }),
    table(["Round", "Kind", "Time", "Status", "Passed", "Pass rate", "Score", "Report"], rows, "rounds"),
    el("h2", { text: "Phases" }),
    phases.length ? table(["Phase", "Time", ""], phaseRows, "phases") : el("p", { class: "muted", text: "No phase timings yet (the run has not finished)." }),
    el("h2", { text: "Records" }),
    details("run_config.json (secrets shown as ***)", pre(JSON.stringify(data.config, null, 2))),
    data.prompt ? details("Prompt" + (data.prompt.truncated ? " (start)" : ""), pre(data.prompt.text, "wrap")) : null,
    data.log ? details("Run log" + (data.log.truncated ? " (end)" : ""), pre(data.log.text)) : null);
  live(s.status === "running", taskPage);
}

async function submissionPage() {
  const run = body.dataset.run, task = body.dataset.task, round = body.dataset.round;
  crumbs(["Runs", "/"], [run, runUrl(run)], [task, taskUrl(run, task)], [round, null]);
  const data = await getJSON(`/api/run/${seg(run)}/${seg(task)}/submission/${seg(round)}`);
  const rep = data.report || {};
  const keys = ["status", "passed", "failed", "errors", "total_tests", "pass_rate", "score", "score_0_100", "valid", "timed_out", "runtime_seconds", "summary", "error", "output_bytes_cut"];
  const facts = keys.filter((k) => rep[k] !== undefined && rep[k] !== null).map((k) =>
    el("tr", {}, el("th", { text: k }), el("td", { text: k === "pass_rate" ? pct(rep[k]) : String(rep[k]) })));
  const tests = (rep.details && rep.details.length ? rep.details : rep.test_details) || [];
  const testRows = tests.slice(0, 2000).map((t) => el("tr", { class: "t-" + String(t.status || "").toLowerCase() },
    el("td", { text: t.name || t.test || "" }), el("td", { text: t.status || "" }),
    el("td", { class: "num", text: t.score !== undefined ? num(t.score) : "" }), el("td", { text: t.message || "" })));
  const base = `/run/${seg(run)}/${seg(task)}/submission/${seg(round)}`;
  const out = data.test_output;
  const arch = data.archive;
  if (data.game) {
    put(el("h1", { text: `${task} · ${round}` }), warnings(data.warnings), gameView(data.game));
    return;
  }
  const prev = data.previous_round;
  put(
    el("h1", { text: `${task} · ${round}` }),
    warnings(data.warnings),
    data.archive ? el("p", { class: "links" }, el("a", { href: base + "/diff", class: "diff-link", text: prev ? `diff against ${prev}` : "diff (first round: all files added)" })) : null,
    data.analysis ? el("section", {}, el("h2", { text: "Analysis" }),
      details("analysis.md" + (data.analysis.truncated ? " (start)" : ""), pre(data.analysis.text, "wrap analysis"), true)) : null,
    el("h2", { text: "Report" }), facts.length ? el("table", { class: "facts" }, el("tbody", {}, facts)) : el("p", { class: "muted", text: "No report.json for this round." }),
    tests.length ? el("section", {}, el("h2", { text: `Tests (${tests.length})` }), table(["Test", "Status", "Score", "Message"], testRows, "tests")) : null,
    el("h2", { text: "Test output" }),
    out ? el("section", {}, el("p", { class: "links" }, el("a", { href: base + "/raw", text: "as text" }), out.truncated ? el("span", { class: "muted", text: `${out.total_bytes} bytes; the middle is not shown` }) : null),
      details("test_output.txt", pre(out.text), out.text.split("\n").length < 60)) : el("p", { class: "muted", text: "No test output." }),
    el("h2", { text: "Submitted archive" }),
    arch ? el("section", {}, el("p", { class: "links" }, el("a", { href: base + "/archive", text: "download submission.tar.gz" }), arch.cut ? el("span", { class: "warn", text: "listing cut: " + arch.cut }) : null),
      table(["Path", "Type", "Size"], arch.entries.map((e) => el("tr", {}, el("td", { text: e.name }), el("td", { text: e.kind }), el("td", { class: "num", text: e.size }))), "archive"))
      : el("p", { class: "muted", text: "No archive." }));
}

// A game round: the session's result and its moves (steps.jsonl).
function gameView(game) {
  const res = game.result || {};
  const keys = ["status", "session_id", "final_score", "peak_score", "max_score", "pass_rate", "moves", "summary", "error"];
  const facts = keys.filter((k) => res[k] !== undefined && res[k] !== null).map((k) =>
    el("tr", {}, el("th", { text: k }), el("td", { text: k === "pass_rate" ? pct(res[k]) : String(res[k]) })));
  if (res.started_at && res.ended_at) facts.push(el("tr", {}, el("th", { text: "played" }), el("td", { text: `${when(res.started_at)} for ${dur(res.ended_at - res.started_at)}` })));
  const steps = game.steps ? game.steps.entries : [];
  const rows = steps.map((st) => el("tr", { class: st.done ? "best" : "" },
    el("td", { class: "num", text: st.move ?? "" }), el("td", { text: st.action ?? "" }),
    el("td", {}, pre(st.observation ?? "", "wrap")), el("td", { class: "num", text: `${num(st.score)}/${num(st.max_score)}` }),
    el("td", { text: st.done ? "done" : "" })));
  return el("section", {},
    el("h2", { text: "Game session" }),
    facts.length ? el("table", { class: "facts" }, el("tbody", {}, facts)) : el("p", { class: "muted", text: "The session is still being played." }),
    el("h2", { text: `Moves (${steps.length})` }),
    game.steps && game.steps.cut ? el("p", { class: "warn", text: game.steps.cut }) : null,
    steps.length ? table(["Move", "Action", "Observation", "Score", ""], rows, "steps") : el("p", { class: "muted", text: "No moves recorded." }));
}

// Links to the rounds a block reports (sforge-submit prints "Round: agent-N").
function roundLinks(text) {
  const rounds = [...new Set([...text.matchAll(/Round: ((?:agent|auto|manual)-\d+)/g)].map((m) => m[1]))];
  const base = `/run/${seg(body.dataset.run)}/${seg(body.dataset.task)}/submission/`;
  return rounds.slice(0, 5).map((r) => el("a", { class: "round-link", href: base + seg(r), text: r }));
}

function blockView(b) {
  const labels = { system: "system", user: "user", assistant: "assistant", thinking: "thinking", tool_call: "tool call", tool_result: "tool result", result: "result", output: "output" };
  const head = el("div", { class: "bhead" }, el("span", { class: "bkind", text: labels[b.kind] || b.kind }), b.title ? el("span", { class: "btitle", text: b.title }) : null, b.is_error ? el("span", { class: "badge st-error", text: "error" }) : null, roundLinks(b.text));
  const lines = b.text.split("\n").length;
  const content = pre(b.text, b.kind === "assistant" || b.kind === "user" ? "wrap" : "");
  // Plain output is the whole story of a script agent: only very long stretches are folded.
  const fold = b.kind === "output" ? lines > 400 : lines > 24 || b.text.length > 3000;
  const inner = fold ? details(`${lines} lines`, content, false) : content;
  return el("div", { class: `block b-${b.kind}` + (b.parent ? " nested" : "") + (b.is_error ? " is-error" : "") }, head, inner);
}

async function trajectoryPage() {
  const run = body.dataset.run, task = body.dataset.task;
  crumbs(["Runs", "/"], [run, runUrl(run)], [task, taskUrl(run, task)], ["trajectory", null]);
  const url = (offset) => `/api/run/${seg(run)}/${seg(task)}/trajectory` + (offset ? "?offset=" + offset : "");
  const first = await getJSON(url(new URLSearchParams(location.search).get("offset")));
  const list = el("div", { class: "blocks" });
  const more = el("p", { class: "links" });
  const info = el("p", { class: "meta" });
  const empty = el("p", { class: "muted", text: "The agent printed nothing yet." });
  function add(page, isFirst) {
    list.append(...page.blocks.map(blockView));
    if (list.childElementCount) empty.remove();
    info.textContent = `${page.format} · ${page.total_bytes} bytes of agent output`;
    more.replaceChildren();
    if (isFirst && page.prev_offset !== null && page.prev_offset !== undefined) {
      more.append(el("a", { href: "?offset=" + page.prev_offset, text: "earlier output" }));
    }
    if (page.next_offset) {
      more.append(el("button", { type: "button", text: "load more", onclick: () => getJSON(url(page.next_offset)).then((p) => add(p, false)).catch(showError) }));
    }
    // While the task runs, new output is fetched from where this window ended.
    live(page.running && !page.next_offset, async () => add(await getJSON(url(page.end_offset)), false));
  }
  put(el("h1", { text: `Trajectory · ${task}` }), info, list, empty, more);
  add(first, true);
}

// ---- submission diff (the changes of a round's archive against the previous round's)

function diffFile(f) {
  const stats = f.status === "binary" ? `binary changed (${f.old_size ?? "—"} → ${f.new_size ?? "—"} bytes)` : `+${f.added} −${f.removed}`;
  const summary = el("summary", {}, el("span", { class: "dstatus ds-" + f.status, text: f.status }), " ", el("span", { class: "dpath", text: f.path }), " ", el("span", { class: "muted", text: stats }));
  const hunks = f.hunks.map((h) => el("div", { class: "hunk" }, el("div", { class: "dh", text: h.header }),
    el("pre", { class: "difflines" }, h.lines.map((l) => el("span", { class: l.op === "+" ? "da" : l.op === "-" ? "dr" : "dc", text: l.op + l.text })))));
  const body = el("div", { class: "dbody" }, hunks, f.cut ? el("p", { class: "warn", text: "cut: " + f.cut }) : null);
  return el("details", { class: "dfile", open: f.hunks.length && f.added + f.removed <= 200 ? "" : null }, summary, body);
}

async function diffPage() {
  const run = body.dataset.run, task = body.dataset.task, round = body.dataset.round;
  const base = `/run/${seg(run)}/${seg(task)}/submission/`;
  crumbs(["Runs", "/"], [run, runUrl(run)], [task, taskUrl(run, task)], [round, base + seg(round)], ["diff", null]);
  const data = await getJSON(`/api/run/${seg(run)}/${seg(task)}/submission/${seg(round)}/diff`);
  const against = data.previous ? el("a", { href: base + seg(data.previous), text: data.previous }) : "nothing (first round)";
  const toggle = (open) => () => app.querySelectorAll("details.dfile").forEach((d) => { d.open = open; });
  put(
    el("h1", { text: `${task} · ${round} · diff` }),
    el("p", { class: "meta" }, `${round} against `, against, ` · ${data.changed} changed file(s), ${data.unchanged} unchanged`),
    data.cut ? el("p", { class: "warn", text: "cut: " + data.cut }) : null,
    warnings(data.warnings),
    data.files.length ? el("div", { class: "controls" }, el("button", { type: "button", text: "expand all", onclick: toggle(true) }), el("button", { type: "button", text: "collapse all", onclick: toggle(false) })) : null,
    data.files.length ? el("div", { class: "dfiles" }, data.files.map(diffFile)) : el("p", { class: "muted", text: "No file changed." }));
}

const pages = { runs: runsPage, run: runPage, task: taskPage, submission: submissionPage, trajectory: trajectoryPage, diff: diffPage };
Object.assign(pages, crossRunPages());
const render = pages[body.dataset.page];
if (render) render().catch(showError);

// ---- cross-run pages: one task across runs, chosen runs compared, groups ranked (see
// docs/visualizer.md#cross-run-pages). Only function declarations here: the pages above are
// rendered before this part of the script has run.

function taskRunsUrl(task) { return "/task/" + seg(task); }
function compareUrl(task, runs) { return "/compare/" + seg(task) + "?runs=" + runs.map(seg).join(","); }

// The first task names of a run, each a link to that task across runs.
function taskLinks(r) {
  const names = r.tasks.map((t) => t.task);
  const links = names.slice(0, 3).map((t, i) => [i ? ", " : "", el("a", { href: taskRunsUrl(t), text: t })]);
  return links.flat().concat(names.length > 3 ? [` +${names.length - 3}`] : []);
}

function pickBox(picked, id) {
  return el("input", { type: "checkbox", class: "pick", "data-run": id, "aria-label": "pick " + id, checked: picked.has(id) ? "" : null,
    onclick: (e) => { if (e.target.checked) picked.add(id); else picked.delete(id); } });
}

// Where "Compare runs" leads: the one task the picked runs share, or all their shared tasks.
function compareTarget(runs, picked) {
  const chosen = runs.filter((r) => picked.has(r.run_id));
  if (chosen.length < 2) return { error: "Pick at least two runs to compare." };
  if (chosen.length > 20) return { error: "Pick at most 20 runs to compare." };
  const shared = chosen.map((r) => r.tasks.map((t) => t.task)).reduce((a, b) => a.filter((t) => b.includes(t)));
  const ids = chosen.map((r) => r.run_id);
  if (shared.length === 1) return { url: compareUrl(shared[0], ids) };
  if (shared.length > 1) return { url: "/compare-runs?runs=" + ids.map(seg).join(",") };
  return { error: "The picked runs share no task." };
}

function compareControls(runs, picked) {
  const note = el("span", { class: "warn", id: "compare-note" });
  const go = () => {
    const target = compareTarget(runs, picked);
    if (target.url) location.href = target.url; else note.textContent = target.error;
  };
  return el("span", { class: "compare-controls" }, el("button", { type: "button", id: "compare-runs", text: "Compare runs", onclick: go }),
    el("a", { href: "/compare-runs", text: "Compare groups" }), note);
}

function metricToggles(metrics, onPick) {
  if (metrics.length < 2) return null;
  return el("div", { class: "controls" }, metrics.map(([m, label]) => el("button", { type: "button", text: label, onclick: () => onPick(m) })));
}

// A timeline's points for chart(): `field` of each round over its elapsed time.
function timelinePoints(line, field, name) {
  return line.points.map((p) => ({ x: p.elapsed, y: p[field], kind: p.kind, best: p.is_best, label: `${name} ${p.label}`,
    text: field.includes("pass_rate") ? "pass rate " + pct(p[field]) : "score " + num(p[field]) }));
}

function runRowCells(r, task) {
  return [el("td", {}, el("a", { href: taskUrl(r.run_id, task), text: r.run_id })), el("td", { text: r.agent || "—" }), el("td", { text: r.model || "—" }),
    el("td", {}, badge(r.status)), el("td", { class: "num", text: pct(r.best_pass_rate) }), el("td", { class: "num", text: num(r.best_score) }),
    el("td", { class: "num", text: r.rounds }), el("td", { text: when(r.started_at) }), el("td", { class: "num", text: dur(r.duration_seconds) })];
}
function runHeads() { return ["Run", "Agent", "Model", "Status", "Best pass rate", "Best score", "Rounds", "Started", "Duration"]; }

// A chart of timelines, one colour each, with a legend and metric buttons.
function timelinesChart(lines, metrics, names, xLabel) {
  const box = el("div", { class: "chart-box" });
  const draw = (m) => box.replaceChildren(chart(lines.map((line, i) => ({ name: names[i], color: COLORS[i % COLORS.length], points: timelinePoints(line, m, names[i]) })),
    { xLabel, yLabel: metrics.find(([k]) => k === m)[1], unit: m.includes("pass_rate") }));
  draw(metrics[0][0]);
  return el("section", {}, metricToggles(metrics, draw), legend(names.map((n, i) => [n, "", COLORS[i % COLORS.length]])), box);
}

async function taskRunsPage() {
  const task = body.dataset.task;
  crumbs(["Runs", "/"], [task, null]);
  const data = await getJSON("/api/task/" + seg(task));
  const picked = new Set();
  const hasScore = data.runs.some((r) => r.best_score !== null);
  const metrics = [["best_pass_rate", "best pass rate so far"]].concat(hasScore ? [["best_score", "best score so far"]] : []);
  const rows = data.runs.map((r) => el("tr", {}, el("td", {}, pickBox(picked, r.run_id)), runRowCells(r, task)));
  const note = el("span", { class: "warn" });
  const go = () => (picked.size ? (location.href = compareUrl(task, [...picked])) : (note.textContent = "Pick runs to compare."));
  put(el("h1", { text: task }),
    el("p", { class: "meta", text: `${data.runs.length} run(s) · scores ${data.score_direction === "minimize" ? "lower" : "higher"} is better · sorted by best pass rate, then best score` }),
    el("h2", { text: "Best so far over time" }),
    timelinesChart(data.timelines, metrics, data.timelines.map((l) => l.run_id), "time since each run's start"),
    data.not_plotted ? el("p", { class: "muted", text: `${data.not_plotted} lower-ranked run(s) not drawn` }) : null,
    el("h2", { text: "Runs" }), el("div", { class: "controls" }, el("button", { type: "button", id: "compare-picked", text: "Compare picked runs", onclick: go }), note),
    table([""].concat(runHeads()), rows, "compare"));
}

async function comparePage() {
  const task = body.dataset.task;
  crumbs(["Runs", "/"], [task, taskRunsUrl(task)], ["compared", null]);
  const data = await getJSON("/api/compare/" + seg(task) + location.search);
  const hasScore = data.timelines.some((l) => l.points.some((p) => p.score !== null));
  const metrics = (hasScore ? [["score", "score"]] : []).concat([["pass_rate", "pass rate"]]);
  put(el("h1", { text: `${task} · ${data.timelines.length} run(s) compared` }),
    data.missing.length ? el("p", { class: "warn", text: "Without this task (left out): " + data.missing.join(", ") }) : null,
    el("h2", { text: "Rounds over time" }),
    timelinesChart(data.timelines, metrics, data.timelines.map((l) => l.run_id), "time since each run's start"),
    el("h2", { text: "Runs, best first" }),
    table(runHeads(), data.runs.map((r) => el("tr", {}, runRowCells(r, task))), "compare"));
}

function groupPicker(available) {
  const picked = new Set();
  const note = el("span", { class: "warn" });
  const go = () => (picked.size >= 2 ? (location.href = "/compare-runs?" + [...picked].map((g) => "models=" + seg(g)).join("&")) : (note.textContent = "Pick at least two groups."));
  return el("section", {}, el("p", { class: "muted", text: "A group is a run id without its -<machine>-<timestamp> ending; retries are left out." }),
    el("div", { class: "controls" }, el("button", { type: "button", id: "compare-groups", text: "Compare groups", onclick: go }), note),
    table(["", "Group", "Runs"], available.map((g) => el("tr", {}, el("td", {}, pickBox(picked, g.group)), el("td", { text: g.group }), el("td", { class: "num", text: g.runs }))), "compare"));
}

async function compareRunsPage() {
  crumbs(["Runs", "/"], ["compare groups", null]);
  const data = await getJSON("/api/compare-runs" + location.search);
  if (!data.groups.length) {
    put(el("h1", { text: "Compare groups" }), data.available.length ? groupPicker(data.available) : el("p", { class: "muted", text: "No runs to group yet." }));
    return;
  }
  const colour = (g) => COLORS[data.groups.findIndex((x) => x.group === g) % COLORS.length];
  const swatch = (g) => { const sw = el("span", { class: "swatch" }); sw.style.background = colour(g); return sw; };
  const standings = [...data.groups].sort((a, b) => b.elo - a.elo).map((g) => el("tr", {},
    el("td", {}, swatch(g.group), " ", g.group), el("td", { class: "num", text: g.elo.toFixed(1) }),
    el("td", { class: "num", text: g.tasks }), el("td", { class: "num", text: g.wins }), el("td", { class: "num", text: g.mean_rank === null ? "—" : g.mean_rank.toFixed(2) }),
    el("td", { text: g.runs.join(", ") })));
  const tasks = data.tasks.map((t) => el("figure", { class: "small" },
    el("figcaption", {}, el("a", { href: taskRunsUrl(t.task), text: t.task }), " — best pass rate so far"),
    chart(t.timelines.map((x) => ({ name: x.group, color: colour(x.group), points: timelinePoints(x.timeline, "best_pass_rate", x.group) })),
      { xLabel: "time since each run's start", yLabel: "best pass rate", unit: true, height: 220, width: 480 }),
    table(["Rank", "Group", "Run", "Best pass rate", "Time to best"], t.entries.map((e) => el("tr", { class: e.rank === 1 ? "best" : "" },
      el("td", { class: "num", text: e.rank ?? "—" }), el("td", { text: e.group }), el("td", {}, el("a", { href: taskUrl(e.run_id, t.task), text: e.run_id })),
      el("td", { class: "num", text: pct(e.best_pass_rate) }), el("td", { class: "num", text: dur(e.time_to_best) }))), "ranks")));
  put(el("h1", { text: `${data.groups.length} groups compared` }),
    el("p", { class: "links" }, el("a", { href: "/compare-runs", text: "choose other groups" })),
    el("h2", { text: "Standings" }),
    el("p", { class: "muted", text: `ELO-style rating from ${data.elo.start}, K = ${data.elo.k}, pairwise per task by rank (best pass rate, then earlier time to best).` }),
    table(["Group", "ELO", "Tasks", "Wins", "Mean rank", "Runs"], standings, "standings"),
    el("h2", { text: `Shared tasks (${data.tasks.length})` }),
    data.left_out_tasks ? el("p", { class: "muted", text: `${data.left_out_tasks} more shared task(s) not compared` }) : null,
    data.tasks.length ? el("div", { class: "smalls" }, tasks) : el("p", { class: "muted", text: "These groups share no task." }));
}

function crossRunPages() { return { "task-runs": taskRunsPage, compare: comparePage, "compare-runs": compareRunsPage }; }

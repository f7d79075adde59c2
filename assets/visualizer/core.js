// sforge visualizer, shared part: the page's state, small DOM helpers and the hand-written SVG
// charts. Every value reaches the page through textContent or setAttribute (never innerHTML),
// and the pages load nothing but these scripts and style.css from the server itself (see
// docs/visualizer.md). The scripts share one global scope and load in order: core.js,
// run_pages.js, diff.js, cross_run.js, then app.js, which renders the page.
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

// sforge visualizer: cross-run pages — one task across runs, chosen runs compared, groups
// ranked (see docs/visualizer.md#cross-run-pages).
"use strict";

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

// sforge visualizer: the pages of runs, one run, one task, one round and a trajectory.
"use strict";

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

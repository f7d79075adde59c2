// sforge visualizer: a round's submission diff against the previous round.
"use strict";

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

// sforge visualizer: renders the page named by <body data-page> (loaded after the other
// scripts, whose functions it calls).
"use strict";

const pages = { runs: runsPage, run: runPage, task: taskPage, submission: submissionPage, trajectory: trajectoryPage, diff: diffPage };
Object.assign(pages, crossRunPages());
const render = pages[body.dataset.page];
if (render) render().catch(showError);

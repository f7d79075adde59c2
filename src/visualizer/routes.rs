//! The routes (`docs/visualizer.md#routes`): GET and HEAD only; pages, the JSON API, plain-text
//! views and downloads of run files, and the embedded assets. Paths are percent-decoded one
//! segment at a time and every name is checked before it touches the file system.

use std::io;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use crate::http::{Handler, Request, Response};

use super::api;
use super::download;
use super::error::VizError;
use super::files;
use super::respond;
use super::scan::Scanner;
use super::subdiff;
use super::trace;
use super::{compare, groups};

const STYLE_CSS: &str = include_str!("../../assets/visualizer/style.css");
const ICON_SVG: &str = include_str!("../../assets/visualizer/icon.svg");

/// Bytes of a log or prompt shown as plain text.
const TEXT_SHOWN: u64 = 1 << 20;
/// The auto-eval daemon's log in a task directory.
const DAEMON_LOG: &str = "auto_eval_ticks.log";

/// The visualizer's request handler.
pub struct Visualizer {
    pub scanner: Arc<Scanner>,
    /// Host header values accepted (with and without port); empty accepts any (a non-loopback
    /// bind). Guards a loopback server against DNS rebinding.
    pub hosts: Vec<String>,
}

/// A parsed request target.
struct Target {
    segments: Vec<String>,
    query: Vec<(String, String)>,
}

fn parse_target(target: &str) -> Result<Target, VizError> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !path.starts_with('/') {
        return Err(VizError::BadRequest(format!(
            "not an origin-form path: {path}"
        )));
    }
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| VizError::BadName(s.to_owned()))
        })
        .collect::<Result<Vec<String>, _>>()?;
    if let Some(dots) = segments.iter().find(|s| *s == "." || *s == "..") {
        return Err(VizError::BadName(dots.clone()));
    }
    let query = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    Ok(Target { segments, query })
}

impl Handler for Visualizer {
    fn handle(&self, req: &mut Request<'_>, res: &mut Response<'_>) -> io::Result<()> {
        let head = &req.head;
        let is_head = head.method == "HEAD";
        if head.method != "GET" && !is_head {
            let err = VizError::BadRequest(format!(
                "{} is not allowed: the visualizer is read-only",
                head.method
            ));
            return respond::json(
                res,
                405,
                &serde_json::json!({"error": err.to_string()}),
                false,
            );
        }
        if !self.hosts.is_empty() {
            let host = head.header("host").unwrap_or("");
            if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                let body = serde_json::json!({"error": format!("unexpected Host {host:?}: open the visualizer by its loopback address")});
                return respond::json(res, 403, &body, is_head);
            }
        }
        let target = match parse_target(&head.target) {
            Ok(t) => t,
            Err(e) => return respond::error(res, &e, true, is_head),
        };
        let segs: Vec<&str> = target.segments.iter().map(String::as_str).collect();
        let is_api = segs.first() == Some(&"api")
            || segs.last() == Some(&"chart-data")
            || segs.ends_with(&["trace", "json"]);
        match self.route(&segs, &target.query, res, is_head) {
            Ok(()) => Ok(()),
            Err(Handled::Io(e)) => Err(e),
            Err(Handled::Viz(e)) => respond::error(res, &e, is_api, is_head),
        }
    }
}

/// Why a route did not answer: an error to show, or a broken connection.
enum Handled {
    Viz(VizError),
    Io(io::Error),
}

impl From<VizError> for Handled {
    fn from(e: VizError) -> Self {
        Handled::Viz(e)
    }
}

impl From<io::Error> for Handled {
    fn from(e: io::Error) -> Self {
        Handled::Io(e)
    }
}

/// What a route answers with.
enum Reply {
    Json(serde_json::Value),
    Page {
        kind: &'static str,
        title: String,
        data: Vec<(&'static str, String)>,
    },
    Text(String),
    Asset(&'static str, &'static str),
    File {
        path: std::path::PathBuf,
        content_type: &'static str,
        name: String,
    },
    /// A task directory as a streamed `.tar.gz`.
    Download {
        dir: std::path::PathBuf,
        task: String,
        name: String,
    },
}

impl Visualizer {
    fn route(
        &self,
        segs: &[&str],
        query: &[(String, String)],
        res: &mut Response<'_>,
        is_head: bool,
    ) -> Result<(), Handled> {
        let reply = match segs {
            [] => Reply::Page {
                kind: "runs",
                title: "Runs".to_owned(),
                data: Vec::new(),
            },
            ["assets", name] if respond::script(name).is_some() => Reply::Asset(
                "text/javascript; charset=utf-8",
                respond::script(name).unwrap_or_default(),
            ),
            ["assets", "style.css"] => Reply::Asset("text/css; charset=utf-8", STYLE_CSS),
            ["assets", "icon.svg"] | ["favicon.ico"] => Reply::Asset("image/svg+xml", ICON_SVG),
            ["api", rest @ ..] => self.api(rest, query)?,
            ["run", run, rest @ ..] => match self.file_route(run, rest, query)? {
                Some(reply) => reply,
                None => self.run(run, rest)?,
            },
            ["task" | "compare", _] | ["compare-runs"] => self.cross_run(segs, query)?,
            _ => return Err(not_found(segs).into()),
        };
        match reply {
            Reply::Json(value) => respond::json(res, 200, &value, is_head)?,
            Reply::Page { kind, title, data } => {
                let data: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let html = respond::page(kind, &title, &data, None);
                respond::send(
                    res,
                    200,
                    "text/html; charset=utf-8",
                    html.as_bytes(),
                    is_head,
                )?;
            }
            Reply::Text(text) => {
                respond::send(
                    res,
                    200,
                    "text/plain; charset=utf-8",
                    text.as_bytes(),
                    is_head,
                )?;
            }
            Reply::Asset(content_type, text) => {
                respond::send(res, 200, content_type, text.as_bytes(), is_head)?;
            }
            Reply::File {
                path,
                content_type,
                name,
            } => respond::file(res, &path, content_type, Some(&name), is_head)?,
            Reply::Download { dir, task, name } => {
                download::send(res, &dir, &task, &name, is_head)?;
            }
        }
        Ok(())
    }

    /// `/api/…`.
    fn api(&self, segs: &[&str], query: &[(String, String)]) -> Result<Reply, VizError> {
        let s = &*self.scanner;
        let value = match segs {
            ["runs"] => api::runs(s),
            ["run", run] => api::run(s, run)?,
            ["run", run, task] => api::task(s, run, task)?,
            ["run", run, task, "trajectory"] => {
                api::trajectory(s, run, task, query_u64(query, "offset")?)?
            }
            ["run", run, task, "submission", round] => api::submission(s, run, task, round)?,
            ["run", run, task, "submission", round, "diff"] => {
                subdiff::submission_diff(s, run, task, round)?
            }
            ["task", task] => compare::task_runs(s, task)?,
            ["compare", task] => compare::compare(s, task, query)?,
            ["compare-runs"] => groups::compare_runs(s, query)?,
            _ => return Err(not_found(segs)),
        };
        Ok(Reply::Json(value))
    }

    /// The cross-run pages: `/task/{task}`, `/compare/{task}?runs=…`, `/compare-runs?…`; the
    /// query is checked here as by their JSON, so a bad one is refused with the same status.
    fn cross_run(&self, segs: &[&str], query: &[(String, String)]) -> Result<Reply, VizError> {
        let s = &*self.scanner;
        let (kind, title, task) = match segs {
            ["task", task] => {
                compare::check_task(s, task)?;
                ("task-runs", format!("{task} · all runs"), *task)
            }
            ["compare", task] => {
                compare::select(s, task, query)?;
                ("compare", format!("{task} · compared"), *task)
            }
            _ => {
                groups::check(s, query)?;
                ("compare-runs", "Compare groups".to_owned(), "")
            }
        };
        let data = if task.is_empty() {
            Vec::new()
        } else {
            vec![("task", task.to_owned())]
        };
        Ok(Reply::Page { kind, title, data })
    }

    /// `/run/{run}/…`: pages, the chart data, plain-text views and downloads.
    fn run(&self, run: &str, segs: &[&str]) -> Result<Reply, VizError> {
        let s = &*self.scanner;
        let root = s.root();
        Ok(match segs {
            [] => {
                root.resolve(&[run])?;
                page("run", run.to_owned(), &[("run", run)])
            }
            [task] => {
                api::chart_data(s, run, task)?;
                page(
                    "task",
                    format!("{task} · {run}"),
                    &[("run", run), ("task", task)],
                )
            }
            [task, "chart-data"] => Reply::Json(api::chart_data(s, run, task)?),
            [task, "trajectory"] => {
                root.resolve(&[run, task])?;
                page(
                    "trajectory",
                    format!("trajectory · {task}"),
                    &[("run", run), ("task", task)],
                )
            }
            [task, "submission", round] => {
                root.resolve(&[run, task, "submissions", round])?;
                let data = [("run", run), ("task", *task), ("round", *round)];
                page("submission", format!("{round} · {task}"), &data)
            }
            [task, "submission", round, "raw"] => {
                let dir = root.resolve(&[run, task, "submissions", round])?;
                let path = root.file(&dir, "test_output.txt")?;
                Reply::Text(files::read_ends(&path, TEXT_SHOWN / 2)?.text)
            }
            [task, "submission", round, "archive"] => Reply::File {
                path: root.resolve(&[run, task, "submissions", round, "submission.tar.gz"])?,
                content_type: "application/gzip",
                name: format!("{run}-{task}-{round}.tar.gz"),
            },
            [task, "log"] => {
                let path = root.resolve(&[run, task, "run_agent.log"])?;
                Reply::Text(files::read_tail(&path, TEXT_SHOWN)?.text)
            }
            [task, "prompt"] => {
                let path = root.resolve(&[run, task, "agent_prompt.md"])?;
                Reply::Text(files::read_head(&path, TEXT_SHOWN)?.text)
            }
            [task, "agent-output"] => Reply::File {
                path: root.resolve(&[run, task, "agent_output.txt"])?,
                content_type: "text/plain; charset=utf-8",
                name: format!("{run}-{task}-agent_output.txt"),
            },
            _ => {
                let mut all = vec!["run", run];
                all.extend_from_slice(segs);
                return Err(not_found(&all));
            }
        })
    }

    /// The file routes of a task (docs/visualizer.md#submission-diffs, #trace-and-logs,
    /// #downloads); `None` for other routes.
    fn file_route(
        &self,
        run: &str,
        segs: &[&str],
        query: &[(String, String)],
    ) -> Result<Option<Reply>, VizError> {
        let s = &*self.scanner;
        let root = s.root();
        Ok(Some(match segs {
            [task, "submission", round, "diff"] => {
                root.resolve(&[run, task, "submissions", round, "submission.tar.gz"])?;
                let data = [("run", run), ("task", *task), ("round", *round)];
                page("diff", format!("diff · {round} · {task}"), &data)
            }
            [task, "trace"] => {
                let path = root.resolve(&[run, task, "agent_output.txt"])?;
                Reply::Text(files::read_tail(&path, TEXT_SHOWN)?.text)
            }
            [task, "trace", "json"] => Reply::Json(trace::trace_json(
                s,
                run,
                task,
                query_u64(query, "offset")?,
            )?),
            [task, "daemon-log"] => {
                let dir = root.resolve(&[run, task])?;
                let path = root.file(&dir, DAEMON_LOG).map_err(|e| match e {
                    VizError::NotFound(_) => VizError::NotFound(format!(
                        "{run}/{task} has no {DAEMON_LOG} (the task ran without auto-eval rounds)"
                    )),
                    other => other,
                })?;
                Reply::Text(files::read_tail(&path, TEXT_SHOWN)?.text)
            }
            [task, "download"] => {
                let dir = root.resolve(&[run, task])?;
                if !super::summary::is_task_dir(&dir) {
                    return Err(VizError::NotFound(format!(
                        "{run}/{task} is not a task directory"
                    )));
                }
                Reply::Download {
                    dir,
                    task: (*task).to_owned(),
                    name: format!("{run}-{task}.tar.gz"),
                }
            }
            _ => return Ok(None),
        }))
    }
}

/// A page whose `data-*` attributes are `data`.
fn page(kind: &'static str, title: String, data: &[(&'static str, &str)]) -> Reply {
    Reply::Page {
        kind,
        title,
        data: data.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }
}

fn not_found(segs: &[&str]) -> VizError {
    VizError::NotFound(format!("no page at /{}", segs.join("/")))
}

fn query_u64(query: &[(String, String)], name: &str) -> Result<Option<u64>, VizError> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse()
                .map_err(|_| VizError::BadRequest(format!("{name}={v:?} is not a whole number")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_decode_per_segment() {
        let t = parse_target("/run/a%2Fb/c?offset=5").unwrap();
        assert_eq!(t.segments, ["run", "a/b", "c"]);
        assert_eq!(t.query, [("offset".to_owned(), "5".to_owned())]);
        assert!(parse_target("http://x/").is_err());
        assert!(parse_target("/run/%ff").is_err());
    }
}

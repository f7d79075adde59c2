//! The task JSON model (`<tasks_dir>/<id>.json`): fields, defaults and validation of SForge 1.0.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::error::TaskError;
use super::fields::Fields;

/// Parsers the judge knows (an empty parser is allowed for game-mode tasks).
pub const PARSERS: [&str; 3] = ["pytest_v", "score_sum", "structured_json"];

/// One task as defined by its JSON file, plus the image names derived with its benchmark.
#[derive(Debug, Clone)]
pub struct Task {
    pub path: PathBuf,
    pub task_id: String,
    pub name: String,
    pub base_image: String,
    pub platform: String,
    pub cwd: String,
    pub submit_paths: Vec<String>,
    /// Trailing slashes already stripped (`tests/` is `tests`).
    pub submit_exclude: Vec<String>,
    pub internet: bool,
    pub game_mode: bool,
    pub work: WorkSpec,
    pub judge: JudgeSpec,
    pub images: TaskImages,
}

/// How an image comes to exist: built from `setup_cmds`, or pulled under a released `image_tag`.
#[derive(Debug, Clone, Default)]
pub struct ImageSource {
    pub setup_cmds: Option<Vec<String>>,
    pub image_tag: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WorkSpec {
    pub image: ImageSource,
    pub specs_dir: String,
    pub agent_query: String,
    pub cpu_limit: Option<u32>,
    pub mem_limit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct JudgeSpec {
    pub image: ImageSource,
    pub eval_cmd: String,
    pub eval_timeout: u64,
    /// One of [`PARSERS`], or empty.
    pub parser: String,
    pub score_direction: ScoreDirection,
    pub selection: Selection,
    pub rescale: Option<Value>,
    pub game_server_cmd: Option<String>,
    pub cpu_limit: Option<u32>,
    pub mem_limit: Option<String>,
    /// `judge.internet` (ours, default false): the judge container keeps its network even when
    /// the run's internet is off — for graders that call a model API (an LLM judge).
    pub internet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreDirection {
    Maximize,
    Minimize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    PassRateFirst,
    ScoreFirst,
    ValidThenScore,
}

/// A local image name, `<repository>:<tag>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub repository: String,
    pub tag: String,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repository, self.tag)
    }
}

/// The three images of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskImages {
    pub base: ImageRef,
    /// Full 64-hex hash of the base spec (the input of the work and judge hashes).
    pub base_hash: String,
    pub work: ImageRef,
    pub judge: ImageRef,
}

/// Everything read from the JSON document; image names are added by the catalog.
pub(crate) struct ParsedTask {
    pub task_id: String,
    pub name: String,
    pub base_image: String,
    pub platform: String,
    pub cwd: String,
    pub submit_paths: Vec<String>,
    pub submit_exclude: Vec<String>,
    pub internet: bool,
    pub game_mode: bool,
    pub work: WorkSpec,
    pub judge: JudgeSpec,
}

impl ParsedTask {
    pub(crate) fn from_json(path: &Path, doc: &Value) -> Result<Self, TaskError> {
        let top = Fields::root(path, doc)?;
        let submit_exclude = top
            .opt_string_list("submit_exclude")?
            .unwrap_or_else(|| vec!["tests/".to_owned()])
            .into_iter()
            .map(|e| e.trim_end_matches('/').to_owned())
            .collect();
        let task_id = top.string("task_id")?;
        if !is_plain_name(&task_id) {
            return Err(top.invalid(
                "task_id",
                format!(
                    "{task_id:?} is not a plain name: it names containers and directories, so use \
                     letters, digits, '.', '_' and '-' (at most 128, not starting with '.' or '-')"
                ),
            ));
        }
        Ok(ParsedTask {
            task_id,
            name: top.string("name")?,
            base_image: top.string("base_image")?,
            platform: top.string("platform")?,
            cwd: top.string("cwd")?,
            submit_paths: top.string_list("submit_paths")?,
            submit_exclude,
            internet: top.opt_bool("internet")?.unwrap_or(true),
            game_mode: top.opt_bool("game_mode")?.unwrap_or(false),
            work: work_spec(&top.object("work")?)?,
            judge: judge_spec(&top.object("judge")?)?,
        })
    }
}

/// A name that can be a path component and part of a container name.
#[must_use]
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn image_source(f: &Fields<'_>) -> Result<ImageSource, TaskError> {
    let source = ImageSource {
        setup_cmds: f.opt_string_list("setup_cmds")?,
        image_tag: f.opt_string("image_tag")?,
    };
    if source.setup_cmds.is_none() && source.image_tag.is_none() {
        return Err(f.invalid(
            "setup_cmds",
            "missing; give `setup_cmds` (to build the image) or `image_tag` (to pull a released one), or both",
        ));
    }
    Ok(source)
}

fn work_spec(f: &Fields<'_>) -> Result<WorkSpec, TaskError> {
    Ok(WorkSpec {
        image: image_source(f)?,
        specs_dir: f.opt_string("specs_dir")?.unwrap_or_default(),
        agent_query: f.opt_string("agent_query")?.unwrap_or_default(),
        cpu_limit: f.opt_u32("cpu_limit")?,
        mem_limit: f.opt_string("mem_limit")?,
    })
}

fn judge_spec(f: &Fields<'_>) -> Result<JudgeSpec, TaskError> {
    let parser = f.opt_string("parser")?.unwrap_or_default();
    if !parser.is_empty() && !PARSERS.contains(&parser.as_str()) {
        return Err(f.invalid(
            "parser",
            format!(
                "unknown parser {parser:?}; use one of {}",
                PARSERS.join(", ")
            ),
        ));
    }
    let score_direction = match f.opt_string("score_direction")?.as_deref() {
        None | Some("maximize") => ScoreDirection::Maximize,
        Some("minimize") => ScoreDirection::Minimize,
        Some(other) => {
            return Err(f.invalid(
                "score_direction",
                format!("unknown direction {other:?}; use maximize or minimize"),
            ))
        }
    };
    let selection = match f.opt_string("selection")?.as_deref() {
        None | Some("pass_rate_first") => Selection::PassRateFirst,
        Some("score_first") => Selection::ScoreFirst,
        Some("valid_then_score") => Selection::ValidThenScore,
        Some(other) => {
            return Err(f.invalid(
                "selection",
                format!(
                "unknown policy {other:?}; use pass_rate_first, score_first or valid_then_score"
            ),
            ))
        }
    };
    let rescale = f.opt_raw("rescale").cloned();
    if let Some(r) = &rescale {
        if r.get("kind").and_then(Value::as_str).is_none() {
            return Err(f.invalid("rescale", "must be an object with a string `kind`"));
        }
    }
    Ok(JudgeSpec {
        image: image_source(f)?,
        eval_cmd: f.opt_string("eval_cmd")?.unwrap_or_default(),
        eval_timeout: f.opt_u64("eval_timeout")?.unwrap_or(600),
        parser,
        score_direction,
        selection,
        rescale,
        game_server_cmd: f.opt_string("game_server_cmd")?,
        cpu_limit: f.opt_u32("cpu_limit")?,
        mem_limit: f.opt_string("mem_limit")?,
        internet: f.opt_bool("internet")?.unwrap_or(false),
    })
}

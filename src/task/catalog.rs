//! Discovery: the benchmark in a tasks directory, tasks found by file name (`<id>.json`),
//! and all tasks in sorted file-name order.

use std::path::{Path, PathBuf};

use super::benchmark::Benchmark;
use super::error::TaskError;
use super::hash::{base_hash, image_hash};
use super::spec::{is_plain_name, ImageRef, ImageSource, ParsedTask, Task, TaskImages};

/// A tasks directory with its loaded `BENCHMARK.yaml`.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub dir: PathBuf,
    pub benchmark: Benchmark,
}

impl Catalog {
    pub fn open(dir: &Path) -> Result<Self, TaskError> {
        let benchmark = Benchmark::load(&dir.join("BENCHMARK.yaml"))?;
        Ok(Catalog {
            dir: dir.to_owned(),
            benchmark,
        })
    }

    /// The task whose file is `<dir>/<id>.json`.
    pub fn task(&self, id: &str) -> Result<Task, TaskError> {
        if !is_plain_name(id) {
            return Err(TaskError::InvalidId { id: id.to_owned() });
        }
        let path = self.dir.join(format!("{id}.json"));
        if !path.is_file() {
            return Err(TaskError::NotFound {
                id: id.to_owned(),
                path,
            });
        }
        self.load_file(&path)
    }

    /// Every `*.json` file of the directory, in sorted file-name order.
    pub fn all_tasks(&self) -> Result<Vec<Task>, TaskError> {
        self.task_files()?
            .iter()
            .map(|p| self.load_file(p))
            .collect()
    }

    fn task_files(&self) -> Result<Vec<PathBuf>, TaskError> {
        let io_err = |source| TaskError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io_err)? {
            let path = entry.map_err(io_err)?.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        Ok(files)
    }

    pub fn load_file(&self, path: &Path) -> Result<Task, TaskError> {
        let text = std::fs::read_to_string(path).map_err(|source| TaskError::Io {
            path: path.to_owned(),
            source,
        })?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| TaskError::Syntax {
                path: path.to_owned(),
                format: "JSON",
                message: e.to_string(),
            })?;
        let parsed = ParsedTask::from_json(path, &doc)?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if stem.as_deref() != Some(parsed.task_id.as_str()) {
            log::warn!(
                "{}: task_id {:?} differs from the file name; the CLI finds tasks by file name, the judge by task_id",
                path.display(),
                parsed.task_id
            );
        }
        if parsed.game_mode && parsed.judge.game_server_cmd.is_none() {
            return Err(TaskError::field(
                path,
                "judge.game_server_cmd",
                "missing; game-mode tasks need the command that starts the game server",
            ));
        }
        let images = self.images(path, &parsed)?;
        Ok(parsed.into_task(path.to_owned(), images))
    }

    fn images(&self, path: &Path, t: &ParsedTask) -> Result<TaskImages, TaskError> {
        let bench = &self.benchmark;
        let base = bench.base(&t.base_image).ok_or_else(|| {
            TaskError::field(
                path,
                "base_image",
                format!(
                    "{:?} is not a key of base_images in {} (available: {})",
                    t.base_image,
                    bench.path.display(),
                    bench.base_keys().join(", ")
                ),
            )
        })?;
        let full_base_hash = base_hash(&base.key, &base.spec).map_err(|e| {
            TaskError::field(
                &bench.path,
                format!("base_images.{}", base.key),
                e.to_string(),
            )
        })?;
        let tag = |role: &str, src: &ImageSource| -> Result<ImageRef, TaskError> {
            let tag = resolve_tag(path, role, src, || {
                image_hash(
                    &full_base_hash,
                    &t.platform,
                    &t.cwd,
                    src.setup_cmds.as_deref().unwrap_or_default(),
                )
            })?;
            Ok(ImageRef {
                repository: format!("{}.{role}.{}", bench.name, t.task_id),
                tag,
            })
        };
        Ok(TaskImages {
            base: ImageRef {
                repository: format!("{}.base.{}", bench.name, base.key),
                tag: full_base_hash[..12].to_owned(),
            },
            work: tag("work", &t.work.image)?,
            judge: tag("judge", &t.judge.image)?,
            base_hash: full_base_hash.clone(),
        })
    }
}

/// The tag of a work or judge image: `image_tag` if given (checked against the hash when
/// `setup_cmds` is given too), else the first 12 hex characters of the content hash.
fn resolve_tag(
    path: &Path,
    role: &str,
    src: &ImageSource,
    hash: impl FnOnce() -> String,
) -> Result<String, TaskError> {
    match (&src.setup_cmds, &src.image_tag) {
        (Some(_), Some(tag)) => {
            let computed = hash();
            if computed[..12] == *tag {
                Ok(tag.clone())
            } else {
                Err(TaskError::field(
                    path,
                    format!("{role}.image_tag"),
                    format!(
                        "{tag:?} does not match the hash of {role}.setup_cmds ({}); set image_tag to {:?} or remove it",
                        &computed[..12],
                        &computed[..12]
                    ),
                ))
            }
        }
        (None, Some(tag)) => Ok(tag.clone()),
        (Some(_), None) => Ok(hash()[..12].to_owned()),
        (None, None) => Err(TaskError::field(
            path,
            format!("{role}.setup_cmds"),
            "missing; give setup_cmds or image_tag",
        )),
    }
}

impl ParsedTask {
    fn into_task(self, path: PathBuf, images: TaskImages) -> Task {
        Task {
            path,
            task_id: self.task_id,
            name: self.name,
            base_image: self.base_image,
            platform: self.platform,
            cwd: self.cwd,
            submit_paths: self.submit_paths,
            submit_exclude: self.submit_exclude,
            internet: self.internet,
            game_mode: self.game_mode,
            work: self.work,
            judge: self.judge,
            images,
        }
    }
}

//! Game containers (`sforge.game.<task>.<sid>`): made from the task's judge image, limited and
//! walled like judge containers (no network at all when the run's internet is off), labelled so
//! that the judge's stop, `sforge gc` and the reaper find them. The judge talks to the game app
//! on port 8000 inside the container through the engine's exec channel, so the container needs
//! no address the host could reach, and every answer is bounded in size and time
//! (docs/security.md#game-containers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::container::{judge_container, JudgeLimits};
use super::server::games::{AppCall, GameError, GameHost, GameLaunch};
use super::service::ContainerGrader;
use crate::sandbox::{single_file_tar, ContainerSpec, ExecSpec};

/// The game app (ours), copied to `/tmp/game_server_app.py` in every game container.
pub const GAME_APP: &str = include_str!("../../templates/game/game_server_app.py");
/// The client the judge runs in the container for each call to the app.
const GAME_CLIENT: &str = include_str!("../../templates/game/game_client.py");
/// Label carrying the session id.
pub const SESSION_LABEL: &str = "sforge.game-session";
/// Largest answer of the app, in bytes.
pub const MAX_ANSWER: usize = 256 << 10;
/// How long the app has to answer `/health` after the start.
const READY_WITHIN: Duration = Duration::from_secs(30);
const READY_POLL: Duration = Duration::from_millis(500);
/// Time for one call to the app (`/new`, `/step`: 10 s as SForge 1.0), and the exec around it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const EXEC_TIMEOUT: Duration = Duration::from_secs(20);

/// Game sessions in containers of the grader's backends.
pub struct ContainerGameHost {
    pub grader: Arc<ContainerGrader>,
}

impl ContainerGameHost {
    /// The container of `launch`, from the task's judge container (same image, limits, walls).
    fn spec(&self, launch: &GameLaunch) -> Result<ContainerSpec, GameError> {
        let task = self
            .grader
            .tasks
            .get(&launch.task_id)
            .ok_or_else(|| GameError::NotAGame(format!("Unknown task: {}", launch.task_id)))?;
        let judge = self.grader.judge_of(&launch.task_id);
        let limits = JudgeLimits {
            cpu: launch.cpu,
            mem: launch.mem.clone(),
            internet: launch.internet,
        };
        Ok(game_spec(
            judge_container(
                &judge.settings,
                &judge.benchmark,
                task,
                &launch.run_id,
                &launch.session_id,
                &limits,
                &judge.owner,
            ),
            launch,
        ))
    }

    fn start_app(&self, launch: &GameLaunch, cmd: &str) -> Result<(), GameError> {
        let sandbox = &self.grader.judge_of(&launch.task_id).sandbox;
        let name = &launch.container;
        let fail = |e: &dyn std::fmt::Display| GameError::NotReady(e.to_string());
        sandbox.start(&self.spec(launch)?).map_err(|e| fail(&e))?;
        let tar = single_file_tar("game_server_app.py", GAME_APP.as_bytes(), 0o644, (0, 0));
        sandbox.copy_in(name, "/tmp", tar).map_err(|e| fail(&e))?;
        let detach = ExecSpec {
            argv: vec![
                "/bin/bash".into(),
                "-c".into(),
                "nohup /bin/bash -c \"$SFORGE_GAME_SERVER_CMD\" >/tmp/game_server.log 2>&1 </dev/null &"
                    .into(),
            ],
            env: vec![("SFORGE_GAME_SERVER_CMD".into(), cmd.to_owned())],
            timeout: Some(EXEC_TIMEOUT),
            ..ExecSpec::default()
        };
        let started = sandbox
            .exec(name, &detach, &mut |_| {})
            .map_err(|e| fail(&e))?;
        if !started.output.success() {
            return Err(GameError::NotReady(format!(
                "the game server command could not be started: {}",
                started.output.stderr_str().trim()
            )));
        }
        Ok(())
    }

    fn wait_ready(&self, launch: &GameLaunch) -> Result<(), GameError> {
        let until = Instant::now() + READY_WITHIN;
        loop {
            let health = self.request(
                &launch.task_id,
                &launch.container,
                "GET",
                "/health",
                &Value::Null,
            );
            match health {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= until => {
                    return Err(GameError::NotReady(format!(
                        "no answer to /health within {}s ({e})",
                        READY_WITHIN.as_secs()
                    )))
                }
                Err(_) => std::thread::sleep(READY_POLL),
            }
        }
    }

    /// One bounded HTTP exchange with the app in `container`.
    fn request(
        &self,
        task_id: &str,
        container: &str,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<Value, GameError> {
        let sandbox = &self.grader.judge_of(task_id).sandbox;
        let exec = ExecSpec {
            argv: [
                "python3",
                "-I",
                "-c",
                GAME_CLIENT,
                method,
                path,
                &MAX_ANSWER.to_string(),
                &CALL_TIMEOUT.as_secs().to_string(),
            ]
            .map(str::to_owned)
            .to_vec(),
            stdin: Some(body.to_string().into_bytes()),
            timeout: Some(EXEC_TIMEOUT),
            ..ExecSpec::default()
        };
        let done = sandbox
            .exec(container, &exec, &mut |_| {})
            .map_err(|e| GameError::Failed(e.to_string()))?;
        if done.timed_out {
            return Err(GameError::Failed(format!(
                "no answer within {}s",
                EXEC_TIMEOUT.as_secs()
            )));
        }
        parse_answer(&done.output.stdout)
    }
}

/// A judge container's spec turned into a game container's: its name, a session label, no
/// judge URL and no host names (SForge 1.0 gave game containers neither).
fn game_spec(mut spec: ContainerSpec, launch: &GameLaunch) -> ContainerSpec {
    spec.name.clone_from(&launch.container);
    spec.labels
        .insert(SESSION_LABEL.to_owned(), launch.session_id.clone());
    spec.env.retain(|(k, _)| k != "SFORGE_JUDGE_URL");
    spec.add_hosts.clear();
    spec
}

/// The app's answer as the client printed it: a status line, then at most [`MAX_ANSWER`] bytes
/// of JSON.
fn parse_answer(out: &[u8]) -> Result<Value, GameError> {
    let split = out.iter().position(|&b| b == b'\n').unwrap_or(out.len());
    let (head, body) = (
        String::from_utf8_lossy(&out[..split]),
        out.get(split + 1..).unwrap_or_default(),
    );
    if let Some(error) = head.strip_prefix("SFORGE-GAME-ERROR ") {
        return Err(GameError::Failed(error.chars().take(300).collect()));
    }
    let status: u16 = head
        .strip_prefix("SFORGE-GAME-STATUS ")
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| GameError::Failed("unreadable answer from the game app".into()))?;
    if body.len() > MAX_ANSWER {
        return Err(GameError::Failed(format!(
            "the game app answered more than {MAX_ANSWER} bytes"
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| GameError::Failed(format!("the game app answered {status} with no JSON")))?;
    if status >= 400 {
        let detail = value
            .get("detail")
            .and_then(Value::as_str)
            .map_or_else(|| value.to_string(), str::to_owned);
        return Err(GameError::Refused {
            status,
            detail: detail.chars().take(500).collect(),
        });
    }
    if !value.is_object() {
        return Err(GameError::Failed(
            "the game app answered no JSON object".into(),
        ));
    }
    Ok(value)
}

impl GameHost for ContainerGameHost {
    fn check_task(&self, task_id: &str) -> Result<(), GameError> {
        let task = self
            .grader
            .tasks
            .get(task_id)
            .ok_or_else(|| GameError::NotAGame(format!("Unknown task: {task_id}")))?;
        if !task.game_mode || task.judge.game_server_cmd.is_none() {
            return Err(GameError::NotAGame(format!("Not a game task: {task_id}")));
        }
        Ok(())
    }

    fn launch(&self, launch: &GameLaunch) -> Result<(), GameError> {
        let task = self
            .grader
            .tasks
            .get(&launch.task_id)
            .ok_or_else(|| GameError::NotAGame(format!("Unknown task: {}", launch.task_id)))?;
        let cmd =
            task.judge.game_server_cmd.clone().ok_or_else(|| {
                GameError::NotAGame(format!("Not a game task: {}", launch.task_id))
            })?;
        self.start_app(launch, &cmd)?;
        self.wait_ready(launch)
    }

    fn call(&self, container: &str, call: &AppCall) -> Result<Value, GameError> {
        let (method, path) = call.route();
        let task_id = task_of(container);
        self.request(task_id, container, method, path, &call.body())
    }

    fn remove(&self, container: &str) {
        let sandbox = &self.grader.judge_of(task_of(container)).sandbox;
        if let Err(e) = sandbox.remove(container) {
            log::warn!("cannot remove game container {container}: {e}");
        }
    }
}

/// The task of `sforge.game.<task>.<sid>`.
fn task_of(container: &str) -> &str {
    let rest = container.strip_prefix("sforge.game.").unwrap_or(container);
    rest.rsplit_once('.').map_or(rest, |(task, _)| task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_bounded_and_refusals_passed_on() {
        let ok = parse_answer(b"SFORGE-GAME-STATUS 200\n{\"score\": 1}").unwrap();
        assert_eq!(ok["score"], 1);
        let refused = parse_answer(b"SFORGE-GAME-STATUS 400\n{\"detail\": \"game over\"}");
        assert_eq!(
            refused,
            Err(GameError::Refused {
                status: 400,
                detail: "game over".into()
            })
        );
        let mut huge = b"SFORGE-GAME-STATUS 200\n".to_vec();
        huge.extend(std::iter::repeat_n(b' ', MAX_ANSWER + 1));
        assert!(matches!(parse_answer(&huge), Err(GameError::Failed(_))));
        assert!(matches!(
            parse_answer(b"garbage"),
            Err(GameError::Failed(_))
        ));
        assert!(matches!(
            parse_answer(b"SFORGE-GAME-ERROR ConnectionRefusedError()\n"),
            Err(GameError::Failed(_))
        ));
        assert!(matches!(
            parse_answer(b"SFORGE-GAME-STATUS 200\n[1]"),
            Err(GameError::Failed(_))
        ));
    }

    #[test]
    fn game_containers_are_walled_like_judge_containers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
        let mut task = crate::task::Catalog::open(&dir)
            .unwrap()
            .task("demo")
            .unwrap();
        task.internet = true;
        let settings = crate::config::Settings::merge(&[]);
        let launch = |internet| GameLaunch {
            task_id: "demo".into(),
            run_id: "r".into(),
            session_id: "0123456789ab".into(),
            container: "sforge.game.demo.0123456789ab".into(),
            cpu: Some(1),
            mem: None,
            internet,
        };
        let spec_for = |internet| {
            let launch = launch(internet);
            let limits = JudgeLimits {
                cpu: launch.cpu,
                mem: launch.mem.clone(),
                internet: launch.internet,
            };
            let judge = judge_container(&settings, "b", &task, "r", "0123456789ab", &limits, "me");
            game_spec(judge, &launch)
        };
        let offline = spec_for(Some(false));
        assert_eq!(offline.name, "sforge.game.demo.0123456789ab");
        assert_eq!(offline.network, crate::sandbox::Network::None);
        assert_eq!(offline.labels[SESSION_LABEL], "0123456789ab");
        assert_eq!(offline.labels["sforge.run-id"], "r");
        assert!(offline.labels.contains_key(super::super::GRADER_LABEL));
        assert_eq!(offline.cap_drop, ["ALL"]);
        assert!(offline.no_new_privileges && offline.pids_limit.is_some());
        assert_eq!(offline.cpu_limit, Some(1));
        assert!(offline.add_hosts.is_empty());
        assert!(!offline.env.iter().any(|(k, _)| k == "SFORGE_JUDGE_URL"));
        assert_eq!(
            spec_for(Some(true)).network,
            crate::sandbox::Network::NoIngress
        );
    }

    #[test]
    fn container_names_give_the_task() {
        assert_eq!(
            task_of("sforge.game.lantern_cave.0123456789ab"),
            "lantern_cave"
        );
        assert_eq!(task_of("sforge.game.a.b.0123456789ab"), "a.b");
    }
}

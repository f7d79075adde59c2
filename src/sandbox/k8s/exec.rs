//! The shell programs run through `kubectl exec`, as pure argv builders. kubectl cannot pass
//! an environment, a user or a working directory, so a small `sh` prelude does it:
//!
//! - environment values never travel on an argv: they are written to a private file (umask 077)
//!   through stdin by a first exec, sourced and deleted by the command's own exec;
//! - the user is switched with `runuser -u` when the container runs as root (util-linux, in
//!   every Debian-based task image) and `sudo -n -u` otherwise (work images give `agent`
//!   passwordless sudo); no switch when already that user;
//! - copies run `tar` as root (`sudo -n` when needed), owner of extracted files root, like `docker cp`.

use std::fmt::Write as _;

use crate::sandbox::ExecSpec;

/// Creates the private file `$1` (which must not exist yet) from stdin.
const WRITE_ENV: &str = "umask 077; set -C; cat > \"$1\"";

/// `sh -c RUN sh ENVFILE USER DIR ARGV…`.
const RUN: &str = r#"f=$1; u=$2; d=$3; shift 3
if [ -n "$f" ]; then . "$f" || exit 126; rm -f "$f"; fi
if [ -n "$d" ]; then cd "$d" || exit 126; fi
if [ -n "$u" ] && [ "$u" != "$(id -un)" ] && [ "$u" != "$(id -u)" ]; then
  if [ "$(id -u)" = 0 ]; then exec runuser -u "$u" -- "$@"; fi
  exec sudo -n -E -u "$u" -- "$@"
fi
exec "$@""#;

/// Runs its arguments as root.
const AS_ROOT: &str = r#"r() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }"#;

/// Kills every process of the container except PID 1 (and the caller).
const KILL_ALL: &str =
    r#"if [ "$(id -u)" = 0 ]; then kill -KILL -1; else sudo -n kill -KILL -1 || kill -KILL -1; fi"#;

/// The env file text: one `export NAME='value'` line per variable. Names that `sh` cannot
/// assign are left out (with a warning).
#[must_use]
pub fn env_file(env: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in env {
        if !crate::shell::is_variable_name(name) {
            log::warn!("not passing environment variable {name:?}: not a shell variable name");
            continue;
        }
        let _ = writeln!(text, "export {name}={}", crate::shell::quote(value));
    }
    text
}

/// A fresh path for an env file (random, so that no other process can guess it).
pub fn env_path() -> std::io::Result<String> {
    Ok(format!("/tmp/.sforge-env-{}", crate::ids::random_hex(16)?))
}

/// The argv that writes the env file at `path` (its text goes on stdin).
#[must_use]
pub fn write_env_argv(path: &str) -> Vec<String> {
    ["sh", "-c", WRITE_ENV, "sh", path]
        .map(str::to_owned)
        .to_vec()
}

/// The argv of `exec` with the env file (if any) at `env_path`.
#[must_use]
pub fn run_argv(exec: &ExecSpec, env_path: Option<&str>) -> Vec<String> {
    let mut argv: Vec<String> = ["sh", "-c", RUN, "sh"].map(str::to_owned).to_vec();
    argv.push(env_path.unwrap_or("").to_owned());
    argv.push(exec.user.clone().unwrap_or_default());
    argv.push(exec.workdir.clone().unwrap_or_default());
    argv.extend(exec.argv.iter().cloned());
    argv
}

/// The argv that unpacks a tar stream from stdin into `dir` (created if missing).
#[must_use]
pub fn untar_argv(dir: &str) -> Vec<String> {
    let script = format!("{AS_ROOT}; r mkdir -p \"$1\" && r tar -x -o -f - -C \"$1\"");
    ["sh", "-c", &script, "sh", dir].map(str::to_owned).to_vec()
}

/// The argv that writes a tar stream of `path` (as member `basename`) to stdout.
#[must_use]
pub fn tar_argv(path: &str) -> Vec<String> {
    let trimmed = path.trim_end_matches('/');
    let (parent, base) = match trimmed.rsplit_once('/') {
        Some(("", base)) => ("/", base),
        Some((parent, base)) => (parent, base),
        None => (".", trimmed),
    };
    let script = format!("{AS_ROOT}; r tar -c -f - -C \"$1\" \"$2\"");
    ["sh", "-c", &script, "sh", parent, base]
        .map(str::to_owned)
        .to_vec()
}

/// The argv that stops everything running in the container (PID 1 survives).
#[must_use]
pub fn kill_all_argv() -> Vec<String> {
    ["sh", "-c", KILL_ALL].map(str::to_owned).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_quotes_values_and_skips_bad_names() {
        let env = [
            ("A".to_owned(), "it's $HOME".to_owned()),
            ("B_2".to_owned(), String::new()),
            ("bad-name".to_owned(), "x".to_owned()),
        ];
        let text = env_file(&env);
        let words: Vec<Vec<String>> = text.lines().map(|l| shlex::split(l).unwrap()).collect();
        assert_eq!(words, [["export", "A=it's $HOME"], ["export", "B_2="]]);
    }

    #[test]
    fn run_argv_passes_options_as_arguments() {
        let exec = ExecSpec {
            argv: vec!["echo".into(), "hi there".into()],
            user: Some("agent".into()),
            workdir: Some("/work dir".into()),
            ..ExecSpec::default()
        };
        let argv = run_argv(&exec, Some("/tmp/.sforge-env.abc"));
        assert_eq!(argv[..2], ["sh", "-c"]);
        assert_eq!(
            argv[3..],
            [
                "sh",
                "/tmp/.sforge-env.abc",
                "agent",
                "/work dir",
                "echo",
                "hi there"
            ]
        );
        let plain = run_argv(
            &ExecSpec {
                argv: vec!["true".into()],
                ..ExecSpec::default()
            },
            None,
        );
        assert_eq!(plain[3..], ["sh", "", "", "", "true"]);
    }

    #[test]
    fn tar_argv_splits_parent_and_base() {
        assert_eq!(tar_argv("/a/b/c")[3..], ["sh", "/a/b", "c"]);
        assert_eq!(tar_argv("/top/")[3..], ["sh", "/", "top"]);
        assert_eq!(tar_argv("rel")[3..], ["sh", ".", "rel"]);
        assert_eq!(untar_argv("/x y")[3..], ["sh", "/x y"]);
    }
}

//! The shell programs run through `kubectl exec`, as pure argv builders. kubectl cannot pass
//! an environment, a user or a working directory, so a small `sh` prelude does it:
//!
//! - environment values never travel on an argv: they are written to a private file (umask 077)
//!   through stdin by a first exec, sourced and deleted by the command's own exec;
//! - the user is switched with `runuser -u` when the container runs as root (util-linux, in
//!   every Debian-based task image) and `sudo -n -u` otherwise (work images give `agent`
//!   passwordless sudo); no switch when already that user;
//! - copies run `tar` as root (`sudo -n` when needed), owner of extracted files root, like `docker cp`;
//! - the prelude's own tools (`sh`, `id`, `rm`, `runuser`, `sudo`, `mkdir`, `tar`, `kill`) are
//!   looked up in the system directories only, never through the image's `PATH`: a submission
//!   unpacked into a directory on that `PATH` cannot stand in for them
//!   (docs/security.md#archives).

use std::fmt::Write as _;

use crate::sandbox::ExecSpec;

/// The shell every program runs in (by absolute path: `kubectl exec` would search the image's
/// `PATH`).
const SH: &str = "/bin/sh";

/// `w NAME` prints the path of tool NAME found in the system directories only (nothing, and
/// status 1, when it is not there).
const WHICH: &str = "w() { (PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; \
command -v \"$1\"); }";

/// Creates the private file `$1` (which must not exist yet) from stdin.
const WRITE_ENV: &str = "umask 077; set -C; \"$(w cat)\" > \"$1\"";

/// `sh -c RUN sh ENVFILE USER DIR ARGV…` (after [`WHICH`]).
const RUN: &str = r#"f=$1; u=$2; d=$3; shift 3
if [ -n "$f" ]; then . "$f" || exit 126; "$(w rm)" -f "$f"; fi
if [ -n "$d" ]; then cd "$d" || exit 126; fi
if [ -n "$u" ] && [ "$u" != "$("$(w id)" -un)" ] && [ "$u" != "$("$(w id)" -u)" ]; then
  if [ "$("$(w id)" -u)" = 0 ]; then exec "$(w runuser)" -u "$u" -- "$@"; fi
  exec "$(w sudo)" -n -E -u "$u" -- "$@"
fi
exec "$@""#;

/// Runs its arguments (a tool name, then its arguments) as root (after [`WHICH`]).
const AS_ROOT: &str = r#"r() { t=$(w "$1"); shift; if [ "$("$(w id)" -u)" = 0 ]; then "$t" "$@"; else "$(w sudo)" -n "$t" "$@"; fi; }"#;

/// Kills every process of the container except PID 1 (and the caller; after [`WHICH`]).
const KILL_ALL: &str = r#"if [ "$("$(w id)" -u)" = 0 ]; then kill -KILL -1; else "$(w sudo)" -n "$(w kill)" -KILL -1 || kill -KILL -1; fi"#;

/// `SCRIPT` preceded by [`WHICH`].
fn with_which(script: &str) -> String {
    format!("{WHICH}\n{script}")
}

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
    vec![
        SH.into(),
        "-c".into(),
        with_which(WRITE_ENV),
        "sh".into(),
        path.into(),
    ]
}

/// The argv of `exec` with the env file (if any) at `env_path`.
#[must_use]
pub fn run_argv(exec: &ExecSpec, env_path: Option<&str>) -> Vec<String> {
    let mut argv: Vec<String> = vec![SH.into(), "-c".into(), with_which(RUN), "sh".into()];
    argv.push(env_path.unwrap_or("").to_owned());
    argv.push(exec.user.clone().unwrap_or_default());
    argv.push(exec.workdir.clone().unwrap_or_default());
    argv.extend(exec.argv.iter().cloned());
    argv
}

/// The argv that unpacks a tar stream from stdin into `dir` (created if missing).
#[must_use]
pub fn untar_argv(dir: &str) -> Vec<String> {
    let script = with_which(&format!(
        "{AS_ROOT}; r mkdir -p \"$1\" && r tar -x -o -f - -C \"$1\""
    ));
    [SH, "-c", &script, "sh", dir].map(str::to_owned).to_vec()
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
    let script = with_which(&format!("{AS_ROOT}; r tar -c -f - -C \"$1\" \"$2\""));
    [SH, "-c", &script, "sh", parent, base]
        .map(str::to_owned)
        .to_vec()
}

/// The argv that stops everything running in the container (PID 1 survives).
#[must_use]
pub fn kill_all_argv() -> Vec<String> {
    vec![SH.into(), "-c".into(), with_which(KILL_ALL)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Cmd, Output, RealRunner, Runner};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;

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
        assert_eq!(argv[..2], ["/bin/sh", "-c"]);
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

    /// Runs `argv` with the host's own `/bin/sh` and tools, with a directory of stand-ins first on
    /// `PATH` (an image whose `PATH` holds a directory the submission was unpacked into).
    fn run_with_hijack_path(argv: &[String], bin: &Path, stdin: Option<&Path>) -> Output {
        let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin.display());
        let mut cmd = Cmd::new(argv[0].clone())
            .args(argv[1..].iter().cloned())
            .env("PATH", path);
        if let Some(file) = stdin {
            cmd = cmd.stdin_file(file);
        }
        let out = RealRunner::new().run_unchecked(&cmd).expect("sh runs");
        assert!(
            out.status.success(),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    #[test]
    fn the_prelude_never_runs_tools_found_on_the_images_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let marker = dir.path().join("hijacked");
        for tool in [
            "sh", "id", "rm", "runuser", "sudo", "cat", "mkdir", "tar", "kill",
        ] {
            let script = format!("#!/bin/sh\necho {tool} >> '{}'\n", marker.display());
            std::fs::write(bin.join(tool), script).unwrap();
            std::fs::set_permissions(bin.join(tool), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        // The environment goes through a private file, sourced and removed.
        let env_text = dir.path().join("env.txt");
        std::fs::write(&env_text, env_file(&[("GREETING".into(), "hi".into())])).unwrap();
        let env = dir.path().join("env");
        let env_arg = env.display().to_string();
        run_with_hijack_path(&write_env_argv(&env_arg), &bin, Some(&env_text));
        assert!(env.is_file());
        // As root, the command runs as another user (runuser); otherwise as the caller.
        let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let exec = ExecSpec {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                "echo \"$GREETING $(/usr/bin/id -un)\"".into(),
            ],
            user: is_root.then(|| "nobody".into()),
            workdir: Some("/".into()),
            ..ExecSpec::default()
        };
        let out = run_with_hijack_path(&run_argv(&exec, Some(&env_arg)), &bin, None);
        let expected = if is_root { "hi nobody" } else { "hi " };
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(expected));
        assert!(!env.exists(), "the env file is removed");
        // Copies in and out.
        let archive = dir.path().join("in.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, "f.txt", &b"abc"[..])
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        let into = dir.path().join("copy/in").display().to_string();
        run_with_hijack_path(&untar_argv(&into), &bin, Some(&archive));
        let out = run_with_hijack_path(&tar_argv(&format!("{into}/f.txt")), &bin, None);
        assert!(out.stdout.windows(3).any(|w| w == b"abc"));
        assert!(
            !marker.exists(),
            "a stand-in ran: {}",
            std::fs::read_to_string(&marker).unwrap_or_default()
        );
    }
}

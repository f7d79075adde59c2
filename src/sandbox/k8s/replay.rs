//! How a printed plan produces the secret stdin of kubectl when it is replayed
//! (docs/architecture.md#plans): the pod's Secret and the env file of an exec, with every secret
//! value read from the replaying shell's environment, never printed.

use std::fmt::Write as _;

use super::manifest::{yaml_of, Pod, Secret};
use crate::process::replay::{heredoc_escape, secret_ref, ReplayStdin};
use crate::redact::{is_secret_env, MASK};
use crate::shell::{is_variable_name, quote};

/// The replaying shell's variable that holds the value of `env` (its own name when it can be
/// one).
fn source_var(env: &str) -> Option<&str> {
    is_variable_name(env).then_some(env)
}

/// The name of the pod's variable that refers to the Secret's `key` (the key itself if none).
fn env_of<'a>(pod: &'a Pod, key: &'a str) -> &'a str {
    pod.spec
        .containers
        .iter()
        .flat_map(|c| &c.env)
        .find(|e| {
            e.value_from
                .as_ref()
                .is_some_and(|v| v.secret_key_ref.key == key)
        })
        .map_or(key, |e| e.name.as_str())
}

/// `: "${NAME:?…}"`: the plan stops here when the secret is not set.
fn require(prelude: &mut String, var: &str) {
    let _ = writeln!(prelude, ": \"{}\"", secret_ref(var));
}

/// The Secret of `pod` with its values base64-encoded from the environment variables named
/// like the pod's variables that refer to them (`data:` in place of `stringData:`, which the
/// API server stores the same way).
#[must_use]
pub fn secret_replay(secret: &Secret, pod: &Pod) -> ReplayStdin {
    let redacted = yaml_of(&secret.redacted());
    let mut body = String::new();
    let mut prelude = String::new();
    let mut lines = redacted.lines();
    for line in lines.by_ref() {
        if line == "stringData:" {
            body.push_str("data:\n");
            break;
        }
        let _ = writeln!(body, "{}", heredoc_escape(line));
    }
    let masked = [format!("'{MASK}'"), format!("\"{MASK}\""), MASK.to_owned()];
    let mut values: Vec<&str> = Vec::new();
    let mut rest = String::new();
    for line in lines {
        if line.starts_with(' ') && rest.is_empty() {
            values.push(line);
        } else {
            let _ = writeln!(rest, "{}", heredoc_escape(line));
        }
    }
    for ((n, key), line) in (1..).zip(secret.string_data.keys()).zip(values) {
        let var = format!("SFORGE_SECRET_B64_{n}");
        match source_var(env_of(pod, key)) {
            Some(source) => {
                require(&mut prelude, source);
                let _ = writeln!(
                    prelude,
                    "{var}=$(printf %s \"${source}\" | base64 | tr -d '\\n')"
                );
            }
            None => {
                let _ = writeln!(prelude, "{var}=");
            }
        }
        let value = masked
            .iter()
            .find_map(|m| line.strip_suffix(m.as_str()))
            .unwrap_or(line);
        let _ = writeln!(body, "{}${{{var}}}", heredoc_escape(value));
    }
    body.push_str(&rest);
    ReplayStdin { prelude, body }
}

/// The env file of an exec (`export NAME='value'` lines): secret values come from the
/// environment variables of the same names, quoted for `sh` when the plan is replayed.
#[must_use]
pub fn env_file_replay(env: &[(String, String)]) -> ReplayStdin {
    let mut prelude = String::new();
    let mut body = String::new();
    let mut n = 0;
    for (name, value) in env {
        if !is_variable_name(name) {
            continue;
        }
        if is_secret_env(name, value) {
            n += 1;
            let var = format!("SFORGE_SECRET_Q_{n}");
            require(&mut prelude, name);
            let _ = writeln!(
                prelude,
                "{var}=$(printf '%s\\n' \"${name}\" | sed \"s/'/'\\\\\\\\''/g\")"
            );
            let _ = writeln!(body, "export {name}='${{{var}}}'");
        } else {
            let line = format!("export {name}={}", quote(value));
            let _ = writeln!(body, "{}", heredoc_escape(&line));
        }
    }
    ReplayStdin { prelude, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{script_text, Cmd, RealRunner, Runner};

    /// Replays the plan line of a command reading `replay` on stdin with `env`; its stdin.
    fn replayed(replay: ReplayStdin, env: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = Cmd::new("sh")
            .args(["-c", "cat > stdin"])
            .secret_stdin_bytes("secret text")
            .replay_stdin(replay);
        let text = script_text(&cmd);
        assert!(!text.contains("secret text"));
        let plan = dir.path().join("plan.sh");
        std::fs::write(&plan, format!("set -eu\n{text}")).expect("write");
        let mut sh = Cmd::new("sh")
            .arg(plan.display().to_string())
            .cwd(dir.path());
        for (k, v) in env {
            sh = sh.env(*k, *v);
        }
        RealRunner::new().run(&sh).expect("the plan runs");
        std::fs::read_to_string(dir.path().join("stdin")).expect("stdin")
    }

    #[test]
    fn the_env_file_takes_secrets_from_the_environment_quoted_for_sh() {
        let env = [
            ("API_KEY".to_owned(), "printed-never".to_owned()),
            ("PLAIN".to_owned(), "a $b".to_owned()),
        ];
        let tricky = "it's `x` $HOME \\";
        let file = replayed(env_file_replay(&env), &[("API_KEY", tricky)]);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("env"), file).expect("write");
        let read = Cmd::new("sh")
            .args(["-c", ". ./env; printf '%s|%s' \"$API_KEY\" \"$PLAIN\""])
            .cwd(dir.path());
        let out = RealRunner::new().run(&read).expect("source");
        assert_eq!(out.stdout_str(), format!("{tricky}|a $b"));
    }

    #[test]
    fn the_secret_holds_base64_data_from_the_environment() {
        let config = super::super::K8sConfig::example();
        let spec = crate::sandbox::ContainerSpec {
            name: "sforge.run.t.r".into(),
            image: "img".into(),
            env: vec![("API_KEY".into(), "printed-never".into())],
            ..crate::sandbox::ContainerSpec::default()
        };
        let objects = super::super::objects(&spec, &config).expect("objects");
        let secret = objects.secret.expect("a secret");
        let yaml = replayed(secret_replay(&secret, &objects.pod), &[("API_KEY", "k3y")]);
        assert!(!yaml.contains("stringData"), "{yaml}");
        let key = secret.string_data.keys().next().expect("a key");
        assert!(
            yaml.contains(&format!("\ndata:\n  {key}: azN5\n")),
            "{yaml}"
        );
        assert!(yaml.contains(&format!("name: {}\n", secret.metadata.name)));
        assert!(yaml.contains("\ntype: Opaque\n"), "{yaml}");
    }
}

//! Renders a [`Cmd`] as one line a user can paste into `sh`: env assignments, then the
//! shell-quoted program and arguments; secrets appear as `***`, stdin is not shown.

use std::fmt;

use super::cmd::Cmd;
use crate::shell::{is_variable_name, quote};

impl fmt::Display for Cmd {
    /// `K=V program 'arg 1'`; with a cwd, `(cd DIR && …)`; keys that are not `sh`
    /// names are passed through `env 'K-1=V'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = self.get_cwd() {
            write!(f, "(cd {} && ", quote(&dir.to_string_lossy()))?;
        }
        if self.get_env().iter().any(|(k, _)| !is_variable_name(k)) {
            f.write_str("env ")?;
            for (key, value) in self.get_env() {
                write!(f, "{} ", quote(&format!("{key}={}", value.shown())))?;
            }
        } else {
            for (key, value) in self.get_env() {
                write!(f, "{key}={} ", quote(value.shown()))?;
            }
        }
        f.write_str(&quote(self.program()))?;
        for arg in self.get_args() {
            write!(f, " {}", quote(arg))?;
        }
        if self.get_cwd().is_some() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cmd: &Cmd) -> String {
        cmd.to_string()
    }

    /// Splitting the displayed line the way `sh` would gives back the argv.
    fn round_trips(args: &[&str]) {
        let cmd = Cmd::new("prog").args(args.iter().copied());
        let split = shlex::split(&line(&cmd)).expect("valid shell words");
        assert_eq!(split[1..], *args, "line: {}", line(&cmd));
    }

    #[test]
    fn plain_words_are_not_quoted() {
        let cmd = Cmd::new("docker").args(["image", "inspect", "a/b:1.0"]);
        assert_eq!(line(&cmd), "docker image inspect a/b:1.0");
    }

    #[test]
    fn awkward_words_are_quoted_and_round_trip() {
        let cmd = Cmd::new("echo").args(["it's", "two words", "$HOME", "", "héllo ☃"]);
        let shown = line(&cmd);
        assert!(!shown.contains(" $HOME"), "{shown}");
        assert!(
            shown.contains(" ''"),
            "empty arg must stay visible: {shown}"
        );
        round_trips(&[
            "it's",
            "two words",
            "$HOME",
            "",
            "héllo ☃",
            "a\"b",
            "x;y|z",
            "*",
        ]);
    }

    #[test]
    fn nul_is_shown_not_dropped() {
        let shown = line(&Cmd::new("printf").arg("a\0b"));
        let words = shlex::split(&shown).expect("valid shell words");
        assert_eq!(words, ["printf", "a\\0b"]);
    }

    #[test]
    fn env_comes_first_and_secrets_are_masked() {
        let cmd = Cmd::new("docker")
            .arg("login")
            .env("DOCKER_CONFIG", "/tmp/my dir")
            .secret_env("TOKEN", "hunter2");
        let shown = line(&cmd);
        assert_eq!(
            shown,
            "DOCKER_CONFIG='/tmp/my dir' TOKEN='***' docker login"
        );
        assert!(!format!("{cmd:?}").contains("hunter2"));
        assert_eq!(cmd.env_value("TOKEN"), Some("hunter2"));
    }

    #[test]
    fn env_keys_that_are_not_sh_names_use_env() {
        let cmd = Cmd::new("true").env("A-B", "1");
        assert_eq!(line(&cmd), "env 'A-B=1' true");
    }

    #[test]
    fn setting_a_key_twice_keeps_the_last_value() {
        let cmd = Cmd::new("true").env("K", "1").secret_env("K", "2");
        assert_eq!(cmd.get_env().len(), 1);
        assert_eq!(line(&cmd), "K='***' true");
    }

    #[test]
    fn cwd_is_a_subshell_and_stdin_is_not_shown() {
        let cmd = Cmd::new("make").cwd("/src/my project").stdin_bytes("data");
        assert_eq!(line(&cmd), "(cd '/src/my project' && make)");
        assert_eq!(cmd.to_script_line(), line(&cmd));
    }
}

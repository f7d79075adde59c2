//! The embedded template set (`templates/`), rendered with minijinja in strict mode: a missing
//! variable is an error, never an empty string.

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

const TEMPLATES: [(&str, &str); 21] = [
    (
        "base.Dockerfile",
        include_str!("../templates/docker/base.Dockerfile.j2"),
    ),
    (
        "task.Dockerfile",
        include_str!("../templates/docker/task.Dockerfile.j2"),
    ),
    ("setup.sh", include_str!("../templates/docker/setup.sh.j2")),
    ("eval.sh", include_str!("../templates/judge/eval.sh.j2")),
    (
        "sforge-submit.sh",
        include_str!("../templates/agent/sforge-submit.sh.j2"),
    ),
    ("prompt.md", include_str!("../templates/agent/prompt.md.j2")),
    (
        "game_prompt.md",
        include_str!("../templates/agent/game_prompt.md.j2"),
    ),
    (
        "stop-hook.sh",
        include_str!("../templates/agent/stop-hook.sh.j2"),
    ),
    (
        "codex-hooks-enable.sh",
        include_str!("../templates/agent/codex-hooks-enable.sh.j2"),
    ),
    (
        "ca-trust.sh",
        include_str!("../templates/agent/ca-trust.sh.j2"),
    ),
    (
        "codex-config.sh",
        include_str!("../templates/agent/codex-config.sh.j2"),
    ),
    (
        "audit/forger.py",
        include_str!("../templates/audit/forger.py.j2"),
    ),
    (
        "audit/forger.sh",
        include_str!("../templates/audit/forger.sh.j2"),
    ),
    (
        "audit/pass_hook.py",
        include_str!("../templates/audit/pass_hook.py.j2"),
    ),
    (
        "audit/leaker.py",
        include_str!("../templates/audit/leaker.py.j2"),
    ),
    (
        "audit/flood.py",
        include_str!("../templates/audit/flood.py.j2"),
    ),
    (
        "audit/sleep.py",
        include_str!("../templates/audit/sleep.py.j2"),
    ),
    (
        "audit/fork_storm.py",
        include_str!("../templates/audit/fork_storm.py.j2"),
    ),
    (
        "audit/build.rs",
        include_str!("../templates/audit/build.rs.j2"),
    ),
    (
        "audit/go_hook.go",
        include_str!("../templates/audit/go_hook.go.j2"),
    ),
    (
        "audit/buildsrc.gradle",
        include_str!("../templates/audit/buildsrc.gradle.j2"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        for (name, text) in TEMPLATES {
            // The templates are part of the binary; a syntax error is caught by the unit tests.
            env.add_template(name, text)
                .expect("embedded template must parse");
        }
        env
    })
}

/// Render the embedded template `name` with `context`.
pub fn render(name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
    environment().get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        for (name, _) in super::TEMPLATES {
            assert!(super::environment().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        for (name, _) in super::TEMPLATES {
            let err = super::render(name, minijinja::context! {}).unwrap_err();
            assert!(err.to_string().contains("undefined"), "{name}: {err}");
        }
    }
}

//! The programs a Work image must have for sforge to install and drive an agent in it, checked
//! before any install step so that a missing one is named at once with its fix, instead of
//! surfacing as a broken pipe halfway through an install.

use super::Agent;

/// A program the Work image needs, and what needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Required {
    pub program: &'static str,
    pub needed_by: &'static str,
}

const fn req(program: &'static str, needed_by: &'static str) -> Required {
    Required { program, needed_by }
}

/// What `sforge-submit`, the stop hook and every install step need, whatever the agent.
const TOOLS: [Required; 5] = [
    req("bash", "every install step and the agent's command"),
    req("curl", "sforge-submit"),
    req("jq", "sforge-submit"),
    req("tar", "sforge-submit"),
    req("gzip", "sforge-submit"),
];

/// The Node.js download and the global npm install of the npm-based agents.
const NODE_INSTALL: [Required; 3] = [
    req("curl", "the Node.js download"),
    req("tar", "unpacking Node.js"),
    req("sudo", "the global npm install"),
];

impl Agent {
    /// Every program this agent needs in the Work image, each once (the first reason kept).
    #[must_use]
    pub fn required_programs(self) -> Vec<Required> {
        let own: &[Required] = match self {
            Agent::ClaudeCode | Agent::Codex => &NODE_INSTALL,
            Agent::Script => &[],
        };
        let mut all: Vec<Required> = Vec::new();
        for r in TOOLS.iter().chain(own) {
            if !all.iter().any(|a| a.program == r.program) {
                all.push(*r);
            }
        }
        all
    }
}

/// A POSIX `sh` script that prints each of `required` that is not on `PATH`, one per line, and
/// fails when it printed any (so a replayed dry-run script stops there too).
#[must_use]
pub fn missing_programs_check(required: &[Required]) -> String {
    let names: Vec<&str> = required.iter().map(|r| r.program).collect();
    format!(
        "missing=0; for p in {}; do command -v \"$p\" >/dev/null 2>&1 || {{ echo \"$p\"; missing=1; }}; done; exit $missing",
        names.join(" ")
    )
}

/// `curl (sforge-submit), sudo (the global npm install)` for the programs named in `missing`.
#[must_use]
pub fn describe_missing(required: &[Required], missing: &[&str]) -> String {
    required
        .iter()
        .filter(|r| missing.contains(&r.program))
        .map(|r| format!("{} ({})", r.program, r.needed_by))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_agents_need_the_node_install_tools_and_no_xz() {
        for agent in [Agent::ClaudeCode, Agent::Codex] {
            let names: Vec<&str> = agent
                .required_programs()
                .iter()
                .map(|r| r.program)
                .collect();
            assert_eq!(
                names,
                ["bash", "curl", "jq", "tar", "gzip", "sudo"],
                "{agent}"
            );
        }
        let script: Vec<&str> = Agent::Script
            .required_programs()
            .iter()
            .map(|r| r.program)
            .collect();
        assert_eq!(script, ["bash", "curl", "jq", "tar", "gzip"]);
    }

    #[test]
    fn the_check_prints_only_what_is_missing() {
        let check = missing_programs_check(&Agent::Codex.required_programs());
        assert!(
            check.contains("for p in bash curl jq tar gzip sudo; do"),
            "{check}"
        );
        let text = describe_missing(&Agent::ClaudeCode.required_programs(), &["jq", "sudo"]);
        assert_eq!(text, "jq (sforge-submit), sudo (the global npm install)");
    }
}

//! The pieces an agent's plan is made of: install steps and who runs them, files to copy into
//! the Work container, stop hooks, the run-time options of a command line, and the Node.js step
//! the npm-based agents share.

/// Where the prompt is copied inside the Work container; the run command reads it from there,
/// so the prompt never appears on a command line.
pub const PROMPT_FILE: &str = "/tmp/agent_prompt.md";
/// Node.js release installed for the npm-based agents.
pub const NODE_VERSION: &str = "v20.18.0";

/// Who runs an install step inside the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Root,
    /// The image's `agent` user (the Work container default).
    Agent,
}

/// One install command: `/bin/bash -c <script>` as `user`, with the container environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallStep {
    pub script: String,
    pub user: User,
}

/// A file to copy into the container before the steps that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFile {
    pub path: String,
    pub content: String,
    pub mode: u32,
    /// Owned by root (else by the agent user).
    pub root: bool,
    /// Name of the local copy in the task's log directory (docs/compatibility.md#run-directory).
    pub local_copy: Option<String>,
}

/// What installing a stop hook takes: files to copy (as root), then steps to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopHook {
    pub files: Vec<ContainerFile>,
    pub steps: Vec<InstallStep>,
}

/// The run-time choices that change an agent's command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The effective model, if any.
    pub model: Option<String>,
    /// Whether the task may reach the internet.
    pub internet: bool,
    /// `SFORGE_CLAUDE_CACHE_OPT` (claude-code only).
    pub cache_opt: bool,
}

impl InstallStep {
    pub(crate) fn new(script: impl Into<String>, user: User) -> Self {
        Self {
            script: script.into(),
            user,
        }
    }

    /// `["/bin/bash", "-c", script]`, for a backend that can pick the exec user.
    #[must_use]
    pub fn argv(&self) -> Vec<String> {
        vec!["/bin/bash".into(), "-c".into(), self.script.clone()]
    }

    /// The same command for a backend that always execs as `agent` (k8s): root steps go through
    /// `sudo -E`, which keeps the container environment.
    #[must_use]
    pub fn argv_as_agent(&self) -> Vec<String> {
        match self.user {
            User::Agent => self.argv(),
            User::Root => ["sudo", "-E"]
                .into_iter()
                .map(String::from)
                .chain(self.argv())
                .collect(),
        }
    }
}

/// The Node.js step shared by the npm-based agents: the official x64 tarball (or the mirror in
/// `SFORGE_NODEJS_MIRROR_URL`) unpacked into `/usr/local`, as root. The gzip tarball, not the
/// xz one: `tar -z` needs only gzip, which every image with tar has (xz often is missing).
pub(super) fn node_step() -> InstallStep {
    InstallStep::new(
        format!(
            "set -o pipefail; curl -fsSL \
             \"${{SFORGE_NODEJS_MIRROR_URL:-https://nodejs.org/dist}}/{NODE_VERSION}/node-{NODE_VERSION}-linux-x64.tar.gz\" \
             | tar -xz -C /usr/local --strip-components=1"
        ),
        User::Root,
    )
}

//! The resolved settings and the all-`Option` layer they are merged from.
//! Both structs are generated from one field list so a new setting is declared once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::parse::{HostEntry, Malformed};
use super::source::{Source, Sourced};

/// Container backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    Docker,
    K8s,
}

impl Backend {
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        match text.trim() {
            "docker" => Ok(Backend::Docker),
            "k8s" => Ok(Backend::K8s),
            _ => Err(Malformed::expected("docker or k8s")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Docker => "docker",
            Backend::K8s => "k8s",
        })
    }
}

/// How a value type merges over a lower layer and renders as JSON.
pub trait SettingValue: Clone {
    /// Combine with the value of a lower layer; by default the higher layer replaces it.
    fn merge_over(upper: Sourced<Self>, _lower: Sourced<Self>) -> Sourced<Self> {
        upper
    }
    fn to_json(&self) -> Value;
}

impl SettingValue for Option<String> {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for Option<u32> {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for Option<u64> {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for u64 {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for bool {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for String {
    fn to_json(&self) -> Value {
        json!(self)
    }
}
impl SettingValue for PathBuf {
    fn to_json(&self) -> Value {
        json!(self.display().to_string())
    }
}
impl SettingValue for Option<PathBuf> {
    fn to_json(&self) -> Value {
        json!(self.as_ref().map(|p| p.display().to_string()))
    }
}
impl SettingValue for Backend {
    fn to_json(&self) -> Value {
        json!(self.to_string())
    }
}
impl SettingValue for Vec<HostEntry> {
    fn to_json(&self) -> Value {
        json!(self
            .iter()
            .map(|h| format!("{}:{}", h.host, h.ip))
            .collect::<Vec<_>>())
    }
}

/// Maps (extra env, node selector) merge key by key; the higher layer wins per key.
impl SettingValue for BTreeMap<String, String> {
    fn merge_over(upper: Sourced<Self>, lower: Sourced<Self>) -> Sourced<Self> {
        if lower.value.is_empty() {
            return upper;
        }
        let mut value = lower.value;
        value.extend(upper.value);
        let mut parts = match lower.source {
            Source::Merged(parts) => parts,
            other => vec![other],
        };
        parts.push(upper.source);
        Sourced::new(value, Source::Merged(parts))
    }
    fn to_json(&self) -> Value {
        json!(self)
    }
}

macro_rules! settings {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty = $default:expr ; )*) => {
        /// One layer of settings (defaults, environment, experiment block, task file, flags).
        #[derive(Debug, Clone, Default)]
        pub struct Layer {
            $( pub $field: Option<Sourced<$ty>>, )*
        }

        /// Fully resolved settings; every value carries its source.
        #[derive(Debug, Clone)]
        pub struct Settings {
            $( $(#[$doc])* pub $field: Sourced<$ty>, )*
        }

        impl Settings {
            /// Merge layers, lowest priority first, over the built-in defaults.
            #[must_use]
            pub fn merge(layers: &[&Layer]) -> Settings {
                Settings {
                    $( $field: layers.iter().fold(
                        Sourced::new($default, Source::Default),
                        |lower, layer| match &layer.$field {
                            Some(upper) => SettingValue::merge_over(upper.clone(), lower),
                            None => lower,
                        },
                    ), )*
                }
            }

            /// Every setting as (name, value as JSON, source), in declaration order.
            #[must_use]
            pub fn entries(&self) -> Vec<(&'static str, Value, &Source)> {
                vec![ $( (stringify!($field), self.$field.value.to_json(), &self.$field.source), )* ]
            }
        }
    };
}

settings! {
    // Proxies and mirrors.
    http_proxy: Option<String> = None;
    https_proxy: Option<String> = None;
    no_proxy: Option<String> = None;
    pypi_index_url: Option<String> = None;
    maven_mirror_url: Option<String> = None;
    go_proxy: Option<String> = None;
    nodejs_mirror_url: Option<String> = None;
    npm_registry_url: Option<String> = None;
    apt_mirror_url: Option<String> = None;
    /// A PEM file of extra CA certificates the Work container trusts (TLS-inspecting proxies).
    ca_file: Option<PathBuf> = None;
    // Agent.
    agent_api_key: Option<String> = None;
    agent_api_base_url: Option<String> = None;
    agent_model: Option<String> = None;
    /// Seconds; `None` means the agent's default (3600).
    agent_timeout: Option<u64> = None;
    agent_extra_env: BTreeMap<String, String> = BTreeMap::new();
    claude_cache_opt: bool = false;
    // Judge.
    judge_extra_env: BTreeMap<String, String> = BTreeMap::new();
    /// Warm judge containers kept per run, task and limits (`None`: the measured default).
    judge_pool: Option<u32> = None;
    // Git credentials for builds.
    git_user: Option<String> = None;
    git_token: Option<String> = None;
    // Resource limits.
    work_cpu_limit: Option<u32> = None;
    work_mem_limit: Option<String> = None;
    judge_cpu_limit: Option<u32> = None;
    judge_mem_limit: Option<String> = None;
    extra_hosts: Vec<HostEntry> = Vec::new();
    registry: Option<String> = None;
    backend: Backend = Backend::Docker;
    /// The docker client to run (a name on PATH or a path).
    docker: String = "docker".to_owned();
    // Kubernetes.
    k8s_namespace: String = "default".to_owned();
    k8s_node_selector: BTreeMap<String, String> = BTreeMap::new();
    k8s_image_registry: String = String::new();
    k8s_kubeconfig: Option<String> = None;
    /// Registries spoken to over plain HTTP by the image check (comma-separated hosts).
    insecure_registries: String = String::new();
    /// The kubectl client (a name on PATH or a path).
    kubectl: String = "kubectl".to_owned();
    /// Where cluster DNS runs (`ns=<namespace>,<label>=<value>,…`): the only DNS isolated pods reach.
    k8s_dns_selector: String = "ns=kube-system,k8s-app=kube-dns".to_owned();
    /// Seconds a pod may take to become Running.
    k8s_start_timeout: u64 = 300;
    // Paths (absolute).
    log_dir: PathBuf = PathBuf::from("logs");
    tasks_dir: PathBuf = PathBuf::from("tasks");
    // Run settings (experiment file and `sforge run` flags).
    agent: Option<String> = None;
    /// Seconds between automatic evaluations; 0 turns them off.
    eval_interval: u64 = 300;
    disable_auto_eval: bool = false;
    disable_stop_hook: bool = false;
    disable_auto_resume: bool = false;
    internet: bool = true;
    max_submissions: Option<u32> = None;
    submission_cooldown: Option<u64> = None;
    judge_url: String = DEFAULT_JUDGE_URL.to_owned();
    stagger: Option<u64> = None;
    /// Largest snapshot of the agent's code (`.tar.gz`, MiB) taken for auto rounds and the final
    /// archive; a larger one is refused as the agent's doing (docs/security.md#bounded-reads).
    snapshot_max_mib: u64 = 256;
    /// Seconds `tar` may take to make that snapshot in the Work container.
    snapshot_timeout: u64 = 300;
    // Network isolation.
    /// The iptables and ip6tables programs (`sudo -n` is put in front unless sforge runs as root).
    iptables: String = "iptables".to_owned();
    ip6tables: String = "ip6tables".to_owned();
}

/// The judge URL as seen from inside a Docker Work container.
pub const DEFAULT_JUDGE_URL: &str = "http://host.docker.internal:8080";

/// Settings whose values are never shown.
pub const SECRET_SETTINGS: [&str; 2] = ["agent_api_key", "git_token"];

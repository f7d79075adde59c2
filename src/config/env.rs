//! The environment as a map (tests never touch the process environment), the variables an
//! experiment's `env:` section adds, and the environment layer of the settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::dns::DnsSelector;
use super::error::ConfigError;
use super::parse::{self, Malformed};
use super::settings::{Backend, Layer};
use super::source::{Source, Sourced};

/// Environment variables, remembering which ones an experiment file set.
#[derive(Debug, Clone, Default)]
pub struct EnvMap {
    vars: BTreeMap<String, String>,
    from_experiment: BTreeMap<String, PathBuf>,
}

impl EnvMap {
    /// A snapshot of the process environment (non-UTF-8 values are converted lossily).
    #[must_use]
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        EnvMap {
            vars,
            from_experiment: BTreeMap::new(),
        }
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Set a variable from an experiment file's `env:` section.
    pub fn set_from_experiment(&mut self, name: &str, value: &str, file: PathBuf) {
        self.vars.insert(name.to_owned(), value.to_owned());
        self.from_experiment.insert(name.to_owned(), file);
    }

    /// The first of `names` that is set (an empty value counts as set), with its source.
    #[must_use]
    pub fn lookup(&self, names: &[&str]) -> Option<(&str, Source)> {
        names.iter().find_map(|name| {
            let value = self.vars.get(*name)?;
            let source = match self.from_experiment.get(*name) {
                Some(file) => Source::ExperimentEnv {
                    file: file.clone(),
                    var: (*name).to_owned(),
                },
                None => Source::Env((*name).to_owned()),
            };
            Some((value.as_str(), source))
        })
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EnvMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let vars = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        EnvMap {
            vars,
            from_experiment: BTreeMap::new(),
        }
    }
}

/// Reads typed values from the environment, naming the variable on bad input.
struct Reader<'a>(&'a EnvMap);

impl Reader<'_> {
    /// A string setting: the first variable set wins; an empty value means "unset".
    fn text(&self, names: &[&str]) -> Option<Sourced<Option<String>>> {
        let (value, source) = self.0.lookup(names)?;
        let value = (!value.is_empty()).then(|| value.to_owned());
        Some(Sourced::new(value, source))
    }

    /// A value parsed from a non-empty variable.
    fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Malformed>,
    ) -> Result<Option<Sourced<T>>, ConfigError> {
        match self.0.lookup(&[name]) {
            None => Ok(None),
            Some((value, _)) if value.trim().is_empty() => Ok(None),
            Some((value, source)) => {
                parse(value)
                    .map(|v| Some(Sourced::new(v, source)))
                    .map_err(|e| ConfigError::Env {
                        var: name.to_owned(),
                        value: value.to_owned(),
                        expected: e.expected,
                    })
            }
        }
    }
}

/// The environment layer: every `SFORGE_*` variable (and the proxy fallbacks) that is set.
pub fn env_layer(env: &EnvMap) -> Result<Layer, ConfigError> {
    let r = Reader(env);
    let cpus = |t: &str| parse::whole::<u32>(t, "a whole number of CPUs, e.g. 4").map(Some);
    let mem = |t: &str| parse::mem_limit(t).map(Some);
    // 0 means "not set", as in SForge 1.0.
    let timeout = |t: &str| {
        parse::whole::<u64>(t, "a whole number of seconds, e.g. 3600").map(|n| (n > 0).then_some(n))
    };
    Ok(Layer {
        http_proxy: r.text(&["SFORGE_HTTP_PROXY", "HTTP_PROXY", "http_proxy"]),
        https_proxy: r.text(&["SFORGE_HTTPS_PROXY", "HTTPS_PROXY", "https_proxy"]),
        no_proxy: r.text(&["SFORGE_NO_PROXY", "NO_PROXY", "no_proxy"]),
        pypi_index_url: r.text(&["SFORGE_PYPI_INDEX_URL"]),
        maven_mirror_url: r.text(&["SFORGE_MAVEN_MIRROR_URL"]),
        go_proxy: r.text(&["SFORGE_GO_PROXY"]),
        nodejs_mirror_url: r.text(&["SFORGE_NODEJS_MIRROR_URL"]),
        npm_registry_url: r.text(&["SFORGE_NPM_REGISTRY_URL"]),
        apt_mirror_url: r.text(&["SFORGE_APT_MIRROR_URL"]),
        ca_file: r.parsed("SFORGE_CA_FILE", |t| Ok(Some(PathBuf::from(t))))?,
        agent_api_key: r.text(&["SFORGE_AGENT_API_KEY"]),
        agent_api_base_url: r.text(&["SFORGE_AGENT_API_BASE_URL"]),
        agent_model: r.text(&["SFORGE_AGENT_MODEL"]),
        agent_timeout: r.parsed("SFORGE_AGENT_TIMEOUT", timeout)?,
        agent_extra_env: r.parsed("SFORGE_AGENT_EXTRA_ENV", |t| Ok(parse::kv_list(t)))?,
        claude_cache_opt: r
            .0
            .lookup(&["SFORGE_CLAUDE_CACHE_OPT"])
            .map(|(v, source)| Sourced::new(parse::flag_on(v), source)),
        judge_extra_env: r.parsed("SFORGE_JUDGE_EXTRA_ENV", |t| Ok(parse::kv_list(t)))?,
        judge_pool: r.parsed("SFORGE_JUDGE_POOL", |t| {
            let expected = "a whole number of containers from 0 to 64, e.g. 2";
            match parse::whole::<u32>(t, expected)? {
                n @ 0..=64 => Ok(Some(n)),
                _ => Err(Malformed::expected(expected)),
            }
        })?,
        git_user: r.text(&["SFORGE_GIT_USER"]),
        git_token: r.text(&["SFORGE_GIT_TOKEN"]),
        work_cpu_limit: r.parsed("SFORGE_WORK_CPU_LIMIT", cpus)?,
        work_mem_limit: r.parsed("SFORGE_WORK_MEM_LIMIT", mem)?,
        extra_hosts: r.parsed("SFORGE_EXTRA_HOSTS", parse::host_list)?,
        registry: r.text(&["SFORGE_REGISTRY"]),
        backend: r.parsed("SFORGE_BACKEND", Backend::parse)?,
        docker: r.parsed("SFORGE_DOCKER", |t| Ok(t.trim().to_owned()))?,
        iptables: r.parsed("SFORGE_IPTABLES", |t| Ok(t.trim().to_owned()))?,
        ip6tables: r.parsed("SFORGE_IP6TABLES", |t| Ok(t.trim().to_owned()))?,
        k8s_namespace: r.parsed("SFORGE_K8S_NAMESPACE", |t| Ok(t.trim().to_owned()))?,
        k8s_node_selector: r.parsed("SFORGE_K8S_NODE_SELECTOR", |t| Ok(parse::kv_list(t)))?,
        k8s_image_registry: r.parsed("SFORGE_K8S_IMAGE_REGISTRY", |t| Ok(t.trim().to_owned()))?,
        k8s_kubeconfig: r.text(&["SFORGE_K8S_KUBECONFIG"]),
        insecure_registries: r.parsed("SFORGE_INSECURE_REGISTRIES", |t| Ok(t.trim().to_owned()))?,
        kubectl: r.parsed("SFORGE_KUBECTL", |t| Ok(t.trim().to_owned()))?,
        k8s_dns_selector: r.parsed("SFORGE_K8S_DNS_SELECTOR", |t| {
            DnsSelector::parse(t)
                .map(|_| t.trim().to_owned())
                .map_err(|e| Malformed::expected(format!("ns=<namespace>,<label>=<value>,… ({e})")))
        })?,
        k8s_start_timeout: r.parsed("SFORGE_K8S_START_TIMEOUT", |t| {
            parse::whole::<u64>(t, "a whole number of seconds, e.g. 300")
        })?,
        snapshot_max_mib: r.parsed("SFORGE_SNAPSHOT_MAX_MIB", |t| {
            parse::whole::<u64>(t, "a whole number of MiB, e.g. 256")
        })?,
        snapshot_timeout: r.parsed("SFORGE_SNAPSHOT_TIMEOUT", |t| {
            parse::whole::<u64>(t, "a whole number of seconds, e.g. 300")
        })?,
        log_dir: r.parsed("SFORGE_LOG_DIR", |t| Ok(PathBuf::from(t)))?,
        tasks_dir: r.parsed("SFORGE_TASKS_DIR", |t| Ok(PathBuf::from(t)))?,
        ..Layer::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(vars: &[(&str, &str)]) -> Result<Layer, ConfigError> {
        env_layer(&vars.iter().copied().collect())
    }

    #[test]
    fn proxy_chain_prefers_sforge_then_upper_then_lower() {
        let l = layer(&[
            ("HTTP_PROXY", "http://upper"),
            ("http_proxy", "http://lower"),
        ])
        .unwrap();
        let p = l.http_proxy.unwrap();
        assert_eq!(p.value.as_deref(), Some("http://upper"));
        assert_eq!(p.source, Source::Env("HTTP_PROXY".into()));
    }

    #[test]
    fn empty_proxy_counts_as_set_and_means_no_proxy() {
        let l = layer(&[("SFORGE_HTTPS_PROXY", ""), ("HTTPS_PROXY", "http://p:3128")]).unwrap();
        let p = l.https_proxy.unwrap();
        assert_eq!(p.value, None);
        assert_eq!(p.source, Source::Env("SFORGE_HTTPS_PROXY".into()));
    }

    #[test]
    fn bad_numbers_name_the_variable_and_the_expected_form() {
        let err = layer(&[("SFORGE_WORK_CPU_LIMIT", "2.5")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid SFORGE_WORK_CPU_LIMIT=\"2.5\": expected a whole number of CPUs, e.g. 4"
        );
        let err = layer(&[("SFORGE_AGENT_TIMEOUT", "1h")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SFORGE_AGENT_TIMEOUT") && err.contains("seconds"),
            "{err}"
        );
        let err = layer(&[("SFORGE_BACKEND", "podman")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("docker or k8s"), "{err}");
    }

    #[test]
    fn zero_timeout_means_unset() {
        let l = layer(&[("SFORGE_AGENT_TIMEOUT", "0")]).unwrap();
        assert_eq!(l.agent_timeout.unwrap().value, None);
    }

    #[test]
    fn lists_and_maps_are_parsed() {
        let l = layer(&[
            ("SFORGE_AGENT_EXTRA_ENV", "A=1,B=2"),
            ("SFORGE_K8S_NODE_SELECTOR", "pool=gpu"),
            ("SFORGE_EXTRA_HOSTS", "git.local:10.1.2.3"),
            ("SFORGE_CLAUDE_CACHE_OPT", "False"),
        ])
        .unwrap();
        assert_eq!(l.agent_extra_env.unwrap().value.len(), 2);
        assert_eq!(l.k8s_node_selector.unwrap().value["pool"], "gpu");
        assert_eq!(l.extra_hosts.unwrap().value[0].ip, "10.1.2.3");
        assert!(!l.claude_cache_opt.unwrap().value);
    }
}

//! `sforge proxy`: the API reverse proxy on the host, optionally keyless (the real key stays here).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::cli::ProxyArgs;
use crate::config::{EnvMap, Settings};
use crate::proxy::{keyless, upstream, KeyHeader, Keyless, ProxyConfig, ProxyEnv, RunningProxy};

pub fn serve_proxy(
    settings: &Settings,
    env: &EnvMap,
    args: &ProxyArgs,
) -> anyhow::Result<ExitCode> {
    let target = crate::proxy::Target::parse(&args.target)?;
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("invalid --host {:?}", args.host))?
        .next()
        .with_context(|| format!("--host {:?} resolves to no address", args.host))?;
    let proxy_env = ProxyEnv {
        http_proxy: settings.http_proxy.value.clone(),
        https_proxy: settings.https_proxy.value.clone(),
        no_proxy: settings.no_proxy.value.clone(),
    };
    let upstream_proxy = upstream::choose_proxy(&target, &proxy_env);
    let (keyless, secret_file) = match &args.inject_key_from_env {
        None => (None, None),
        Some(var) => {
            let (k, file) = keyless_mode(settings, env, var, &args.key_header)?;
            (Some(k), file)
        }
    };
    let keyless_on = keyless.is_some();
    let ca_file = ca_file(args, env);
    let config = ProxyConfig {
        addr,
        target: target.clone(),
        upstream_proxy: upstream_proxy.clone(),
        ca_file: ca_file.clone(),
        keyless,
        workers: usize::from(args.workers),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
    };
    let server = RunningProxy::start(config).context("cannot start the API proxy")?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown()).context("cannot install the Ctrl-C handler")?;
    print_banner(
        &server,
        &target,
        upstream_proxy.as_ref(),
        ca_file.as_deref(),
        args,
        (keyless_on, secret_file.as_deref()),
    );
    let unfinished = server.wait();
    if unfinished > 0 {
        eprintln!("Stopped the API proxy with {unfinished} connection(s) still busy after the grace period");
    } else {
        eprintln!("Stopped the API proxy");
    }
    Ok(ExitCode::SUCCESS)
}

/// The start-up banner on stderr: where it listens, where it forwards, how, and how to use it.
fn print_banner(
    server: &RunningProxy,
    target: &crate::proxy::Target,
    upstream_proxy: Option<&(String, &'static str)>,
    ca_file: Option<&Path>,
    args: &ProxyArgs,
    (keyless_on, secret_file): (bool, Option<&Path>),
) {
    let port = server.addr().port();
    eprintln!("SForge API proxy listening on http://{}", server.addr());
    eprintln!("  target:   {}", target.base);
    match upstream_proxy {
        Some((url, origin)) => eprintln!(
            "  upstream: through {} (from {origin})",
            crate::redact::redact_userinfo(url)
        ),
        None => eprintln!("  upstream: direct (no HTTPS_PROXY/HTTP_PROXY applies to the target)"),
    }
    if let Some(path) = ca_file {
        eprintln!(
            "  tls:      web PKI roots + the CA certificates in {}",
            path.display()
        );
    }
    if keyless_on {
        eprintln!(
            "  keyless:  on (key from ${}; clients need a run token)",
            args.inject_key_from_env.as_deref().unwrap_or("")
        );
        match secret_file {
            Some(path) => eprintln!("  admin secret written to {}", path.display()),
            None => eprintln!("  admin secret from SFORGE_PROXY_ADMIN_SECRET"),
        }
    } else {
        eprintln!("  keyless:  off (clients send their own API key)");
    }
    eprintln!(
        "Point the agents at it: SFORGE_AGENT_API_BASE_URL=http://host.docker.internal:{port}"
    );
    eprintln!("  (docker backend; with --disable-internet the Work container may reach exactly that address)");
}

/// `--ca-file`, else a non-empty `SFORGE_PROXY_CA_FILE`.
fn ca_file(args: &ProxyArgs, env: &EnvMap) -> Option<PathBuf> {
    args.ca_file.clone().or_else(|| {
        env.get("SFORGE_PROXY_CA_FILE")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn keyless_mode(
    settings: &Settings,
    env: &EnvMap,
    var: &str,
    key_header: &str,
) -> anyhow::Result<(Keyless, Option<PathBuf>)> {
    let Some(key) = env.get(var).map(str::trim).filter(|k| !k.is_empty()) else {
        bail!("--inject-key-from-env {var}: the environment variable {var} is unset or empty; export the real API key in it");
    };
    let header = KeyHeader::parse(key_header).map_err(|e| {
        anyhow::anyhow!("invalid --key-header: {e}; use auto, authorization or a header name")
    })?;
    let (secret, file) = keyless::admin_secret(
        env.get("SFORGE_PROXY_ADMIN_SECRET"),
        &settings.log_dir.value,
    )
    .with_context(|| {
        format!(
            "cannot write the proxy admin secret under {}; check --log-dir",
            settings.log_dir.value.display()
        )
    })?;
    Ok((Keyless::new(key.to_owned(), header, secret), file))
}

//! Rendering of Dockerfiles and setup scripts (pure: settings + task in, [`BuildSpec`] out),
//! with the layer semantics of SForge 1.0's base, work and judge images.

use serde::Serialize;

use super::spec::{BuildSpec, Role};
use crate::config::Settings;
use crate::task::{BaseImage, Task};
use crate::templates;

/// Environment variables docker treats as predefined build arguments for proxies.
const PROXY_VARS: [(&str, &str); 3] = [
    ("HTTP_PROXY", "http_proxy"),
    ("HTTPS_PROXY", "https_proxy"),
    ("NO_PROXY", "no_proxy"),
];

#[derive(Serialize)]
struct BaseContext<'a> {
    image: &'a str,
    key: &'a str,
    platform: &'a str,
    official_image: &'a str,
    user_directive: String,
    arg_lines: Vec<String>,
    apt_mirror: Option<String>,
    packages: &'a [String],
    pip_packages: &'a [String],
    post_install_directive: String,
}

#[derive(Serialize)]
struct TaskContext<'a> {
    role: &'a str,
    image: &'a str,
    task_id: &'a str,
    platform: &'a str,
    base: &'a str,
    arg_lines: Vec<String>,
    script: &'a str,
    secrets: Vec<&'a str>,
    cwd: &'a str,
    cwd_quoted: String,
}

/// The base image of `task` (built with the task's platform).
pub fn base_spec(
    settings: &Settings,
    base: &BaseImage,
    task: &Task,
) -> Result<BuildSpec, minijinja::Error> {
    let image = task.images.base.to_string();
    let dockerfile = templates::render(
        "base.Dockerfile",
        BaseContext {
            image: &image,
            key: &base.key,
            platform: &task.platform,
            official_image: &base.official_image,
            user_directive: with_newline(base.user_directive.as_deref()),
            arg_lines: arg_lines(settings),
            apt_mirror: settings
                .apt_mirror_url
                .value
                .as_deref()
                .map(sed_replacement),
            packages: &base.extra_packages,
            pip_packages: &base.pip_packages,
            post_install_directive: with_newline(base.post_install_directive.as_deref()),
        },
    )?;
    Ok(BuildSpec {
        role: Role::Base,
        image,
        platform: task.platform.clone(),
        files: vec![("Dockerfile".to_owned(), dockerfile)],
        proxy_env: proxy_env(settings),
        secrets: Vec::new(),
        extra_hosts: settings.extra_hosts.value.clone(),
    })
}

/// The work or judge image of `task`; `None` when the task has no `setup_cmds` for it.
pub fn task_spec(
    settings: &Settings,
    task: &Task,
    role: Role,
) -> Result<Option<BuildSpec>, minijinja::Error> {
    let (source, image, script) = match role {
        Role::Work => (&task.work.image, &task.images.work, "setup_workspace.sh"),
        Role::Judge => (&task.judge.image, &task.images.judge, "setup_judge.sh"),
        Role::Base => return Ok(None),
    };
    let Some(setup_cmds) = &source.setup_cmds else {
        return Ok(None);
    };
    let image = image.to_string();
    let secrets = git_secrets(settings);
    let dockerfile = templates::render(
        "task.Dockerfile",
        TaskContext {
            role: role.as_str(),
            image: &image,
            task_id: &task.task_id,
            platform: &task.platform,
            base: &task.images.base.to_string(),
            arg_lines: arg_lines(settings),
            script,
            secrets: secrets.iter().map(|(id, _)| id.as_str()).collect(),
            cwd: &task.cwd,
            cwd_quoted: crate::shell::quote(&task.cwd).into_owned(),
        },
    )?;
    let script_text = templates::render("setup.sh", minijinja::context! { setup_cmds })?;
    Ok(Some(BuildSpec {
        role,
        image,
        platform: task.platform.clone(),
        files: vec![
            ("Dockerfile".to_owned(), dockerfile),
            (script.to_owned(), script_text),
        ],
        proxy_env: proxy_env(settings),
        secrets,
        extra_hosts: settings.extra_hosts.value.clone(),
    }))
}

/// `ARG` lines with the mirrors' values (proxies are not declared: see [`BuildSpec::proxy_env`]).
fn arg_lines(settings: &Settings) -> Vec<String> {
    [
        ("PIP_INDEX_URL", &settings.pypi_index_url.value),
        ("MAVEN_MIRROR_URL", &settings.maven_mirror_url.value),
        ("GOPROXY", &settings.go_proxy.value),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("ARG {name}={v}")))
    .collect()
}

/// Both spellings of every configured proxy, for the docker client's environment.
fn proxy_env(settings: &Settings) -> Vec<(String, String)> {
    let values = [
        &settings.http_proxy.value,
        &settings.https_proxy.value,
        &settings.no_proxy.value,
    ];
    PROXY_VARS
        .iter()
        .zip(values)
        .filter_map(|((upper, lower), value)| value.as_ref().map(|v| [(upper, v), (lower, v)]))
        .flatten()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

fn git_secrets(settings: &Settings) -> Vec<(String, String)> {
    [
        ("git_user", &settings.git_user.value),
        ("git_token", &settings.git_token.value),
    ]
    .into_iter()
    .filter_map(|(id, value)| value.as_ref().map(|v| (id.to_owned(), v.clone())))
    .collect()
}

/// The mirror URL without a trailing slash, escaped for a `sed s#…#…#` replacement.
fn sed_replacement(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if matches!(c, '\\' | '#' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out.replace('\'', r"'\''")
}

/// Raw Dockerfile text must end with a newline to not run into the next instruction.
fn with_newline(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() && !t.ends_with('\n') => format!("{t}\n"),
        Some(t) => t.to_owned(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;

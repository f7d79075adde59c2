//! Golden tests for every template variant. `UPDATE_GOLDEN=1 cargo test` rewrites the files in
//! `tests/golden/`; review the diff before committing.

use std::path::Path;

use super::*;
use crate::config::parse::HostEntry;
use crate::config::{Layer, Source, Sourced};
use crate::golden::assert_golden;
use crate::task::Catalog;

fn task() -> Task {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    Catalog::open(&dir).unwrap().task("demo").unwrap()
}

fn base_of(task: &Task) -> BaseImage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    Catalog::open(&dir)
        .unwrap()
        .benchmark
        .base(&task.base_image)
        .unwrap()
        .clone()
}

#[allow(clippy::unnecessary_wraps, reason = "fills Option fields of a Layer")]
fn set<T>(value: T) -> Option<Sourced<T>> {
    Some(Sourced::new(value, Source::Default))
}

/// Mirrors, proxies, extra hosts and git credentials all configured.
fn full_settings() -> Settings {
    let layer = Layer {
        http_proxy: set(Some("http://squid.internal:3128".into())),
        https_proxy: set(Some("http://squid.internal:3128".into())),
        no_proxy: set(Some("localhost,127.0.0.1".into())),
        pypi_index_url: set(Some("https://pypi.mirror.corp/simple".into())),
        maven_mirror_url: set(Some("https://maven.mirror.corp".into())),
        go_proxy: set(Some("https://goproxy.corp".into())),
        apt_mirror_url: set(Some("http://apt.mirror.corp/debian/".into())),
        git_user: set(Some("bot".into())),
        git_token: set(Some("ghp_SECRET".into())),
        extra_hosts: set(vec![HostEntry {
            host: "git.corp".into(),
            ip: "10.0.0.5".into(),
        }]),
        ..Layer::default()
    };
    Settings::merge(&[&layer])
}

#[test]
fn base_plain() {
    let t = task();
    let spec = base_spec(&Settings::merge(&[]), &base_of(&t), &t).unwrap();
    assert_golden("base.plain.Dockerfile", spec.dockerfile());
    assert!(spec.proxy_env.is_empty() && spec.secrets.is_empty());
}

#[test]
fn base_with_mirrors_proxies_and_directives() {
    let t = task();
    let mut base = base_of(&t);
    base.user_directive = Some("USER root".into());
    base.pip_packages = vec!["numpy==1.26".into(), "requests".into()];
    base.post_install_directive = Some("RUN echo ready > /etc/ready\n".into());
    let spec = base_spec(&full_settings(), &base, &t).unwrap();
    assert_golden("base.full.Dockerfile", spec.dockerfile());
    let names: Vec<_> = spec.proxy_env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "NO_PROXY",
            "no_proxy"
        ]
    );
    assert!(spec.secrets.is_empty(), "base images never get git secrets");
    assert!(
        !spec.dockerfile().contains("squid.internal"),
        "proxies are not written into the Dockerfile"
    );
}

#[test]
fn work_and_judge_plain() {
    let t = task();
    let settings = Settings::merge(&[]);
    let work = task_spec(&settings, &t, Role::Work).unwrap().unwrap();
    assert_golden("work.plain.Dockerfile", work.dockerfile());
    assert_golden("setup_workspace.sh", &work.files[1].1);
    assert_eq!(work.files[1].0, "setup_workspace.sh");
    let judge = task_spec(&settings, &t, Role::Judge).unwrap().unwrap();
    assert_golden("judge.plain.Dockerfile", judge.dockerfile());
    assert_eq!(judge.files[1].0, "setup_judge.sh");
}

#[test]
fn work_and_judge_with_secrets_and_mirrors() {
    let t = task();
    let settings = full_settings();
    let work = task_spec(&settings, &t, Role::Work).unwrap().unwrap();
    assert_golden("work.full.Dockerfile", work.dockerfile());
    let judge = task_spec(&settings, &t, Role::Judge).unwrap().unwrap();
    assert_golden("judge.full.Dockerfile", judge.dockerfile());
    for spec in [&work, &judge] {
        assert!(!spec.dockerfile().contains("ghp_SECRET") && !spec.dockerfile().contains("bot"));
        assert_eq!(spec.secret_values(), ["bot", "ghp_SECRET"]);
    }
}

#[test]
fn image_tag_only_has_nothing_to_build() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
    let tagged = Catalog::open(&dir).unwrap().task("tagged").unwrap();
    assert!(task_spec(&Settings::merge(&[]), &tagged, Role::Work)
        .unwrap()
        .is_none());
    assert!(task_spec(&Settings::merge(&[]), &tagged, Role::Judge)
        .unwrap()
        .is_some());
}

#[test]
fn sed_replacement_escapes_special_characters() {
    assert_eq!(sed_replacement("http://m/debian/"), "http://m/debian");
    assert_eq!(sed_replacement("http://m/a#b&c"), r"http://m/a\#b\&c");
}

//! `sforge fetch-tasks`: turns the arguments and settings into a [`FetchOptions`], shows the
//! progress on stderr and the result on stdout.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::{FetchTasksArgs, GlobalArgs};
use crate::config::{EnvMap, Settings};
use crate::fetch::{self, FetchOptions, HubSettings, Limits};
use crate::proxy::ProxyEnv;

pub fn fetch_tasks(
    settings: &Settings,
    env: &EnvMap,
    cwd: &Path,
    global: &GlobalArgs,
    args: &FetchTasksArgs,
) -> anyhow::Result<ExitCode> {
    let repo = match &args.repo {
        Some(repo) => repo.clone(),
        None => fetch::repo_for_benchmark(&args.benchmark)?.to_owned(),
    };
    let dest = fetch::real_dest(&match &args.dest {
        Some(dir) => cwd.join(dir),
        None => cwd.join(&settings.tasks_dir.value),
    });
    let proxy = ProxyEnv {
        http_proxy: settings.http_proxy.value.clone(),
        https_proxy: settings.https_proxy.value.clone(),
        no_proxy: settings.no_proxy.value.clone(),
    };
    let opts = FetchOptions {
        repo,
        revision: args.revision.clone(),
        dest,
        force: args.force,
        hub: HubSettings::from_env(env, proxy, settings.ca_file.value.clone()),
        limits: Limits::default(),
    };
    let silent = global.silent;
    let summary = fetch::fetch(&opts, &mut |line| {
        if !silent {
            eprintln!("{line}");
        }
    })?;
    let dir = summary.dest.display();
    if summary.offline {
        println!(
            "Offline: kept {} file(s) of {} at commit {} in {dir}",
            summary.files, summary.repo, summary.commit
        );
    } else {
        println!(
            "Fetched {} at commit {} into {dir}: {} file(s), {} downloaded, {} up to date, {} removed",
            summary.repo,
            summary.commit,
            summary.files,
            summary.downloaded,
            summary.unchanged,
            summary.removed
        );
        if summary.replaced_edits > 0 {
            println!(
                "Replaced {} locally changed file(s) (--force)",
                summary.replaced_edits
            );
        }
    }
    println!("Done. {} task file(s) in {dir}", summary.task_files);
    Ok(ExitCode::SUCCESS)
}

//! Applying and removing iptables plans: idempotent (check before add), rolled back when a step
//! fails, and a sweep that removes only chains whose container no longer exists.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::plan::{chain_id, ChainPlan, Family, Parents};
use super::IsolationError;
use crate::process::{Cmd, Runner};

/// Parent chains that may hold jumps into sforge chains.
const PARENTS: [&str; 4] = ["DOCKER-USER", "INPUT", "FORWARD", "OUTPUT"];

/// The host firewall, through `iptables`/`ip6tables` (prefixed by `sudo -n` unless root).
#[derive(Clone)]
pub struct Firewall {
    runner: Arc<dyn Runner>,
    v4: Vec<String>,
    v6: Vec<String>,
}

/// What `apply` created, so that a failure can undo exactly that.
#[derive(Default)]
struct Undo {
    chains: Vec<(Family, String)>,
    jumps: Vec<super::plan::Rule>,
}

impl Firewall {
    /// `iptables`/`ip6tables` programs (paths or names); `sudo -n` is put in front unless
    /// `as_root`.
    #[must_use]
    pub fn new(runner: Arc<dyn Runner>, program_v4: &str, program_v6: &str, as_root: bool) -> Self {
        let prefix = |prog: &str| -> Vec<String> {
            let mut argv = if as_root {
                Vec::new()
            } else {
                vec!["sudo".to_owned(), "-n".to_owned()]
            };
            argv.push(prog.to_owned());
            argv
        };
        Firewall {
            runner,
            v4: prefix(program_v4),
            v6: prefix(program_v6),
        }
    }

    fn cmd(&self, family: Family, args: &[String]) -> Cmd {
        let base = match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        Cmd::new(&base[0])
            .args(base[1..].iter().cloned())
            .arg("-w")
            .args(args.iter().cloned())
            .timeout(Duration::from_secs(30))
    }

    /// `[sudo -n] iptables` as a shell word list (for printed plans).
    #[must_use]
    pub fn program_v4(&self) -> String {
        crate::shell::join(self.v4.iter().map(String::as_str))
    }

    /// The IPv6 program (with `sudo -n` when needed), as shell words.
    #[must_use]
    pub fn program_v6(&self) -> String {
        crate::shell::join(self.v6.iter().map(String::as_str))
    }

    fn query(&self, family: Family, args: &[&str]) -> Cmd {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        self.cmd(family, &args).read_only()
    }

    fn succeeds(&self, cmd: &Cmd) -> bool {
        self.runner.run_unchecked(cmd).is_ok_and(|o| o.success())
    }

    fn must(&self, cmd: &Cmd) -> Result<(), IsolationError> {
        self.runner
            .run(cmd)
            .map(drop)
            .map_err(|e| IsolationError::Firewall(Box::new(e)))
    }

    /// Can sforge change the firewall? (`iptables -L INPUT -n` within 5 seconds.)
    pub fn check_rights(&self) -> Result<(), IsolationError> {
        let cmd = self
            .query(Family::V4, &["-L", "INPUT", "-n"])
            .timeout(Duration::from_secs(5));
        match self.runner.run(&cmd) {
            Ok(_) => Ok(()),
            Err(e) => Err(IsolationError::NoRights {
                command: cmd.to_string(),
                detail: first_line(&e.to_string()),
            }),
        }
    }

    /// Which optional parent chains exist.
    #[must_use]
    pub fn parents(&self) -> Parents {
        Parents {
            docker_user_v4: self.succeeds(&self.query(Family::V4, &["-L", "DOCKER-USER", "-n"])),
            docker_user_v6: self.succeeds(&self.query(Family::V6, &["-L", "DOCKER-USER", "-n"])),
        }
    }

    /// Create the chain(s) and jumps of `plan`. Applying twice is harmless; if a step fails,
    /// what this call added is removed again before the error is returned.
    pub fn apply(&self, plan: &ChainPlan) -> Result<(), IsolationError> {
        let mut undo = Undo::default();
        let result = self.apply_steps(plan, &mut undo);
        if result.is_err() {
            for jump in undo.jumps.iter().rev() {
                let _ = self.runner.run(&self.cmd(jump.family, &jump.delete_args()));
            }
            for (family, chain) in undo.chains.iter().rev() {
                self.drop_chain(*family, chain);
            }
        }
        result
    }

    fn apply_steps(&self, plan: &ChainPlan, undo: &mut Undo) -> Result<(), IsolationError> {
        for &family in &plan.families {
            let exists = self.succeeds(&self.query(family, &["-S", &plan.chain]));
            if exists {
                // The chain's rules are all ours: rebuild them in order.
                self.must(&self.cmd(family, &["-F".to_owned(), plan.chain.clone()]))?;
            } else {
                self.must(&self.cmd(family, &["-N".to_owned(), plan.chain.clone()]))?;
                undo.chains.push((family, plan.chain.clone()));
            }
            for rule in plan.rules.iter().filter(|r| r.family == family) {
                self.must(&self.cmd(family, &rule.add_args()))?;
            }
        }
        for jump in &plan.jumps {
            if !self.succeeds(&self.cmd(jump.family, &jump.check_args()).read_only()) {
                self.must(&self.cmd(jump.family, &jump.add_args()))?;
                undo.jumps.push(jump.clone());
            }
        }
        Ok(())
    }

    /// Remove the jumps and chains of `plan`; problems are returned as warnings.
    #[must_use]
    pub fn remove(&self, plan: &ChainPlan) -> Vec<String> {
        let mut warnings = Vec::new();
        for jump in &plan.jumps {
            // A rule inserted twice needs two deletions.
            for _ in 0..8 {
                if !self.succeeds(&self.cmd(jump.family, &jump.check_args()).read_only()) {
                    break;
                }
                if let Err(e) = self.runner.run(&self.cmd(jump.family, &jump.delete_args())) {
                    warnings.push(format!("cannot remove an iptables jump: {e}"));
                    break;
                }
            }
        }
        for &family in &plan.families {
            warnings.extend(self.drop_chain(family, &plan.chain));
        }
        warnings
    }

    /// Flush and delete a chain; a warning unless it is gone afterwards.
    fn drop_chain(&self, family: Family, chain: &str) -> Option<String> {
        let _ = self
            .runner
            .run(&self.cmd(family, &["-F".to_owned(), chain.to_owned()]));
        let _ = self
            .runner
            .run(&self.cmd(family, &["-X".to_owned(), chain.to_owned()]));
        self.succeeds(&self.query(family, &["-S", chain]))
            .then(|| format!("the iptables chain {chain} could not be removed"))
    }

    /// sforge chains present on the host, per family.
    #[must_use]
    pub fn chains(&self, family: Family) -> Vec<String> {
        let Ok(out) = self.runner.run(&self.query(family, &["-S"])) else {
            return Vec::new();
        };
        out.stdout_str()
            .lines()
            .filter_map(|l| l.strip_prefix("-N "))
            .filter(|c| chain_id(c).is_some())
            .map(str::to_owned)
            .collect()
    }

    /// Remove every sforge chain (and the jumps into it) whose container no longer exists.
    /// `existing` lists the 12-character id prefixes of all containers (running or stopped); it
    /// is called after the chains are listed, so a chain created meanwhile for a new container is
    /// never mistaken for a stale one. Returns the chains removed.
    pub fn sweep<E>(
        &self,
        existing: impl FnOnce() -> Result<BTreeSet<String>, E>,
    ) -> Result<Vec<String>, E> {
        let chains: Vec<(Family, String)> = [Family::V4, Family::V6]
            .into_iter()
            .flat_map(|f| self.chains(f).into_iter().map(move |c| (f, c)))
            .collect();
        if chains.is_empty() {
            return Ok(Vec::new());
        }
        let existing = existing()?;
        let mut removed = Vec::new();
        for (family, chain) in chains {
            if chain_id(&chain).is_some_and(|id| existing.contains(id)) {
                continue;
            }
            self.remove_jumps_to(family, &chain);
            if self.drop_chain(family, &chain).is_none() {
                removed.push(chain);
            }
        }
        removed.sort();
        removed.dedup();
        Ok(removed)
    }

    fn remove_jumps_to(&self, family: Family, chain: &str) {
        let target = format!("-j {chain}");
        for parent in PARENTS {
            let Ok(out) = self.runner.run(&self.query(family, &["-S", parent])) else {
                continue;
            };
            for line in out.stdout_str().lines() {
                let Some(words) = shlex::split(line) else {
                    continue;
                };
                let ends_in_target =
                    line.ends_with(&target) || line.contains(&format!("{target} "));
                if words.first().map(String::as_str) == Some("-A") && ends_in_target {
                    let mut args = words;
                    "-D".clone_into(&mut args[0]);
                    let _ = self.runner.run(&self.cmd(family, &args));
                }
            }
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
#[path = "firewall_tests.rs"]
mod tests;

//! Who runs sforge: the effective user, whose name goes into every resource's `owner` label and
//! iptables rule comment. Read from the kernel, not from `$USER`, which root shells and CI jobs
//! often leave unset.

use std::path::Path;

/// The effective uid of this process, from `/proc/self/status` (`None` off Linux).
#[must_use]
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    euid_of_status(&status)
}

/// Whether this process runs as root (effective uid 0).
#[must_use]
pub fn is_root() -> bool {
    effective_uid() == Some(0)
}

/// The name of the effective user: its `/etc/passwd` entry; else `$USER`/`$LOGNAME` (users
/// from a directory service); else `uid-<N>`; `unknown` only when not even the uid can be read.
#[must_use]
pub fn current_owner() -> String {
    let Some(uid) = effective_uid() else {
        return env_user().unwrap_or_else(|| "unknown".to_owned());
    };
    std::fs::read_to_string(Path::new("/etc/passwd"))
        .ok()
        .and_then(|passwd| name_of_uid(&passwd, uid))
        .or_else(env_user)
        .unwrap_or_else(|| format!("uid-{uid}"))
}

fn env_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

/// The second field of the `Uid:` line (real, effective, saved, filesystem).
fn euid_of_status(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
}

/// The first `/etc/passwd` entry (`name:x:uid:…`) with `uid`.
fn name_of_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (!name.is_empty() && !name.starts_with('#') && id.parse() == Ok(uid))
            .then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_uid_is_the_second_field() {
        let status = "Name:\tsforge\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(euid_of_status(status), Some(0));
        assert_eq!(euid_of_status("Name:\tx\n"), None);
    }

    #[test]
    fn passwd_lookup_by_uid() {
        let passwd = "# comment\nroot:x:0:0:root:/root:/bin/bash\n\
                      daemon:x:1:1::/:/usr/sbin/nologin\nbad line\nagent:x:1000:1000::/home/agent:/bin/sh\n";
        assert_eq!(name_of_uid(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_of_uid(passwd, 1000).as_deref(), Some("agent"));
        assert_eq!(name_of_uid(passwd, 7), None);
    }

    #[test]
    fn this_process_has_a_name() {
        // Whatever the environment says, the owner comes from the uid (never `unknown` on Linux).
        let owner = current_owner();
        assert!(!owner.is_empty() && owner != "unknown", "{owner}");
    }
}

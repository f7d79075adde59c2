//! The self-check every backend runs when internet is off: a canary on this host must be
//! reachable from the Work container before the rules are applied, and unreachable after, while
//! the judge stays reachable. Otherwise the run fails closed before the agent starts.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::probe::{probe, Canary, Reach};
use super::IsolationError;
use crate::sandbox::Sandbox;

/// What the self-check needs to know about one container.
pub struct SelfCheck<'a> {
    pub sandbox: &'a dyn Sandbox,
    pub container: &'a str,
    /// An address of this host that the container reaches without isolation (the canary
    /// listens on every address of this host).
    pub host_ip: Ipv4Addr,
    /// The judge as the container reaches it.
    pub judge: SocketAddrV4,
    /// Added to the failure when egress leaks (why it may leak on this backend).
    pub leak_hint: &'a str,
}

impl SelfCheck<'_> {
    /// Probe the canary, run `apply` (the backend's rules), then prove the rules work.
    pub fn run(
        &self,
        apply: &mut dyn FnMut() -> Result<(), IsolationError>,
    ) -> Result<SocketAddrV4, IsolationError> {
        let canary = Canary::start()?;
        let canary_addr = SocketAddrV4::new(self.host_ip, canary.port());
        if let Reach::Closed(why) = probe(self.sandbox, self.container, canary_addr)? {
            return Err(IsolationError::Probe(format!(
                "before isolation the container could not reach a canary on this host at \
                 {canary_addr} ({why}), so blocking could not be proven"
            )));
        }
        apply()?;
        let before = canary.hits();
        if let Reach::Closed(why) = probe(self.sandbox, self.container, self.judge)? {
            return Err(IsolationError::Probe(format!(
                "the judge at {} is not reachable from the isolated container ({why})",
                self.judge
            )));
        }
        let reach = probe(self.sandbox, self.container, canary_addr)?;
        if reach == Reach::Open || canary.hits() > before {
            return Err(IsolationError::Leak(format!(
                "the Work container reached {canary_addr} (a canary port on this host that is \
                 not an allowed endpoint){}",
                self.leak_hint
            )));
        }
        Ok(canary_addr)
    }
}

//! The self-check every backend runs when internet is off: before the rules, the Work container
//! reaches canaries on this host (TCP and UDP over IPv4, TCP over IPv6) and another container;
//! after them, none of these, while the judge stays reachable. A target that leaks fails the run
//! closed before the agent starts (docs/security.md#network-isolation).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use super::probe::{probe, Canary, Proto, Reach, UdpCanary};
use super::IsolationError;
use crate::sandbox::Sandbox;

/// How long a datagram may take to reach the UDP canary.
const UDP_WAIT: Duration = Duration::from_millis(1500);
/// A port for the peer probe: nothing listens there, so a reachable peer refuses the connection.
const PEER_PORT: u16 = 9;

/// What the self-check needs to know about one container.
pub struct SelfCheck<'a> {
    pub sandbox: &'a dyn Sandbox,
    pub container: &'a str,
    /// An address of this host that the container reaches without isolation (the canaries
    /// listen on every address of this host).
    pub host_ip: Ipv4Addr,
    /// This host's IPv6 address on the container's network, when the network has IPv6.
    pub host_ip6: Option<Ipv6Addr>,
    /// Another container on the same network, which must become unreachable.
    pub peer: Option<Ipv4Addr>,
    /// The judge as the container reaches it.
    pub judge: SocketAddrV4,
    /// Added to the failure when egress leaks (why it may leak on this backend).
    pub leak_hint: &'a str,
}

/// What the self-check proved: targets reachable before the rules and blocked after, and
/// targets that were blocked already before (nothing to prove, but blocked all the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proof {
    pub blocked: Vec<String>,
    pub blocked_before: Vec<String>,
}

impl std::fmt::Display for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "blocked: {}", self.blocked.join(", "))?;
        if !self.blocked_before.is_empty() {
            write!(
                f,
                "; unreachable even before the rules: {}",
                self.blocked_before.join(", ")
            )?;
        }
        Ok(())
    }
}

/// What a target's arrival is judged by.
enum Watch {
    Tcp(Canary),
    Udp(UdpCanary),
    /// Another container: reached when it answers (a connection or a refusal).
    Answer,
}

/// One address the isolated container must not reach.
struct Target {
    what: String,
    addr: SocketAddr,
    proto: Proto,
    watch: Watch,
}

impl Target {
    fn reached(&self, sandbox: &dyn Sandbox, container: &str) -> Result<bool, IsolationError> {
        match &self.watch {
            Watch::Tcp(canary) => {
                let before = canary.hits();
                let reach = probe(sandbox, container, self.addr, self.proto)?;
                Ok(reach.is_reached() || canary.hits() > before)
            }
            Watch::Udp(canary) => {
                let before = canary.hits();
                probe(sandbox, container, self.addr, self.proto)?;
                Ok(canary.got_more_than(before, UDP_WAIT))
            }
            Watch::Answer => Ok(probe(sandbox, container, self.addr, self.proto)?.is_reached()),
        }
    }
}

impl SelfCheck<'_> {
    /// Probe every target, run `apply` (the backend's rules), then prove the rules work.
    pub fn run(
        &self,
        apply: &mut dyn FnMut() -> Result<(), IsolationError>,
    ) -> Result<Proof, IsolationError> {
        let targets = self.targets()?;
        let before = self.reach_all(&targets)?;
        if !before[0] {
            return Err(IsolationError::Probe(format!(
                "before isolation the container could not reach a canary on this host at {}, \
                 so blocking could not be proven",
                targets[0].addr
            )));
        }
        apply()?;
        if let Reach::Closed(why) =
            probe(self.sandbox, self.container, self.judge.into(), Proto::Tcp)?
        {
            return Err(IsolationError::Probe(format!(
                "the judge at {} is not reachable from the isolated container ({why})",
                self.judge
            )));
        }
        let after = self.reach_all(&targets)?;
        let mut proof = Proof::default();
        for ((target, was), is) in targets.iter().zip(before).zip(after) {
            if is {
                return Err(IsolationError::Leak(format!(
                    "the Work container reached {} at {}, which is not an allowed endpoint{}",
                    target.what, target.addr, self.leak_hint
                )));
            }
            let line = format!("{} {}", target.what, target.addr);
            if was {
                proof.blocked.push(line);
            } else {
                proof.blocked_before.push(line);
            }
        }
        Ok(proof)
    }

    /// The host TCP canary (always first), the host UDP canary, IPv6 and the peer.
    fn targets(&self) -> Result<Vec<Target>, IsolationError> {
        let host = IpAddr::V4(self.host_ip);
        let tcp = Canary::start()?;
        let mut targets = vec![Target {
            what: "a TCP canary on this host".into(),
            addr: SocketAddr::new(host, tcp.port()),
            proto: Proto::Tcp,
            watch: Watch::Tcp(tcp),
        }];
        let udp = UdpCanary::start()?;
        targets.push(Target {
            what: "a UDP canary on this host".into(),
            addr: SocketAddr::new(host, udp.port()),
            proto: Proto::Udp,
            watch: Watch::Udp(udp),
        });
        if let Some(ip6) = self.host_ip6 {
            let tcp6 = Canary::start_on(true)?;
            targets.push(Target {
                what: "an IPv6 TCP canary on this host".into(),
                addr: SocketAddr::new(IpAddr::V6(ip6), tcp6.port()),
                proto: Proto::Tcp,
                watch: Watch::Tcp(tcp6),
            });
        }
        if let Some(peer) = self.peer {
            targets.push(Target {
                what: "another container".into(),
                addr: SocketAddr::new(IpAddr::V4(peer), PEER_PORT),
                proto: Proto::Tcp,
                watch: Watch::Answer,
            });
        }
        Ok(targets)
    }

    /// Whether each target is reached, probed at the same time.
    fn reach_all(&self, targets: &[Target]) -> Result<Vec<bool>, IsolationError> {
        std::thread::scope(|scope| {
            let probes: Vec<_> = targets
                .iter()
                .map(|t| scope.spawn(move || t.reached(self.sandbox, self.container)))
                .collect();
            probes
                .into_iter()
                .map(|p| {
                    p.join()
                        .map_err(|_| IsolationError::Probe("a probe thread panicked".into()))?
                })
                .collect()
        })
    }
}

//! `--preserve-issuer` made practical: the client keeps the upstream's own issuer and URLs, so it
//! must reach the listeners under the upstream's host names *and ports*. Each upstream host gets
//! a loopback address of its own (127.0.0.2, 127.0.0.3, …) and each of its origins a listener on
//! that address at the upstream's own port; one hosts line per host then points a client there —
//! written into a private /etc/hosts for a `--client-cmd` (a Linux mount namespace), printed for
//! any other client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::Url;

/// Where each upstream origin listens under `--preserve-issuer`, and the hosts lines that send a
/// client there; or why that cannot be done (then listeners take free ports and the client needs
/// a `--connect-to`-style override, which observe prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMap {
    /// One address per upstream host; `addrs[i]` is origin i's listener address.
    Mapped {
        /// Per origin, the address its listener binds.
        addrs: Vec<SocketAddr>,
        /// `(address, host name)` — one hosts-file line each.
        lines: Vec<(IpAddr, String)>,
    },
    /// Why the origins cannot be mapped by host name.
    Unmapped(String),
}

/// The map for `origins` (`https://host:port`): every host must be a name — an IP address in a
/// URL cannot be redirected by a hosts file.
pub fn plan(origins: &[String]) -> HostMap {
    let mut hosts: Vec<String> = Vec::new();
    let mut addrs = Vec::new();
    for o in origins {
        let Ok(u) = Url::parse(o) else { return HostMap::Unmapped(format!("{o} is not a URL")) };
        let host = match u.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(_) => {
                return HostMap::Unmapped(format!(
                    "{o} names an IP address, which no hosts file can redirect: point the client with --connect-to-style overrides (below)"
                ))
            }
            None => return HostMap::Unmapped(format!("{o} has no host")),
        };
        let i = hosts.iter().position(|h| *h == host).unwrap_or_else(|| {
            hosts.push(host.clone());
            hosts.len() - 1
        });
        if i > 250 {
            return HostMap::Unmapped("more than 250 upstream host names".into());
        }
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8));
        addrs.push(SocketAddr::new(ip, u.port_or_known_default().unwrap_or(443)));
    }
    let lines = hosts.into_iter().enumerate().map(|(i, h)| (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)), h)).collect();
    HostMap::Mapped { addrs, lines }
}

/// A hosts file: `lines` first, then `current`'s lines that name none of their hosts (so a
/// host such as `localhost` resolves only to its listener).
pub fn hosts_file(lines: &[(IpAddr, String)], current: &str) -> String {
    let mapped = |l: &str| {
        let l = l.split('#').next().unwrap_or_default();
        l.split_whitespace().skip(1).any(|name| lines.iter().any(|(_, h)| h.eq_ignore_ascii_case(name)))
    };
    let mut out: String = lines.iter().map(|(ip, h)| format!("{ip}\t{h}\n")).collect();
    for l in current.lines().filter(|l| !mapped(l)) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_host_gets_its_own_loopback_address_and_each_origin_its_own_port() {
        let o = |s: &str| s.to_string();
        let HostMap::Mapped { addrs, lines } =
            plan(&[o("https://as.example:8443"), o("https://mtls.as.example"), o("https://as.example:9443")])
        else {
            panic!("names map")
        };
        let a: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        assert_eq!(a, ["127.0.0.2:8443", "127.0.0.3:443", "127.0.0.2:9443"]);
        assert_eq!(lines.len(), 2);
        assert!(matches!(plan(&[o("https://127.0.0.1:8443")]), HostMap::Unmapped(why) if why.contains("IP address")));
    }

    #[test]
    fn the_hosts_file_sends_a_mapped_name_only_to_its_listener() {
        let lines = [("127.0.0.2".parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)), "localhost".to_string())];
        let f = hosts_file(&lines, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.0.0.1 other # comment\n");
        assert_eq!(f, "127.0.0.2\tlocalhost\n10.0.0.1 other # comment\n");
    }
}

//! Listen addresses as Prometheus's `--web.listen-address` takes them:
//! `host:port`, `[v6]:port`, or `:port` for every interface.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::WebError;

/// Binds one listen address. `:port` listens on all interfaces, IPv6 and
/// IPv4 both where the host has IPv6 (as Go does), else IPv4; a host name
/// is resolved and its first address used (IPv4 preferred, as Go).
pub(crate) async fn bind(address: &str) -> Result<TcpListener, WebError> {
    let err = |reason: String| WebError::Listen {
        address: address.to_owned(),
        reason,
    };
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| err("missing port in address".to_owned()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| err(format!("invalid port {port:?}")))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
        return match TcpListener::bind(any6).await {
            Ok(l) => Ok(l),
            Err(_) => TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port)))
                .await
                .map_err(|e| err(e.to_string())),
        };
    }
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| err(format!("cannot resolve {host:?}: {e}")))?
            .collect(),
    };
    let first = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .ok_or_else(|| err(format!("no address for {host:?}")))?;
    TcpListener::bind(first)
        .await
        .map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn address_forms() {
        let l = bind("127.0.0.1:0").await.unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
        let l = bind(":0").await.unwrap();
        assert!(l.local_addr().unwrap().ip().is_unspecified());
        let l = bind("localhost:0").await.unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
        if let Ok(l) = bind("[::1]:0").await {
            assert!(l.local_addr().unwrap().is_ipv6());
        }
        assert_eq!(
            bind("9090").await.unwrap_err().to_string(),
            "cannot listen on \"9090\": missing port in address"
        );
        assert!(bind("127.0.0.1:x")
            .await
            .unwrap_err()
            .to_string()
            .contains("invalid port"));
    }
}

//! `dns_sd_configs`: targets from SRV, A, AAAA, MX or NS records, looked
//! up every `refresh_interval` with the servers and search list of
//! `/etc/resolv.conf` (read anew at each refresh, as Prometheus does).
//!
//! Each name is one group whose source is the name. An SRV answer gives
//! `<target>:<port>` targets, the others `<host or address>:<port>` with the
//! configured `port`. Every target has `__meta_dns_name` and, for its record
//! type, `__meta_dns_srv_record_target`, `__meta_dns_srv_record_port`,
//! `__meta_dns_mx_record_target` or `__meta_dns_ns_record_target` (record
//! names keep their final dot there; addresses drop it). Prometheus also
//! sets the other types' labels to empty values, which a label set drops.
//!
//! A name that does not exist, or has no records of the type, gives an empty
//! group; a name for which no server gave a usable answer is skipped for
//! this refresh (logged and counted), so its last targets stay.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use config::discovery::DnsSdConfig;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{ResolveError, ResolveErrorKind, TokioResolver};
use model::Labels;
use tokio::sync::mpsc;

use crate::refresh::{self, Refresh};
use crate::stats::{RefreshStats, SdStats};
use crate::{Discoverer, DiscoveryError, DiscoveryFuture, TargetGroup, ADDRESS_LABEL};

const NAME_LABEL: &str = "__meta_dns_name";
const SRV_TARGET_LABEL: &str = "__meta_dns_srv_record_target";
const SRV_PORT_LABEL: &str = "__meta_dns_srv_record_port";
const MX_TARGET_LABEL: &str = "__meta_dns_mx_record_target";
const NS_TARGET_LABEL: &str = "__meta_dns_ns_record_target";

/// Where lookups go.
#[derive(Clone)]
enum Resolvers {
    /// The system's configuration, read at each refresh.
    System,
    /// A fixed resolver (tests, embedders).
    Fixed(Box<TokioResolver>),
}

/// The provider of one `dns_sd_configs` entry.
#[derive(Clone)]
pub struct DnsDiscovery {
    names: Arc<[String]>,
    record_type: RecordType,
    port: u16,
    interval: Duration,
    resolvers: Resolvers,
    stats: Arc<SdStats>,
}

impl std::fmt::Debug for DnsDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsDiscovery")
            .field("names", &self.names)
            .field("record_type", &self.record_type)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl DnsDiscovery {
    /// The provider of `cfg`, resolving with `/etc/resolv.conf`.
    pub fn new(cfg: &DnsSdConfig, stats: Arc<SdStats>) -> Self {
        let record_type = match cfg.record_type.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::AAAA,
            "MX" => RecordType::MX,
            "NS" => RecordType::NS,
            // SRV is the default, and config validation admits no other.
            _ => RecordType::SRV,
        };
        DnsDiscovery {
            names: cfg.names.clone().into(),
            record_type,
            port: cfg.port,
            interval: cfg.refresh_interval,
            resolvers: Resolvers::System,
            stats,
        }
    }

    /// The same provider resolving with `resolver` instead of the system's
    /// configuration.
    pub fn with_resolver(mut self, resolver: TokioResolver) -> Self {
        self.resolvers = Resolvers::Fixed(Box::new(resolver));
        self
    }

    fn resolver(&self) -> Result<TokioResolver, DiscoveryError> {
        match &self.resolvers {
            Resolvers::Fixed(r) => Ok((**r).clone()),
            Resolvers::System => {
                let mut b = TokioResolver::builder_tokio()
                    .map_err(|e| DiscoveryError::ResolvConf(e.to_string()))?;
                // A fresh resolver per refresh already forgets old answers;
                // within one, Prometheus caches nothing either.
                b.options_mut().cache_size = 0;
                Ok(b.build())
            }
        }
    }

    /// The group of one name, or why it has none this time.
    async fn lookup(
        resolver: TokioResolver,
        name: String,
        record_type: RecordType,
        port: u16,
    ) -> Result<TargetGroup, DiscoveryError> {
        let records = match resolver.lookup(name.as_str(), record_type).await {
            Ok(lookup) => lookup.records().to_vec(),
            Err(e) if is_definite_no(&e) => Vec::new(),
            Err(e) => {
                return Err(DiscoveryError::Dns {
                    name,
                    record_type: record_type.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let mut targets = Vec::with_capacity(records.len());
        for r in &records {
            // The resolver adds records Prometheus never sees, which are
            // not answers to the question: the CNAMEs it followed and, for
            // NS, the glue addresses from the additional section.
            if r.record_type() != record_type {
                continue;
            }
            let labels = match r.data() {
                RData::SRV(srv) => {
                    let t = srv.target().to_string();
                    let port = srv.port().to_string();
                    Labels::from_pairs(&[
                        (
                            ADDRESS_LABEL,
                            host_port(t.trim_end_matches('.'), srv.port()),
                        ),
                        (NAME_LABEL, name.clone()),
                        (SRV_TARGET_LABEL, t),
                        (SRV_PORT_LABEL, port),
                    ])
                }
                RData::A(a) => ip_target(&name, IpAddr::V4(a.0), port),
                RData::AAAA(a) => ip_target(&name, IpAddr::V6(a.0), port),
                RData::MX(mx) => {
                    named_target(&name, MX_TARGET_LABEL, mx.exchange().to_string(), port)
                }
                RData::NS(ns) => named_target(&name, NS_TARGET_LABEL, ns.0.to_string(), port),
                other => {
                    tracing::warn!(name = %name, record = %other, "Invalid record");
                    continue;
                }
            };
            targets.push(labels);
        }
        Ok(TargetGroup {
            source: name,
            targets,
            labels: Labels::empty(),
        })
    }
}

/// Whether a lookup error says for sure that there are no such records: the
/// name does not exist (NXDOMAIN) or has none of the type (an empty
/// NOERROR). Anything else — timeouts, SERVFAIL, REFUSED — leaves the
/// question open.
fn is_definite_no(e: &ResolveError) -> bool {
    let ResolveErrorKind::Proto(p) = e.kind() else {
        return false;
    };
    matches!(
        p.kind(),
        ProtoErrorKind::NoRecordsFound {
            response_code: ResponseCode::NXDomain | ResponseCode::NoError,
            ..
        }
    )
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn ip_target(name: &str, ip: IpAddr, port: u16) -> Labels {
    // Go prints an IPv4-mapped IPv6 address as plain IPv4.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    Labels::from_pairs(&[
        (ADDRESS_LABEL, host_port(&ip.to_string(), port)),
        (NAME_LABEL, name.to_owned()),
    ])
}

fn named_target(name: &str, label: &str, host: String, port: u16) -> Labels {
    Labels::from_pairs(&[
        (ADDRESS_LABEL, host_port(host.trim_end_matches('.'), port)),
        (NAME_LABEL, name.to_owned()),
        (label, host),
    ])
}

impl Refresh for DnsDiscovery {
    const MECHANISM: &'static str = "dns";

    fn refresh_stats(&self) -> &RefreshStats {
        &self.stats.dns_refresh
    }

    async fn refresh(&mut self) -> Result<Vec<TargetGroup>, DiscoveryError> {
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(e) => {
                // As in Prometheus, where every lookup reads resolv.conf:
                // each name fails, and the refresh finds no groups.
                let n = self.names.len() as u64;
                self.stats
                    .dns_lookups
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                self.stats
                    .dns_lookup_failures
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(error = %e, "Error refreshing DNS targets");
                return Ok(Vec::new());
            }
        };
        let mut lookups = tokio::task::JoinSet::new();
        for (i, name) in self.names.iter().enumerate() {
            let (r, n, t, p) = (resolver.clone(), name.clone(), self.record_type, self.port);
            lookups.spawn(async move { (i, Self::lookup(r, n, t, p).await) });
        }
        let mut found = Vec::with_capacity(self.names.len());
        while let Some(done) = lookups.join_next().await {
            SdStats::inc(&self.stats.dns_lookups);
            match done {
                Ok((i, Ok(group))) => found.push((i, group)),
                Ok((_, Err(e))) => {
                    SdStats::inc(&self.stats.dns_lookup_failures);
                    tracing::error!(error = %e, "Error refreshing DNS targets");
                }
                Err(e) => {
                    SdStats::inc(&self.stats.dns_lookup_failures);
                    tracing::error!(error = %e, "DNS lookup task failed");
                }
            }
        }
        // In the configured order, whatever order the answers came in.
        found.sort_by_key(|(i, _)| *i);
        Ok(found.into_iter().map(|(_, g)| g).collect())
    }
}

impl Discoverer for DnsDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        let interval = self.interval;
        Box::pin(refresh::run(*self, interval, tx))
    }
}

#[cfg(test)]
mod tests;

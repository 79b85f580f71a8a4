//! From Consul health entries to targets and their `__meta_consul_*`
//! labels.

use model::{Labels, LabelsBuilder};

use super::api::{Check, ServiceEntry};

/// A Consul label name: every character outside `[a-zA-Z0-9_]` becomes `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `host:port`, bracketing IPv6 hosts.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The one status that sums up an entry's checks, as Consul's API client
/// computes it: maintenance over critical over warning over passing;
/// passing when there are no checks; empty for an unknown status.
pub(crate) fn aggregated_status(checks: &[Check]) -> &'static str {
    let (mut warning, mut critical, mut maintenance) = (false, false, false);
    for c in checks {
        if c.check_id == "_node_maintenance" || c.check_id.starts_with("_service_maintenance:") {
            maintenance = true;
            continue;
        }
        match c.status.as_str() {
            "passing" => {}
            "warning" => warning = true,
            "critical" => critical = true,
            _ => return "",
        }
    }
    if maintenance {
        "maintenance"
    } else if critical {
        "critical"
    } else if warning {
        "warning"
    } else {
        "passing"
    }
}

/// The target of one health entry; `tag_separator` wraps and joins the
/// service's tags so relabeling can match `.*,tag,.*`.
pub(crate) fn target(e: &ServiceEntry, tag_separator: &str) -> Labels {
    let svc = &e.service;
    let mut b = LabelsBuilder::new();
    let host = if svc.address.is_empty() {
        &e.node.address
    } else {
        &svc.address
    };
    let tags = svc.tags.as_deref().unwrap_or_default().join(tag_separator);
    b.set("__address__", &join_host_port(host, svc.port));
    b.set("__meta_consul_address", &e.node.address);
    b.set("__meta_consul_node", &e.node.node);
    b.set("__meta_consul_namespace", &svc.namespace);
    b.set("__meta_consul_partition", &svc.partition);
    b.set(
        "__meta_consul_tags",
        &format!("{tag_separator}{tags}{tag_separator}"),
    );
    b.set("__meta_consul_service_address", &svc.address);
    b.set("__meta_consul_service_port", &svc.port.to_string());
    b.set("__meta_consul_service_id", &svc.id);
    b.set("__meta_consul_health", aggregated_status(&e.checks));
    for (prefix, map) in [
        ("__meta_consul_metadata_", &e.node.meta),
        ("__meta_consul_service_metadata_", &svc.meta),
        ("__meta_consul_tagged_address_", &e.node.tagged_addresses),
    ] {
        for (k, v) in map.iter().flatten() {
            b.set(&format!("{prefix}{}", sanitize(k)), v);
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: &str) -> Check {
        Check {
            check_id: id.into(),
            status: status.into(),
        }
    }

    #[test]
    fn health_sums_up_checks() {
        assert_eq!(aggregated_status(&[]), "passing");
        assert_eq!(
            aggregated_status(&[check("a", "passing"), check("b", "warning")]),
            "warning"
        );
        assert_eq!(
            aggregated_status(&[check("a", "critical"), check("b", "warning")]),
            "critical"
        );
        assert_eq!(
            aggregated_status(&[
                check("_node_maintenance", "critical"),
                check("b", "passing")
            ]),
            "maintenance"
        );
        assert_eq!(aggregated_status(&[check("a", "bogus")]), "");
    }
}

//! Role `ingress`: one target per rule host and path, `https` when a TLS
//! entry covers the host; group `ingress/<namespace>/<name>`.

use k8s_openapi::api::networking::v1::Ingress;
use model::LabelsBuilder;

use super::meta::{self, NAMESPACE, PREFIX};
use super::Ctx;
use crate::TargetGroup;

/// Whether `host` equals `pattern` or matches a `*.` wildcard pattern of
/// the same number of labels.
fn matches_host(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    p.first() == Some(&"*") && p.len() == h.len() && p[1..] == h[1..]
}

/// The group of `ing`.
pub(crate) fn build(ing: &Ingress, cx: &Ctx<'_>) -> TargetGroup {
    let mut b = LabelsBuilder::new();
    let ns = meta::namespace(&ing.metadata);
    b.set(NAMESPACE, ns);
    let spec = ing.spec.as_ref();
    if let Some(class) = spec.and_then(|s| s.ingress_class_name.as_deref()) {
        b.set(&format!("{PREFIX}ingress_class_name"), class);
    }
    meta::object_labels(&mut b, &ing.metadata, "ingress");
    cx.namespace_labels(&mut b, ns);

    let tls_hosts: Vec<&str> = spec
        .and_then(|s| s.tls.as_deref())
        .unwrap_or_default()
        .iter()
        .flat_map(|t| t.hosts.iter().flatten().map(String::as_str))
        .collect();
    let mut targets = Vec::new();
    for rule in spec.and_then(|s| s.rules.as_deref()).unwrap_or_default() {
        let host = rule.host.as_deref().unwrap_or("");
        let scheme = if tls_hosts.iter().any(|p| matches_host(p, host)) {
            "https"
        } else {
            "http"
        };
        // A rule without HTTP paths stands for "/", and so does an empty path.
        let paths: Vec<&str> = match &rule.http {
            None => vec!["/"],
            Some(h) => h
                .paths
                .iter()
                .map(|p| p.path.as_deref().filter(|p| !p.is_empty()).unwrap_or("/"))
                .collect(),
        };
        for path in paths {
            let mut t = LabelsBuilder::new();
            t.set("__address__", host);
            t.set(&format!("{PREFIX}ingress_scheme"), scheme);
            t.set(&format!("{PREFIX}ingress_host"), host);
            t.set(&format!("{PREFIX}ingress_path"), path);
            targets.push(t.build());
        }
    }
    TargetGroup {
        source: format!("ingress/{}", meta::key(&ing.metadata)),
        targets,
        labels: b.build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_tls_hosts() {
        assert!(matches_host("*.example.com", "a.example.com"));
        assert!(!matches_host("*.example.com", "a.b.example.com"));
        assert!(matches_host("x.org", "x.org"));
        assert!(!matches_host("y.org", "x.org"));
    }
}

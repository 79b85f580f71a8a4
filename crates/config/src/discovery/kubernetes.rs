//! `kubernetes_sd_configs`: targets from the Kubernetes API (nodes, pods,
//! services, endpoints, endpoint slices, ingresses).

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use super::{yaml_struct, SdConfig};
use crate::http_client::HttpClientConfig;
use crate::load::join_dir;
use crate::validate::{invalid, Check};
use crate::values::GoUrl;

const ROLES: &[&str] = &[
    "node",
    "pod",
    "service",
    "endpoints",
    "endpointslice",
    "ingress",
];

yaml_struct! {
    /// `kubernetes_sd_configs`.
    pub struct KubernetesSdConfig {
        api_server: Option<GoUrl> = None,
        role: String = String::new(),
        kubeconfig_file: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        namespaces: KubernetesNamespaces = KubernetesNamespaces::default(),
        selectors: Vec<KubernetesSelector> = Vec::new(),
        attach_metadata: KubernetesAttachMetadata = KubernetesAttachMetadata::default(),
    }
}

yaml_struct! {
    /// `namespaces`: which namespaces to watch (all when empty).
    pub struct KubernetesNamespaces {
        own_namespace: bool = false,
        names: Vec<String> = Vec::new(),
    }
}

yaml_struct! {
    /// One entry of `selectors`: label and field selectors for a role.
    pub struct KubernetesSelector {
        role: String = String::new(),
        label: String = String::new(),
        field: String = String::new(),
    }
}

yaml_struct! {
    /// `attach_metadata`: extra metadata attached to targets.
    pub struct KubernetesAttachMetadata {
        node: bool = false,
        namespace: bool = false,
        deployment: bool = false,
        job: bool = false,
        cronjob: bool = false,
    }
}

fn check_role(role: &str) -> Check {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(invalid(format!("unknown Kubernetes SD role {role:?}")))
    }
}

fn allowed_selectors(role: &str) -> &'static [&'static str] {
    match role {
        "pod" => &["pod", "node"],
        "service" => &["service"],
        "endpointslice" => &["pod", "service", "endpointslice"],
        "endpoints" => &["pod", "service", "endpoints"],
        "node" => &["node"],
        "ingress" => &["ingress"],
        _ => &[],
    }
}

impl SdConfig for KubernetesSdConfig {
    const KEY: &'static str = "kubernetes_sd_configs";
    const SUPPORTED: bool = true;

    fn validate(&mut self) -> Check {
        // Roles are checked while decoding in Prometheus, before the rest.
        if !self.role.is_empty() {
            check_role(&self.role).map_err(|e| e.at("role"))?;
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if !s.role.is_empty() {
                check_role(&s.role).map_err(|e| e.at("role").at_index(i).at("selectors"))?;
            }
        }
        if self.role.is_empty() {
            return Err(invalid(
                "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)",
            ));
        }
        self.http.validate()?;
        let api_server = self.api_server.is_some();
        let kubeconfig = !self.kubeconfig_file.is_empty();
        if api_server && kubeconfig {
            return Err(invalid(
                "cannot use 'kubeconfig_file' and 'api_server' simultaneously",
            ));
        }
        if kubeconfig && !self.http.is_default() {
            return Err(invalid(
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'",
            ));
        }
        if !api_server && !self.http.is_default() {
            return Err(invalid(
                "to use custom HTTP client configuration please provide the 'api_server' URL explicitly",
            ));
        }
        if api_server && self.namespaces.own_namespace {
            return Err(invalid(
                "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously",
            ));
        }
        if kubeconfig && self.namespaces.own_namespace {
            return Err(invalid(
                "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously",
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, s) in self.selectors.iter().enumerate() {
            let at = |e: crate::validate::Invalid| e.at_index(i).at("selectors");
            if seen.contains(&s.role.as_str()) {
                return Err(at(invalid(format!("duplicated selector role: {}", s.role))));
            }
            seen.push(&s.role);
            let allowed = allowed_selectors(&self.role);
            if !allowed.contains(&s.role.as_str()) {
                return Err(at(invalid(format!(
                    "{} role supports only {} selectors",
                    self.role,
                    allowed.join(", ")
                ))));
            }
            check_field_selector(&s.field).map_err(|e| at(e.at("field")))?;
            check_label_selector(&s.label).map_err(|e| at(e.at("label")))?;
        }
        Ok(())
    }

    fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.kubeconfig_file);
        self.http.set_directory(dir);
    }
}

/// Splits a selector on the commas that separate its terms (not those in
/// an `in (a, b)` set).
fn terms(selector: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&selector[start..]);
    out
}

/// Kubernetes field selectors: `key=value`, `key==value`, `key!=value`.
fn check_field_selector(selector: &str) -> Check {
    if selector.trim().is_empty() {
        return Ok(());
    }
    for term in terms(selector) {
        if !term.contains('=') {
            return Err(invalid(format!(
                "invalid selector: '{selector}'; can't understand '{term}'"
            )));
        }
    }
    Ok(())
}

/// Kubernetes label selectors: `k`, `!k`, `k=v`, `k==v`, `k!=v`,
/// `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`.
fn check_label_selector(selector: &str) -> Check {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        let key = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?";
        let val = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
        Regex::new(&format!(
            r"^\s*(!?\s*{key}|{key}\s*(==?|!=)\s*{val}|{key}\s+(in|notin)\s*\(\s*{val}(\s*,\s*{val})*\s*\)|{key}\s*[<>]\s*-?[0-9]+)\s*$"
        ))
        .unwrap_or_else(|e| panic!("BUG: label selector pattern: {e}"))
    });
    if selector.trim().is_empty() {
        return Ok(());
    }
    for term in terms(selector) {
        if !re.is_match(term) {
            return Err(invalid(format!(
                "unable to parse requirement: invalid label selector term {term:?} in {selector:?}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert!(check_field_selector("metadata.name=x,spec.nodeName!=y").is_ok());
        assert_eq!(
            check_field_selector("metadata.status-Running").unwrap_err().message,
            "invalid selector: 'metadata.status-Running'; can't understand 'metadata.status-Running'"
        );
        for ok in [
            "app",
            "!app",
            "app=x",
            "app in (a, b)",
            "tier notin (x)",
            "n>3",
            "a.b/c==d,e",
        ] {
            assert!(check_label_selector(ok).is_ok(), "{ok}");
        }
        for bad in ["app=(", "in in", "=x"] {
            assert!(check_label_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_their_selectors() {
        let mut c = KubernetesSdConfig {
            role: "node".into(),
            selectors: vec![KubernetesSelector {
                role: "pod".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            c.validate().unwrap_err().message,
            "node role supports only node selectors"
        );
        c.role = "vacation".into();
        assert!(c.validate().unwrap_err().message.contains("role"));
        c.role = "pod".into();
        assert!(c.validate().is_ok());
    }
}

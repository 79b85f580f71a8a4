//! `static_configs`: target groups written in the config itself.

use std::collections::BTreeMap;

use config::discovery::StaticConfig;
use model::{Labels, LabelsBuilder};
use tokio::sync::mpsc;

use crate::{Discoverer, DiscoveryFuture, TargetGroup, ADDRESS_LABEL};

/// The provider of a job's `static_configs`: all of a job's static groups
/// form one provider, as in Prometheus, and group `i` has source `"i"`.
#[derive(Debug, Clone)]
pub struct StaticDiscovery {
    groups: Vec<TargetGroup>,
}

impl StaticDiscovery {
    /// The provider of `configs`, a job's `static_configs` in order.
    pub fn new(configs: &[StaticConfig]) -> Self {
        let groups = configs
            .iter()
            .enumerate()
            .map(|(i, c)| target_group(i.to_string(), &c.targets, &c.labels, None))
            .collect();
        StaticDiscovery { groups }
    }
}

impl Discoverer for StaticDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        Box::pin(async move {
            // The groups never change: one send is the whole job. A closed
            // channel only means nobody listens any more.
            let _ = tx.send(self.groups).await;
        })
    }
}

/// A group of `targets` (one `__address__` each) sharing `labels`, plus one
/// more label `extra` that the provider sets (`__meta_filepath`,
/// `__meta_url`) and that wins over a label of the same name.
pub(crate) fn target_group(
    source: String,
    targets: &[String],
    labels: &BTreeMap<String, String>,
    extra: Option<(&str, &str)>,
) -> TargetGroup {
    let targets = targets
        .iter()
        .map(|t| Labels::from_pairs(&[(ADDRESS_LABEL, t.as_str())]))
        .collect();
    let mut b = LabelsBuilder::new();
    for (n, v) in labels {
        b.set(n, v);
    }
    if let Some((n, v)) = extra {
        b.set(n, v);
    }
    TargetGroup {
        source,
        targets,
        labels: b.build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_group_per_static_config_numbered_from_zero() {
        let cfg = |targets: &[&str], env: &str| StaticConfig {
            targets: targets.iter().map(|s| s.to_string()).collect(),
            labels: [("env".to_owned(), env.to_owned())].into(),
        };
        let d = StaticDiscovery::new(&[cfg(&["a:1", "b:2"], "prod"), cfg(&["c:3"], "dev")]);
        let (tx, mut rx) = mpsc::channel(1);
        Box::new(d).run(tx).await;
        let groups = rx.recv().await.unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].source, "0");
        assert_eq!(groups[1].source, "1");
        assert_eq!(
            groups[0].targets,
            [
                Labels::from_pairs(&[("__address__", "a:1")]),
                Labels::from_pairs(&[("__address__", "b:2")])
            ]
        );
        assert_eq!(groups[1].labels, Labels::from_pairs(&[("env", "dev")]));
        assert!(rx.recv().await.is_none(), "a static provider sends once");
    }
}

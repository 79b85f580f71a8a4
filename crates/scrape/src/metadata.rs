//! What a target says about its metric families (`# TYPE`, `# HELP`,
//! `# UNIT`), kept per target for the metadata APIs, as Prometheus's scrape
//! cache keeps it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use model::{Metadata, MetricType};

use crate::cache::FastHash;

/// Scrapes after which the metadata of a family no longer exposed is
/// forgotten, as in Prometheus.
const KEEP_ITERATIONS: u64 = 10;

#[derive(Debug, Default)]
struct Entry {
    metadata: Metadata,
    /// The scrape iteration that last saw the family.
    last_iter: u64,
}

/// One target's metric metadata, written by its scrape loop and read by the
/// API; each access takes a short lock.
#[derive(Debug, Default)]
pub struct MetadataStore {
    families: Mutex<HashMap<String, Entry, FastHash>>,
}

impl MetadataStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry, FastHash>> {
        self.families.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The metadata of family `name`, if the target exposed it recently.
    pub fn get(&self, name: &str) -> Option<Metadata> {
        self.lock().get(name).map(|e| e.metadata.clone())
    }

    /// Every family's metadata, sorted by family name.
    pub fn list(&self) -> Vec<(String, Metadata)> {
        let mut out: Vec<(String, Metadata)> = self
            .lock()
            .iter()
            .map(|(k, e)| (k.clone(), e.metadata.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// How many families are known.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no family is known.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Bytes of help, unit and type text held (Prometheus's
    /// `SizeMetadata`, reported per target).
    pub fn size_bytes(&self) -> usize {
        self.lock()
            .values()
            .map(|e| {
                e.metadata.help.len()
                    + e.metadata.unit.len()
                    + e.metadata.metric_type.as_openmetrics_str().len()
            })
            .sum()
    }

    /// Records what one metadata line says about `name` in scrape `iter`;
    /// allocates only when something changed.
    pub(crate) fn set(&self, name: &str, iter: u64, change: MetaChange<'_>) {
        let mut map = self.lock();
        let e = match map.get_mut(name) {
            Some(e) => e,
            None => map.entry(name.to_owned()).or_default(),
        };
        e.last_iter = iter;
        match change {
            MetaChange::Type(t) => e.metadata.metric_type = t,
            MetaChange::Help(h) => {
                if e.metadata.help != h {
                    h.clone_into(&mut e.metadata.help);
                }
            }
            MetaChange::Unit(u) => {
                if e.metadata.unit != u {
                    u.clone_into(&mut e.metadata.unit);
                }
            }
        }
    }

    /// Forgets families not exposed for more than ten scrapes.
    pub(crate) fn forget_older_than(&self, iter: u64) {
        self.lock()
            .retain(|_, e| iter.saturating_sub(e.last_iter) <= KEEP_ITERATIONS);
    }
}

/// One metadata line's content.
pub(crate) enum MetaChange<'a> {
    Type(MetricType),
    Help(&'a str),
    Unit(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_forgets() {
        let s = MetadataStore::default();
        s.set("a", 0, MetaChange::Type(MetricType::Counter));
        s.set("a", 0, MetaChange::Help("Things."));
        s.set("b", 0, MetaChange::Unit("seconds"));
        assert_eq!(
            s.get("a"),
            Some(Metadata {
                metric_type: MetricType::Counter,
                help: "Things.".into(),
                unit: String::new()
            })
        );
        assert_eq!(
            s.list().iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            s.size_bytes(),
            "Things.".len() + "counter".len() + "seconds".len() + "unknown".len()
        );
        s.set("a", 11, MetaChange::Help("Things."));
        s.forget_older_than(11);
        assert_eq!(s.len(), 1);
        assert!(s.get("b").is_none());
    }
}

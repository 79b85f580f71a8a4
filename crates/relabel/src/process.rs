//! Applying relabel rules to a label set.

mod edits;

use md5::{Digest, Md5};
use model::{Labels, LabelsBuilder};

use crate::expand::{expand, Locations, WholeValue};
use crate::{Action, RelabelConfig};
use edits::Edits;

/// Applies `configs` in order to `labels`; `None` when a rule drops the set.
///
/// For many label sets, a [`Relabeler`] reuses its buffers between calls.
pub fn process(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    Relabeler::new().process(labels, configs)
}

/// Applies `configs` to the labels in `builder`, leaving the result there;
/// `false` when a rule drops the set (the builder is then left as it was).
///
/// For callers that assemble labels in a [`LabelsBuilder`] (target labels
/// from discovery plus scrape defaults) and relabel before building.
pub fn process_builder(builder: &mut LabelsBuilder, configs: &[RelabelConfig]) -> bool {
    Relabeler::new().process_builder(builder, configs)
}

/// Relabels many label sets, reusing its buffers: after the first few calls
/// a run allocates only the resulting [`Labels`] (and the capture positions
/// of rules whose regex is not `(.*)`).
#[derive(Default, Debug)]
pub struct Relabeler {
    edits: Edits,
    /// Joined source label values.
    value: String,
    /// Expanded `target_label`.
    target: String,
    /// Expanded `replacement`.
    result: String,
    /// Labels visited by `labelmap`, copied because it edits while visiting.
    snapshot: Vec<(String, String)>,
}

impl Relabeler {
    /// A relabeler with empty buffers.
    pub fn new() -> Relabeler {
        Relabeler::default()
    }

    /// Applies `configs` in order to `labels`; `None` when a rule drops the set.
    pub fn process(&mut self, labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
        self.edits.clear();
        for cfg in configs {
            if !self.apply(labels, cfg) {
                return None;
            }
        }
        Some(self.edits.build(labels))
    }

    /// Like [`process_builder`], with this relabeler's buffers.
    pub fn process_builder(
        &mut self,
        builder: &mut LabelsBuilder,
        configs: &[RelabelConfig],
    ) -> bool {
        let base = builder.build();
        let Some(out) = self.process(&base, configs) else {
            return false;
        };
        builder.reset();
        for l in &out {
            builder.set(l.name, l.value);
        }
        true
    }

    /// Applies one rule; false when it drops the set.
    fn apply(&mut self, base: &Labels, cfg: &RelabelConfig) -> bool {
        self.value.clear();
        for (i, name) in cfg.source_labels().iter().enumerate() {
            if i > 0 {
                self.value.push_str(&cfg.separator);
            }
            self.value.push_str(self.edits.get(base, name));
        }
        let value = self.value.as_str();
        match cfg.action {
            Action::Drop => return !cfg.regex.is_match(value),
            Action::Keep => return cfg.regex.is_match(value),
            Action::DropEqual => return self.edits.get(base, &cfg.target_label) != value,
            Action::KeepEqual => return self.edits.get(base, &cfg.target_label) == value,
            Action::Replace => self.replace(cfg),
            Action::Lowercase => {
                self.result.clear();
                self.result.extend(value.chars().map(go_to_lower));
                self.edits.set(&cfg.target_label, &self.result);
            }
            Action::Uppercase => {
                self.result.clear();
                self.result.extend(value.chars().map(go_to_upper));
                self.edits.set(&cfg.target_label, &self.result);
            }
            Action::HashMod => {
                let digest = Md5::digest(value.as_bytes());
                let mut low = [0u8; 8];
                low.copy_from_slice(&digest[8..]);
                // `validate` refuses modulus 0; an unvalidated rule gets 0
                // rather than a division by zero.
                let m = u64::from_be_bytes(low)
                    .checked_rem(cfg.modulus)
                    .unwrap_or(0);
                self.edits.set(&cfg.target_label, &m.to_string());
            }
            Action::LabelMap => self.label_map(base, cfg),
            Action::LabelDrop => self
                .edits
                .delete_where(base, |name| cfg.regex.is_match(name)),
            Action::LabelKeep => self
                .edits
                .delete_where(base, |name| !cfg.regex.is_match(name)),
        }
        true
    }

    fn replace(&mut self, cfg: &RelabelConfig) {
        let value = self.value.as_str();
        // Prometheus sets the label straight away in this case, without
        // checking the name; validation has checked it already.
        if value.is_empty()
            && cfg.regex.is_implicit_default()
            && !cfg.target_label.contains('$')
            && !cfg.replacement.contains('$')
        {
            self.edits.set(&cfg.target_label, &cfg.replacement);
            return;
        }
        self.target.clear();
        self.result.clear();
        if cfg.regex.is_match_all() {
            let groups = WholeValue(value.len());
            expand(&mut self.target, &cfg.target_label, value, &groups);
            expand(&mut self.result, &cfg.replacement, value, &groups);
        } else {
            let re = cfg.regex.compiled();
            let mut locs = re.capture_locations();
            if re.captures_read(&mut locs, value).is_none() {
                return;
            }
            let groups = Locations { re, locs: &locs };
            expand(&mut self.target, &cfg.target_label, value, &groups);
            expand(&mut self.result, &cfg.replacement, value, &groups);
        }
        if !cfg.scheme().is_valid_label_name(&self.target) {
            return;
        }
        if self.result.is_empty() {
            self.edits.del(&self.target);
        } else {
            self.edits.set(&self.target, &self.result);
        }
    }

    fn label_map(&mut self, base: &Labels, cfg: &RelabelConfig) {
        let n = self.edits.snapshot(base, &mut self.snapshot);
        let re = cfg.regex.compiled();
        for (name, value) in &self.snapshot[..n] {
            if !cfg.regex.is_match(name) {
                continue;
            }
            // Prometheus replaces all matches in the name; the anchored regex
            // matches the whole name once, so one expansion is the same.
            self.result.clear();
            if cfg.regex.is_match_all() {
                expand(
                    &mut self.result,
                    &cfg.replacement,
                    name,
                    &WholeValue(name.len()),
                );
            } else {
                let mut locs = re.capture_locations();
                if re.captures_read(&mut locs, name).is_none() {
                    continue;
                }
                replace_all(&mut self.result, re, name, &cfg.replacement, &locs);
            }
            // Unlike `replace`, Prometheus does not check the mapped name.
            self.edits.set(&self.result, value);
        }
    }
}

/// Go's `ReplaceAllString` for a regex whose first match is `first`: the
/// text outside matches is kept and each match is replaced by the expanded
/// template. With a well-formed anchored pattern there is one match, the
/// whole name; a pattern like `a)|(b` escapes the anchors and can match more.
fn replace_all(
    dst: &mut String,
    re: &regex::Regex,
    src: &str,
    template: &str,
    first: &regex::CaptureLocations,
) {
    let whole = |l: &regex::CaptureLocations| l.get(0).unwrap_or((0, 0));
    let (s, e) = whole(first);
    if (s, e) == (0, src.len()) {
        expand(dst, template, src, &Locations { re, locs: first });
        return;
    }
    let mut last = 0;
    for caps in re.captures_iter(src) {
        let Some(m) = caps.get(0) else { continue };
        dst.push_str(&src[last..m.start()]);
        let mut locs = re.capture_locations();
        // Re-run at this match's start to get positions in `locs` form.
        if re.captures_read_at(&mut locs, src, m.start()).is_some() {
            expand(dst, template, src, &Locations { re, locs: &locs });
        }
        last = m.end();
    }
    dst.push_str(&src[last..]);
}

/// Go's `unicode.ToLower` per character: the simple one-to-one mapping
/// (Rust's full mapping turns `İ` into two characters; Go gives `i`).
fn go_to_lower(c: char) -> char {
    let mut m = c.to_lowercase();
    match (m.next(), m.next()) {
        (Some(l), None) => l,
        (Some(l), Some(_)) if c == '\u{130}' => l,
        _ => c,
    }
}

/// Go's `unicode.ToUpper` per character: characters whose upper case is
/// several characters (`ß` → `SS`) have no simple mapping and stay.
fn go_to_upper(c: char) -> char {
    let mut m = c.to_uppercase();
    match (m.next(), m.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_case_mapping() {
        let lower: String = "ABC İ Σ".chars().map(go_to_lower).collect();
        assert_eq!(lower, "abc i σ"); // no final-sigma rule in Go
        let upper: String = "straße ǆ".chars().map(go_to_upper).collect();
        assert_eq!(upper, "STRAßE Ǆ");
    }
}

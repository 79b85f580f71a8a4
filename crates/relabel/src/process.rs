//! Applying relabel rules to a label set.

mod edits;

use md5::{Digest, Md5};
use model::{Labels, LabelsBuilder};

use crate::expand::{expand, Locations, WholeValue};
use crate::{Action, Regex, RelabelConfig};
use edits::Edits;
use model::regex::Shape;

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
    /// Pairs a `labelmap` rule sets, in visiting order; spare entries are
    /// kept for reuse.
    mapped: Vec<(String, String)>,
}

impl Relabeler {
    /// A relabeler with empty buffers.
    pub fn new() -> Relabeler {
        Relabeler::default()
    }

    /// Applies `configs` in order to `labels`; `None` when a rule drops the set.
    pub fn process(&mut self, labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
        self.edits.reset(labels);
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
        let Some(found) = find(&cfg.regex, value) else {
            return;
        };
        match &found {
            Found::Whole(groups) => {
                expand(&mut self.target, &cfg.target_label, value, groups);
                expand(&mut self.result, &cfg.replacement, value, groups);
            }
            Found::Located(locs) => {
                let groups = Locations {
                    names: cfg.regex.group_names(),
                    locs,
                };
                expand(&mut self.target, &cfg.target_label, value, &groups);
                expand(&mut self.result, &cfg.replacement, value, &groups);
            }
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
        // Prometheus visits a snapshot of the labels, so names set by this
        // rule are not visited again: collect the new pairs, then set them.
        let mut mapped = std::mem::take(&mut self.mapped);
        let mut n = 0;
        self.edits.for_each_current(base, |name, value| {
            let found = find(&cfg.regex, name);
            if found.is_none() {
                return;
            }
            if mapped.len() == n {
                mapped.push((String::new(), String::new()));
            }
            let (new_name, new_value) = &mut mapped[n];
            new_name.clear();
            // Prometheus replaces all matches in the name; the anchored
            // regex matches the whole name once, so one expansion is the same.
            match found {
                None => {}
                Some(Found::Whole(groups)) => expand(new_name, &cfg.replacement, name, &groups),
                Some(Found::Located(locs)) => {
                    replace_all(new_name, &cfg.regex, name, &cfg.replacement, &locs)
                }
            }
            value.clone_into(new_value);
            n += 1;
        });
        // Unlike `replace`, Prometheus does not check the mapped names.
        for (name, value) in &mapped[..n] {
            self.edits.set(name, value);
        }
        self.mapped = mapped;
    }
}

/// The groups of a match.
enum Found {
    /// The match is the whole value; known without running the engine.
    Whole(WholeValue),
    /// Positions found by the engine.
    Located(regex::CaptureLocations),
}

/// Matches `value` against `regex`, taking the shortcut its shape allows.
fn find(regex: &Regex, value: &str) -> Option<Found> {
    let whole = |group_1| {
        Some(Found::Whole(WholeValue {
            len: value.len(),
            group_1,
        }))
    };
    match regex.shape() {
        Shape::Wrapped {
            prefix,
            suffix,
            non_empty,
            grouped,
        } => Shape::wrapped_group(prefix, suffix, *non_empty, value).map(|group_1| {
            Found::Whole(WholeValue {
                len: value.len(),
                group_1: grouped.then_some(group_1),
            })
        }),
        Shape::Literals(_) | Shape::Contains(_) if regex.is_match(value) => whole(None),
        Shape::Literals(_) | Shape::Contains(_) => None,
        Shape::Prefix(p) if !value.starts_with(&**p) => None,
        Shape::Prefix(_) | Shape::General => {
            let re = regex.compiled();
            let mut locs = re.capture_locations();
            re.captures_read(&mut locs, value)?;
            Some(Found::Located(locs))
        }
    }
}

/// Go's `ReplaceAllString` for a regex whose first match is `first`: the
/// text outside matches is kept and each match is replaced by the expanded
/// template. With a well-formed anchored pattern there is one match, the
/// whole name; a pattern like `a)|(b` escapes the anchors and can match more,
/// and then Go's rules for empty matches apply.
fn replace_all(
    dst: &mut String,
    regex: &Regex,
    src: &str,
    template: &str,
    first: &regex::CaptureLocations,
) {
    let names = regex.group_names();
    if first.get(0) == Some((0, src.len())) {
        expand(dst, template, src, &Locations { names, locs: first });
        return;
    }
    let re = regex.compiled();
    let mut locs = re.capture_locations();
    let (mut search, mut last_end) = (0, 0);
    while search <= src.len() {
        let Some((start, end)) = re
            .captures_read_at(&mut locs, src, search)
            .map(|m| (m.start(), m.end()))
        else {
            break;
        };
        dst.push_str(&src[last_end..start]);
        // No replacement for an empty match right after the previous one.
        if end > last_end || start == 0 {
            expand(dst, template, src, &Locations { names, locs: &locs });
        }
        last_end = end;
        let width = src[search..].chars().next().map_or(1, char::len_utf8);
        search = if search + width > end {
            search + width
        } else {
            end
        };
    }
    dst.push_str(&src[last_end..]);
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

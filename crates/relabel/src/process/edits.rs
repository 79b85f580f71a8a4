//! The label set being relabeled: an immutable base plus edits.
//!
//! Prometheus relabels through a `labels.Builder` that keeps the original
//! set untouched and records added and deleted names. The order in which it
//! visits labels (unchanged base labels in name order, then added or changed
//! labels in the order they were first set) decides which value wins when
//! `labelmap` maps two labels to one name, so this keeps the same shape.
//! Buffers are kept between runs: after warm-up a run allocates only for
//! the result. The base is indexed once per run (where each pair starts),
//! so that looking a label up is a binary search rather than a walk over
//! the packed bytes; rule chains look up source labels many times.

use std::cmp::Ordering;

use model::{Label, Labels};

/// Where one pair of the packed base lies: name at `start..sep`, value at
/// `sep + 1..end`.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    sep: usize,
    end: usize,
}

#[derive(Default, Debug)]
pub(crate) struct Edits {
    /// The pairs of the base label set, in name order.
    index: Vec<Span>,
    /// Added or changed labels, in first-set order; entries past `add_len`
    /// are spare buffers.
    add: Vec<(String, String)>,
    add_len: usize,
    /// Deleted names; entries past `del_len` are spare buffers.
    del: Vec<String>,
    del_len: usize,
}

impl Edits {
    /// Starts a run over `base`, forgetting the previous run's edits.
    pub(crate) fn reset(&mut self, base: &Labels) {
        self.add_len = 0;
        self.del_len = 0;
        self.index.clear();
        let bytes = base.as_bytes();
        let mut pos = 0;
        for l in base.iter() {
            let sep = pos + l.name.len();
            let end = sep + 1 + l.value.len();
            self.index.push(Span {
                start: pos,
                sep,
                end,
            });
            pos = end + 1;
        }
        debug_assert_eq!(pos, bytes.len(), "BUG: packed label layout changed");
    }

    /// The base value of `name`, `""` when absent.
    fn base_get<'a>(&self, base: &'a Labels, name: &str) -> &'a str {
        let bytes = base.as_bytes();
        // Byte order is `str` order, and comparing bytes skips UTF-8 checks.
        let found = self
            .index
            .binary_search_by(|s| bytes[s.start..s.sep].cmp(name.as_bytes()));
        let Ok(i) = found else { return "" };
        let s = self.index[i];
        // The span was cut at the boundaries of a `&str` value in `reset`.
        std::str::from_utf8(&bytes[s.sep + 1..s.end])
            .unwrap_or_else(|e| panic!("BUG: label value span is not UTF-8: {e}"))
    }

    fn added(&self) -> &[(String, String)] {
        &self.add[..self.add_len]
    }

    fn deleted(&self) -> &[String] {
        &self.del[..self.del_len]
    }

    /// The current value of `name`, `""` when absent (Prometheus's `Get`).
    pub(crate) fn get<'a>(&'a self, base: &'a Labels, name: &str) -> &'a str {
        if let Some((_, v)) = self.added().iter().find(|(n, _)| n == name) {
            return v;
        }
        if self.deleted().iter().any(|n| n == name) {
            return "";
        }
        self.base_get(base, name)
    }

    /// Sets `name` to `value`; an empty value deletes.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.del(name);
            return;
        }
        if let Some((_, v)) = self.add[..self.add_len].iter_mut().find(|(n, _)| n == name) {
            value.clone_into(v);
            return;
        }
        if let Some((n, v)) = self.add.get_mut(self.add_len) {
            name.clone_into(n);
            value.clone_into(v);
        } else {
            self.add.push((name.to_owned(), value.to_owned()));
        }
        self.add_len += 1;
    }

    pub(crate) fn del(&mut self, name: &str) {
        if let Some(i) = self.added().iter().position(|(n, _)| n == name) {
            // Keep the order of the others; the removed entry becomes spare.
            self.add[i..self.add_len].rotate_left(1);
            self.add_len -= 1;
        }
        if self.deleted().iter().any(|n| n == name) {
            return;
        }
        if let Some(n) = self.del.get_mut(self.del_len) {
            name.clone_into(n);
        } else {
            self.del.push(name.to_owned());
        }
        self.del_len += 1;
    }

    /// Whether a base label is still visible as it was.
    fn base_unchanged(&self, name: &str) -> bool {
        !self.deleted().iter().any(|n| n == name) && !self.added().iter().any(|(n, _)| n == name)
    }

    /// Visits the current labels in Prometheus's order: unchanged base
    /// labels by name, then added or changed ones in first-set order.
    pub(crate) fn for_each_current(&self, base: &Labels, mut f: impl FnMut(&str, &str)) {
        for l in base.iter() {
            if self.base_unchanged(l.name) {
                f(l.name, l.value);
            }
        }
        for (n, v) in self.added() {
            f(n, v);
        }
    }

    /// Deletes every current label whose name `drop` selects.
    pub(crate) fn delete_where(&mut self, base: &Labels, mut drop: impl FnMut(&str) -> bool) {
        for l in base.iter() {
            if self.base_unchanged(l.name) && drop(l.name) {
                self.del(l.name);
            }
        }
        let mut i = 0;
        while i < self.add_len {
            if drop(&self.add[i].0) {
                self.add[i..self.add_len].rotate_left(1);
                self.add_len -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// The resulting label set.
    pub(crate) fn build(&mut self, base: &Labels) -> Labels {
        if self.add_len == 0 && self.del_len == 0 {
            return base.clone();
        }
        self.add[..self.add_len].sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.del[..self.del_len].sort_unstable();
        let deleted = &self.del[..self.del_len];
        let kept = base.iter().filter(|l| {
            deleted
                .binary_search_by(|d| d.as_str().cmp(l.name))
                .is_err()
        });
        let added = self
            .added()
            .iter()
            .map(|(n, v)| Label { name: n, value: v });
        Labels::from_sorted_unchecked(MergeByName {
            a: kept.peekable(),
            b: added.peekable(),
        })
    }
}

/// Merges two label iterators sorted by name; on equal names the second
/// wins (an added label replaces the base one).
struct MergeByName<A: Iterator, B: Iterator> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<'x, A, B> Iterator for MergeByName<A, B>
where
    A: Iterator<Item = Label<'x>>,
    B: Iterator<Item = Label<'x>>,
{
    type Item = Label<'x>;

    fn next(&mut self) -> Option<Label<'x>> {
        let order = match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) => x.name.cmp(y.name),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => self.a.next(),
            Ordering::Greater => self.b.next(),
            Ordering::Equal => {
                self.a.next();
                self.b.next()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_over_base() {
        let base = Labels::from_pairs(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let mut e = Edits::default();
        e.reset(&base);
        e.set("b", "20");
        e.set("d", "4");
        e.del("c");
        e.set("c", "30");
        e.set("d", "");
        assert_eq!(e.get(&base, "a"), "1");
        assert_eq!(e.get(&base, "b"), "20");
        assert_eq!(e.get(&base, "d"), "");
        let mut names = Vec::new();
        e.for_each_current(&base, |n, _| names.push(n.to_owned()));
        assert_eq!(names, ["a", "b", "c"]); // a unchanged; b, c in set order
        assert_eq!(e.build(&base).to_string(), r#"{a="1", b="20", c="30"}"#);
        e.reset(&base);
        e.delete_where(&base, |n| n != "b");
        assert_eq!(e.build(&base).to_string(), r#"{b="2"}"#);
    }
}

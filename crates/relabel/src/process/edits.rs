//! The label set being relabeled: an immutable base plus edits.
//!
//! Prometheus relabels through a `labels.Builder` that keeps the original
//! set untouched and records added and deleted names. The order in which it
//! visits labels (unchanged base labels in name order, then added or changed
//! labels in the order they were first set) decides which value wins when
//! `labelmap` maps two labels to one name, so this keeps the same shape.
//! Buffers are kept between runs: after warm-up a run allocates only for
//! the result.

use model::{Label, Labels};

#[derive(Default, Debug)]
pub(crate) struct Edits {
    /// Added or changed labels, in first-set order; entries past `add_len`
    /// are spare buffers.
    add: Vec<(String, String)>,
    add_len: usize,
    /// Deleted names; entries past `del_len` are spare buffers.
    del: Vec<String>,
    del_len: usize,
}

impl Edits {
    pub(crate) fn clear(&mut self) {
        self.add_len = 0;
        self.del_len = 0;
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
        base.get_or_empty(name)
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

    /// Copies the current labels, in Prometheus's visiting order, into
    /// `out[..returned len]`, reusing `out`'s strings.
    pub(crate) fn snapshot(&self, base: &Labels, out: &mut Vec<(String, String)>) -> usize {
        let mut len = 0;
        let current = base.iter().filter(|l| self.base_unchanged(l.name)).chain(
            self.added()
                .iter()
                .map(|(n, v)| Label { name: n, value: v }),
        );
        for l in current {
            if let Some((n, v)) = out.get_mut(len) {
                l.name.clone_into(n);
                l.value.clone_into(v);
            } else {
                out.push((l.name.to_owned(), l.value.to_owned()));
            }
            len += 1;
        }
        len
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
        let kept = base.iter().filter(|l| self.base_unchanged(l.name));
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

/// Merges two label iterators sorted by name with disjoint names.
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
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) if x.name <= y.name => self.a.next(),
            (Some(_), Some(_)) | (None, _) => self.b.next(),
            (Some(_), None) => self.a.next(),
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
        e.set("b", "20");
        e.set("d", "4");
        e.del("c");
        e.set("c", "30");
        e.set("d", "");
        assert_eq!(e.get(&base, "a"), "1");
        assert_eq!(e.get(&base, "b"), "20");
        assert_eq!(e.get(&base, "d"), "");
        let mut snap = Vec::new();
        let n = e.snapshot(&base, &mut snap);
        let names: Vec<&str> = snap[..n].iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]); // a unchanged; b, c in set order
        assert_eq!(e.build(&base).to_string(), r#"{a="1", b="20", c="30"}"#);
        e.clear();
        e.delete_where(&base, |n| n != "b");
        assert_eq!(e.build(&base).to_string(), r#"{b="2"}"#);
    }
}

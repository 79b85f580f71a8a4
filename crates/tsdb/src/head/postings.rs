//! The head's inverted index: for every label name and value, the sorted
//! list of series refs carrying that pair (Prometheus's `MemPostings`), plus
//! the list of all refs, and the evaluation of label matchers against it.
//!
//! Matcher semantics are Prometheus's `PostingsForMatchers`: a series lacking
//! a label is matched as if the label had the empty value. A matcher that
//! does not match `""` can only select series carrying its label, so its
//! postings (the union over matching values) are intersected; a matcher that
//! matches `""` (`a!="x"`, `a!~"x"`, `a=~".*"`, `a=""`) selects everything
//! except the series whose value it rejects, so those are subtracted. A
//! selection made only of matchers of the second kind would select every
//! series and is refused, as PromQL refuses `{}` and `{a=~".*"}`.

use std::collections::HashMap;

use model::{Labels, MatchType, Matcher};
use storage::StorageError;

use super::series::FastBuild;

/// Label value → sorted refs.
type ValueMap = HashMap<Box<str>, Vec<u64>, FastBuild>;

/// The postings lists of the head. Callers wrap it in a lock.
#[derive(Default)]
pub(crate) struct MemPostings {
    by_name: HashMap<Box<str>, ValueMap, FastBuild>,
    all: Vec<u64>,
}

impl MemPostings {
    /// Adds series `r` with `labels`. Refs usually arrive in increasing
    /// order (they come from a counter), so this is an append; a replay of
    /// records written by concurrent appenders may be slightly out of order,
    /// handled by shifting the tail.
    pub(crate) fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let values = match self.by_name.get_mut(l.name) {
                Some(v) => v,
                None => self.by_name.entry(l.name.into()).or_default(),
            };
            let list = match values.get_mut(l.value) {
                Some(list) => list,
                None => values.entry(l.value.into()).or_default(),
            };
            insert_sorted(list, r);
        }
        insert_sorted(&mut self.all, r);
    }

    /// Removes the given series; `deleted` must be sorted by ref. Only the
    /// lists of the deleted series' own labels are touched, each once.
    pub(crate) fn delete(&mut self, deleted: &[(u64, Labels)]) {
        if deleted.is_empty() {
            return;
        }
        debug_assert!(deleted.windows(2).all(|w| w[0].0 < w[1].0));
        let gone = |r: &u64| deleted.binary_search_by_key(r, |d| d.0).is_ok();
        let mut touched: HashMap<(&str, &str), ()> = HashMap::new();
        for (_, labels) in deleted {
            for l in labels.iter() {
                touched.insert((l.name, l.value), ());
            }
        }
        for (name, value) in touched.into_keys() {
            let Some(values) = self.by_name.get_mut(name) else {
                continue;
            };
            if let Some(list) = values.get_mut(value) {
                list.retain(|r| !gone(r));
                if list.is_empty() {
                    values.remove(value);
                }
            }
            if values.is_empty() {
                self.by_name.remove(name);
            }
        }
        self.all.retain(|r| !gone(r));
    }

    /// The refs of series with `name=value`, sorted.
    pub(crate) fn get(&self, name: &str, value: &str) -> &[u64] {
        self.by_name
            .get(name)
            .and_then(|v| v.get(value))
            .map_or(&[], Vec::as_slice)
    }

    /// Every ref, sorted.
    pub(crate) fn all(&self) -> &[u64] {
        &self.all
    }

    /// Sorted label names.
    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().map(|n| n.to_string()).collect();
        names.sort_unstable();
        names
    }

    /// Sorted values of `name`.
    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        let mut vals: Vec<String> = self
            .by_name
            .get(name)
            .map(|v| v.keys().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        vals.sort_unstable();
        vals
    }

    /// Number of distinct label pairs (for stats).
    pub(crate) fn num_pairs(&self) -> usize {
        self.by_name.values().map(HashMap::len).sum()
    }

    /// Estimated heap bytes held by the lists and maps.
    pub(crate) fn heap_bytes(&self) -> usize {
        // A hashbrown slot is the entry plus one control byte; tables run at
        // most 7/8 full, so count capacity rather than length.
        let entry = std::mem::size_of::<(Box<str>, Vec<u64>)>() + 1;
        let mut n = self.by_name.capacity() * (std::mem::size_of::<(Box<str>, ValueMap)>() + 1);
        for (name, values) in &self.by_name {
            n += name.len() + values.capacity() * entry;
            for (v, list) in values {
                n += v.len() + list.capacity() * 8;
            }
        }
        n + self.all.capacity() * 8
    }

    /// The sorted refs of series satisfying every matcher.
    pub(crate) fn postings_for_matchers(
        &self,
        matchers: &[Matcher],
    ) -> Result<Vec<u64>, StorageError> {
        if matchers.iter().all(Matcher::matches_empty) {
            let shown: Vec<String> = matchers.iter().map(ToString::to_string).collect();
            return Err(StorageError::Invalid(format!(
                "cannot select series with {{{}}}: at least one matcher must not match the empty string",
                shown.join(", ")
            )));
        }
        let mut intersect: Vec<Vec<u64>> = Vec::new();
        let mut subtract: Vec<Vec<u64>> = Vec::new();
        for m in matchers {
            if m.matches_empty() {
                subtract.push(self.rejected_by(m));
            } else {
                let p = self.matched_by(m);
                if p.is_empty() {
                    return Ok(Vec::new());
                }
                intersect.push(p);
            }
        }
        intersect.sort_by_key(Vec::len);
        let mut it = intersect.into_iter();
        let mut out = it.next().unwrap_or_default();
        for p in it {
            out = intersect_sorted(&out, &p);
            if out.is_empty() {
                return Ok(out);
            }
        }
        for p in &subtract {
            out = subtract_sorted(&out, p);
        }
        Ok(out)
    }

    /// Union of the postings of the values `m` accepts (the label present).
    fn matched_by(&self, m: &Matcher) -> Vec<u64> {
        if let Some(set) = m.set_matches() {
            let lists: Vec<&[u64]> = set.iter().map(|v| self.get(&m.name, v)).collect();
            return union(&lists);
        }
        self.union_where(&m.name, |v| m.matches(v))
    }

    /// Union of the postings of the values of `m`'s label that `m` rejects.
    fn rejected_by(&self, m: &Matcher) -> Vec<u64> {
        if m.match_type == MatchType::NotEqual {
            // `a!="x"` rejects exactly `a="x"`: one direct lookup.
            return self.get(&m.name, &m.value).to_vec();
        }
        self.union_where(&m.name, |v| !m.matches(v))
    }

    fn union_where(&self, name: &str, keep: impl Fn(&str) -> bool) -> Vec<u64> {
        let Some(values) = self.by_name.get(name) else {
            return Vec::new();
        };
        let lists: Vec<&[u64]> = values
            .iter()
            .filter(|(v, _)| keep(v))
            .map(|(_, l)| l.as_slice())
            .collect();
        union(&lists)
    }
}

fn insert_sorted(list: &mut Vec<u64>, r: u64) {
    match list.last() {
        None => list.push(r),
        Some(&last) if last < r => list.push(r),
        Some(_) => {
            if let Err(i) = list.binary_search(&r) {
                list.insert(i, r);
            }
        }
    }
}

fn union(lists: &[&[u64]]) -> Vec<u64> {
    match lists {
        [] => Vec::new(),
        [one] => one.to_vec(),
        _ => {
            let mut out: Vec<u64> = Vec::with_capacity(lists.iter().map(|l| l.len()).sum());
            for l in lists {
                out.extend_from_slice(l);
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// Intersection of two sorted lists; gallops through the longer one.
fn intersect_sorted(small: &[u64], big: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(small.len().min(big.len()));
    let mut rest = big;
    for &r in small {
        let i = rest.partition_point(|&x| x < r);
        rest = &rest[i..];
        match rest.first() {
            None => break,
            Some(&x) if x == r => out.push(r),
            Some(_) => {}
        }
    }
    out
}

/// `from` without the refs in `remove`; both sorted.
fn subtract_sorted(from: &[u64], remove: &[u64]) -> Vec<u64> {
    if remove.is_empty() {
        return from.to_vec();
    }
    let mut out = Vec::with_capacity(from.len());
    let mut j = 0;
    for &r in from {
        while j < remove.len() && remove[j] < r {
            j += 1;
        }
        if j < remove.len() && remove[j] == r {
            continue;
        }
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(t: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(t, n, v).unwrap()
    }

    fn fixture() -> MemPostings {
        let mut p = MemPostings::default();
        let series = [
            (1, vec![("__name__", "up"), ("job", "a"), ("i", "1")]),
            (2, vec![("__name__", "up"), ("job", "b"), ("i", "2")]),
            (3, vec![("__name__", "up"), ("job", "a")]),
            (5, vec![("__name__", "down"), ("job", "c"), ("i", "1")]),
        ];
        // Out of order on purpose: replay may add refs out of order.
        for (r, l) in series.iter().rev() {
            p.add(*r, &Labels::from_pairs(l));
        }
        p
    }

    #[test]
    fn matchers_select_like_prometheus() {
        use MatchType::*;
        let p = fixture();
        let check = |ms: Vec<Matcher>, want: &[u64]| {
            assert_eq!(p.postings_for_matchers(&ms).unwrap(), want, "{ms:?}");
        };
        check(vec![m(Equal, "__name__", "up")], &[1, 2, 3]);
        check(vec![m(Equal, "job", "a"), m(Equal, "i", "1")], &[1]);
        check(vec![m(Equal, "job", "x")], &[]);
        check(vec![m(Equal, "__name__", "up"), m(Equal, "i", "")], &[3]);
        check(
            vec![m(Equal, "__name__", "up"), m(NotEqual, "i", "1")],
            &[2, 3],
        );
        check(
            vec![m(Equal, "__name__", "up"), m(NotEqual, "i", "")],
            &[1, 2],
        );
        check(vec![m(Regex, "job", "a|c")], &[1, 3, 5]);
        check(vec![m(Regex, "job", "[ab]")], &[1, 2, 3]);
        check(vec![m(Regex, "i", ".+")], &[1, 2, 5]);
        check(vec![m(Regex, "i", ".+"), m(NotRegex, "job", "c|b")], &[1]);
        check(vec![m(Regex, "job", ".*"), m(Equal, "i", "2")], &[2]);
        check(
            vec![m(Regex, "__name__", "u.*"), m(Regex, "i", "|2")],
            &[2, 3],
        );
        check(vec![m(Equal, "nope", "x"), m(Equal, "job", "a")], &[]);
    }

    #[test]
    fn refuses_selections_matching_everything() {
        use MatchType::*;
        let p = fixture();
        for ms in [
            vec![],
            vec![m(Regex, "a", ".*")],
            vec![m(NotEqual, "job", "a"), m(Equal, "i", "")],
        ] {
            let err = p.postings_for_matchers(&ms).unwrap_err().to_string();
            assert!(err.contains("at least one matcher"), "{err}");
        }
    }

    #[test]
    fn delete_removes_from_every_list() {
        let mut p = fixture();
        let up = |r: u64, job: &str, i: Option<&str>| {
            let mut l = vec![("__name__", "up"), ("job", job)];
            if let Some(i) = i {
                l.push(("i", i));
            }
            (r, Labels::from_pairs(&l))
        };
        p.delete(&[up(1, "a", Some("1")), up(2, "b", Some("2"))]);
        assert_eq!(p.all(), &[3, 5]);
        assert_eq!(p.get("job", "a"), &[3]);
        assert_eq!(p.get("job", "b"), &[] as &[u64]);
        assert_eq!(p.label_values("job"), ["a", "c"]);
        assert_eq!(p.label_values("i"), ["1"]);
        assert_eq!(p.label_names(), ["__name__", "i", "job"]);
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_btreeset(
            a in proptest::collection::btree_set(0u64..200, 0..60),
            b in proptest::collection::btree_set(0u64..200, 0..60),
        ) {
            let av: Vec<u64> = a.iter().copied().collect();
            let bv: Vec<u64> = b.iter().copied().collect();
            let want_i: Vec<u64> = a.intersection(&b).copied().collect();
            let want_d: Vec<u64> = a.difference(&b).copied().collect();
            let want_u: Vec<u64> = a.union(&b).copied().collect();
            prop_assert_eq!(intersect_sorted(&av, &bv), want_i);
            prop_assert_eq!(subtract_sorted(&av, &bv), want_d);
            prop_assert_eq!(union(&[&av, &bv]), want_u);
        }
    }
}

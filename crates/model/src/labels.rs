//! Label sets.
//!
//! A [`Labels`] is an immutable, sorted set of name/value pairs stored in one
//! shared allocation. The packed form is `name \xff value \xff` repeated for
//! every pair in name order. `0xFF` never occurs in UTF-8, so the separator
//! cannot collide with content, and the packed bytes are a canonical form:
//! two label sets are equal exactly when their bytes are equal, and the hash
//! of a set is the hash of its bytes — the same input Prometheus hashes
//! (`labels.Hash` writes `name, 0xff, value, 0xff`).
//!
//! Why one allocation instead of a `Vec<(String, String)>`: the head keeps one
//! `Labels` per series for hours, so the per-series overhead matters (one
//! pointer + length + refcount instead of two `String` headers per pair), and
//! cloning a set into a query result is a refcount increment.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Separator between names and values in the packed form; never valid UTF-8.
const SEP: u8 = 0xff;

/// The label name that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One name/value pair, borrowed from a [`Labels`] or built by a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label<'a> {
    /// The label name.
    pub name: &'a str,
    /// The label value.
    pub value: &'a str,
}

/// An immutable, sorted set of labels with unique names and non-empty values.
///
/// Empty values are dropped on construction, as Prometheus treats a label with
/// an empty value as absent.
#[derive(Clone)]
pub struct Labels {
    data: Arc<[u8]>,
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Labels {
        Labels {
            data: Arc::from(&[][..]),
        }
    }

    /// Builds a label set from pairs in any order. Later duplicates of a name
    /// replace earlier ones; empty values are dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Labels {
        let mut b = LabelsBuilder::new();
        b.pairs.reserve_exact(pairs.len());
        for (n, v) in pairs {
            b.set(n.as_ref(), v.as_ref());
        }
        b.build()
    }

    /// Builds a label set from pairs the caller guarantees are sorted by name,
    /// unique and free of empty values. Checked in debug builds only; this is
    /// the fast path for decoders whose format already guarantees it.
    pub fn from_sorted_unchecked<'a>(pairs: impl IntoIterator<Item = Label<'a>>) -> Labels {
        Labels {
            data: pack_with_scratch(|buf| pack_sorted(buf, pairs)),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.data.iter().filter(|&&b| b == SEP).count() / 2
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Iterates the pairs in name order.
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter { rest: &self.data }
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        for l in self.iter() {
            match l.name.cmp(name) {
                Ordering::Equal => return Some(l.value),
                Ordering::Greater => return None,
                Ordering::Less => {}
            }
        }
        None
    }

    /// The value of `name`, or `""` when absent (Prometheus's `Labels.Get`).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Whether `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// A 64-bit hash of the set (xxHash64 of the packed form, like
    /// Prometheus's `Labels.Hash`).
    pub fn hash64(&self) -> u64 {
        xxhash_rust::xxh64::xxh64(&self.data, 0)
    }

    /// The packed canonical bytes; equal sets have equal bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Bytes used on the heap by this set (shared between clones).
    pub fn heap_size(&self) -> usize {
        self.data.len() + 2 * std::mem::size_of::<usize>()
    }

    /// A builder seeded with this set, to add, change or remove labels.
    pub fn to_builder(&self) -> LabelsBuilder {
        let mut b = LabelsBuilder::new();
        b.pairs.reserve_exact(self.len());
        for l in self.iter() {
            b.pairs.push((l.name.to_owned(), l.value.to_owned()));
        }
        b.len = b.pairs.len();
        b.sorted = true;
        b
    }

    /// A copy without the given names.
    pub fn without(&self, names: &[&str]) -> Labels {
        Labels::from_sorted_unchecked(self.iter().filter(|l| !names.contains(&l.name)))
    }

    /// A copy with only the given names.
    pub fn keep_only(&self, names: &[&str]) -> Labels {
        Labels::from_sorted_unchecked(self.iter().filter(|l| names.contains(&l.name)))
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        if !self.has(METRIC_NAME) {
            return self.clone();
        }
        self.without(&[METRIC_NAME])
    }
}

/// Scratch buffers kept above this size are dropped after use, so that one
/// huge label set does not pin its memory in every thread.
const MAX_SCRATCH: usize = 64 << 10;

thread_local! {
    /// Where label sets of unknown packed size are packed before being
    /// copied into their exact-size shared allocation: growing a fresh `Vec`
    /// per set cost several reallocations on the relabeling hot path.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Packs with `fill` into the thread's scratch buffer (or a fresh one if
/// it is in use or gone) and returns the exact-size shared copy.
fn pack_with_scratch(fill: impl FnOnce(&mut Vec<u8>)) -> Arc<[u8]> {
    let mut fill = Some(fill);
    let packed = SCRATCH.try_with(|scratch| {
        let mut buf = scratch.try_borrow_mut().ok()?;
        buf.clear();
        (fill.take()?)(&mut buf);
        let packed = Arc::from(&buf[..]);
        if buf.capacity() > MAX_SCRATCH {
            *buf = Vec::new();
        }
        Some(packed)
    });
    if let Ok(Some(packed)) = packed {
        return packed;
    }
    let mut buf = Vec::new();
    match fill.take() {
        Some(fill) => fill(&mut buf),
        None => unreachable!("BUG: label packing ran but returned nothing"),
    }
    Arc::from(&buf[..])
}

/// Appends pairs already sorted by name, unique, skipping empty values.
fn pack_sorted<'a>(buf: &mut Vec<u8>, pairs: impl IntoIterator<Item = Label<'a>>) {
    #[cfg(debug_assertions)]
    let mut prev: Option<&str> = None;
    for l in pairs {
        #[cfg(debug_assertions)]
        {
            if let Some(p) = prev {
                debug_assert!(
                    p < l.name,
                    "BUG: labels not sorted/unique: {p} >= {}",
                    l.name
                );
            }
            prev = Some(l.name);
        }
        if l.value.is_empty() {
            continue;
        }
        push_pair(buf, l.name, l.value);
    }
}

fn push_pair(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(name.as_bytes());
    buf.push(SEP);
    buf.extend_from_slice(value.as_bytes());
    buf.push(SEP);
}

impl Default for Labels {
    fn default() -> Self {
        Labels::empty()
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.data, &other.data) || self.data == other.data
    }
}

impl Eq for Labels {}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// Pairwise comparison, name then value, as Prometheus's `labels.Compare`;
    /// a set that is a prefix of another sorts first.
    fn cmp(&self, other: &Self) -> Ordering {
        let (mut a, mut b) = (self.iter(), other.iter());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => match x.name.cmp(y.name).then(x.value.cmp(y.value)) {
                    Ordering::Equal => {}
                    o => return o,
                },
            }
        }
    }
}

impl fmt::Display for Labels {
    /// Prometheus's `Labels.String`: `{a="b", c="d"}` with Go-quoted values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(l.name)?;
            f.write_str("=")?;
            write_go_quoted(f, l.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes `s` quoted as Go's `strconv.Quote` does for printable text:
/// backslash, double quote and control characters escaped.
pub fn write_go_quoted(w: &mut impl fmt::Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            '\x07' => w.write_str("\\a")?,
            '\x08' => w.write_str("\\b")?,
            '\x0c' => w.write_str("\\f")?,
            '\x0b' => w.write_str("\\v")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(w, "\\x{:02x}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

/// Iterator over the pairs of a [`Labels`].
pub struct LabelsIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let n = memchr::memchr(SEP, self.rest).expect("BUG: packed labels missing separator");
        let name = &self.rest[..n];
        let after = &self.rest[n + 1..];
        let v = memchr::memchr(SEP, after).expect("BUG: packed labels missing separator");
        let value = &after[..v];
        self.rest = &after[v + 1..];
        // SAFETY: the packed form is only ever built from `&str` pieces joined
        // by 0xFF, which cannot occur inside UTF-8, so each piece between
        // separators is exactly one of those original `&str`s.
        unsafe {
            Some(Label {
                name: std::str::from_utf8_unchecked(name),
                value: std::str::from_utf8_unchecked(value),
            })
        }
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = Label<'a>;
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

/// Builds a [`Labels`] by setting and deleting names; reusable across builds
/// to avoid allocating per series on hot paths.
#[derive(Default, Clone, Debug)]
pub struct LabelsBuilder {
    /// The pairs set, in `pairs[..len]`; the rest are spare strings kept
    /// from earlier builds, so that reuse after [`LabelsBuilder::reset`]
    /// allocates nothing for names and values that fit.
    pairs: Vec<(String, String)>,
    len: usize,
    sorted: bool,
    buf: Vec<u8>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> LabelsBuilder {
        LabelsBuilder {
            pairs: Vec::new(),
            len: 0,
            sorted: true,
            buf: Vec::new(),
        }
    }

    /// Empties the builder, keeping its allocations.
    pub fn reset(&mut self) {
        self.len = 0;
        self.sorted = true;
    }

    /// Sets `name` to `value`, replacing any earlier value. An empty value
    /// deletes the label.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        if let Some(p) = self.pairs[..self.len].iter_mut().find(|p| p.0 == name) {
            value.clone_into(&mut p.1);
            return self;
        }
        if let Some(last) = self.pairs[..self.len].last() {
            if last.0.as_str() > name {
                self.sorted = false;
            }
        }
        match self.pairs.get_mut(self.len) {
            Some(spare) => {
                name.clone_into(&mut spare.0);
                value.clone_into(&mut spare.1);
            }
            None => self.pairs.push((name.to_owned(), value.to_owned())),
        }
        self.len += 1;
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Some(i) = self.pairs[..self.len].iter().position(|p| p.0 == name) {
            // Keep the order of the rest; the removed strings become spare.
            self.pairs[i..self.len].rotate_left(1);
            self.len -= 1;
        }
        self
    }

    /// The current value of `name`, if set and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs[..self.len]
            .iter()
            .find(|p| p.0 == name)
            .map(|p| p.1.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Keeps only the labels for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) -> &mut Self {
        // Compacts the kept pairs in order; the others become spare.
        let mut kept = 0;
        for i in 0..self.len {
            if keep(&self.pairs[i].0, &self.pairs[i].1) {
                self.pairs.swap(kept, i);
                kept += 1;
            }
        }
        self.len = kept;
        self
    }

    /// Iterates the current non-empty pairs, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = Label<'_>> {
        self.pairs[..self.len]
            .iter()
            .filter(|p| !p.1.is_empty())
            .map(|p| Label {
                name: &p.0,
                value: &p.1,
            })
    }

    /// Builds the label set. The builder keeps its contents.
    pub fn build(&mut self) -> Labels {
        if !self.sorted {
            self.pairs[..self.len].sort_unstable_by(|a, b| a.0.cmp(&b.0));
            self.sorted = true;
        }
        self.buf.clear();
        for (n, v) in &self.pairs[..self.len] {
            if !v.is_empty() {
                push_pair(&mut self.buf, n, v);
            }
        }
        Labels {
            data: Arc::from(&self.buf[..]),
        }
    }
}

/// Whether `name` is a valid label name under the legacy (pre-3.0) scheme:
/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_legacy_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Whether `name` is a valid metric name under the legacy scheme:
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_legacy_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
}

/// Whether `name` is a valid label (or metric) name under Prometheus 3.x's
/// default UTF-8 scheme: any non-empty UTF-8 string. Since `&str` is always
/// UTF-8, only emptiness can fail.
pub fn is_valid_utf8_name(name: &str) -> bool {
    !name.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sorted_and_deduplicated() {
        let l = Labels::from_pairs(&[("b", "2"), ("a", "1"), ("b", "3"), ("c", "")]);
        assert_eq!(l.to_string(), r#"{a="1", b="3"}"#);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
        assert_eq!(l.get("0"), None);
    }

    #[test]
    fn ordering_is_pairwise_not_bytewise() {
        // Byte order of the packed form would put "ab" before "a\xff".
        let a = Labels::from_pairs(&[("a", "x")]);
        let ab = Labels::from_pairs(&[("ab", "x")]);
        assert!(a < ab);
        let short = Labels::from_pairs(&[("a", "1")]);
        let long = Labels::from_pairs(&[("a", "1"), ("b", "1")]);
        assert!(short < long);
    }

    #[test]
    fn display_quotes_like_go() {
        let l = Labels::from_pairs(&[("a", "x\"y\\z\n")]);
        assert_eq!(l.to_string(), r#"{a="x\"y\\z\n"}"#);
    }

    #[test]
    fn builder_del_and_reuse() {
        let base = Labels::from_pairs(&[("__name__", "up"), ("job", "j"), ("instance", "i")]);
        let mut b = base.to_builder();
        b.del("instance").set("env", "prod");
        assert_eq!(
            b.build().to_string(),
            r#"{__name__="up", env="prod", job="j"}"#
        );
        assert_eq!(
            base.without_metric_name().to_string(),
            r#"{instance="i", job="j"}"#
        );
    }

    #[test]
    fn builder_reuse_hides_spare_pairs() {
        let mut b = LabelsBuilder::new();
        b.set("z", "1").set("a", "2").set("m", "3").del("a");
        assert_eq!(b.build().to_string(), r#"{m="3", z="1"}"#);
        b.retain(|n, _| n != "m");
        assert_eq!(b.get("m"), None);
        assert_eq!(b.build().to_string(), r#"{z="1"}"#);
        b.reset();
        assert_eq!(b.iter().count(), 0);
        assert_eq!(b.get("z"), None);
        b.set("b", "x").set("a", "y");
        let names: Vec<&str> = b.iter().map(|l| l.name).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(b.build().to_string(), r#"{a="y", b="x"}"#);
        b.reset();
        assert_eq!(b.build(), Labels::empty());
    }

    #[test]
    fn sorted_builds_share_scratch_safely() {
        let outer = Labels::from_pairs(&[("a", "1"), ("b", ""), ("c", "3")]);
        // A nested build while the scratch buffer is in use gets its own.
        let nested = Labels::from_sorted_unchecked(outer.iter().inspect(|_| {
            let inner = Labels::from_sorted_unchecked(outer.iter());
            assert_eq!(inner, outer);
        }));
        assert_eq!(nested, outer);
        assert_eq!(nested.to_string(), r#"{a="1", c="3"}"#);
        // A set larger than the kept scratch is built whole, twice.
        let big = "x".repeat(MAX_SCRATCH + 1);
        for _ in 0..2 {
            let l = Labels::from_sorted_unchecked([Label {
                name: "a",
                value: &big,
            }]);
            assert_eq!(l.get("a"), Some(big.as_str()));
        }
        assert_eq!(outer.without(&["a"]).to_string(), r#"{c="3"}"#);
    }

    #[test]
    fn legacy_names() {
        assert!(is_valid_legacy_label_name("_a1"));
        assert!(!is_valid_legacy_label_name("1a"));
        assert!(!is_valid_legacy_label_name("a:b"));
        assert!(is_valid_legacy_metric_name("a:b"));
        assert!(!is_valid_legacy_metric_name(""));
    }

    proptest! {
        #[test]
        fn pairs_round_trip(pairs in proptest::collection::btree_map("[a-z_]{1,5}", ".{1,6}", 0..8)) {
            let v: Vec<(String, String)> = pairs.clone().into_iter().collect();
            let l = Labels::from_pairs(&v);
            let back: Vec<(String, String)> =
                l.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn order_matches_tuple_order(
            a in proptest::collection::btree_map("[a-c]{1,2}", "[a-c]{1,2}", 0..4),
            b in proptest::collection::btree_map("[a-c]{1,2}", "[a-c]{1,2}", 0..4),
        ) {
            let va: Vec<(String, String)> = a.into_iter().collect();
            let vb: Vec<(String, String)> = b.into_iter().collect();
            let la = Labels::from_pairs(&va);
            let lb = Labels::from_pairs(&vb);
            prop_assert_eq!(la.cmp(&lb), va.cmp(&vb));
            prop_assert_eq!(la == lb, va == vb);
        }
    }
}

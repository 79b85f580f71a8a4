//! Any bytes as a block index: `IndexReader::from_vec` must refuse them with
//! an error or give a reader whose every read path returns (an error is
//! fine, a panic is not).

#![no_main]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use libfuzzer_sys::fuzz_target;
use model::{MatchType, Matcher};
use tsdb::index::{postings_for_matchers, IndexReader, Postings};

/// Caps that keep one input's work bounded (each list is already bounded by
/// the input's size; these only stop quadratic walks on big inputs).
const MAX_NAMES: usize = 64;
const MAX_VALUES: usize = 256;
const MAX_REFS: usize = 4096;

/// Drains `p` into `into`, at most `MAX_REFS` refs.
fn drain(mut p: impl Postings, into: &mut BTreeSet<u64>) {
    while let Some(r) = p.next() {
        into.insert(r);
        if into.len() >= MAX_REFS {
            break;
        }
    }
}

/// Regex matchers on `name`, compiled once per name: compiling them for
/// every input would cost more than the rest of the target.
fn regex_matchers(name: &str) -> Vec<Matcher> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Vec<Matcher>>> = RefCell::new(HashMap::new());
    }
    CACHE.with_borrow_mut(|cache| {
        if cache.len() > 4096 {
            cache.clear();
        }
        cache
            .entry(name.to_owned())
            .or_insert_with(|| {
                [
                    (MatchType::Regex, ".+"),
                    (MatchType::NotRegex, "a.*"),
                    (MatchType::Regex, "a|b|"),
                    (MatchType::Regex, "(?i)x.*y"),
                ]
                .into_iter()
                .map(|(t, re)| Matcher::new(t, name, re).expect("BUG: valid regex"))
                .collect()
            })
            .clone()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(ix) = IndexReader::from_vec(data.to_vec()) else {
        return;
    };
    let _ = (ix.toc(), ix.size(), ix.symbol_table_size());

    // Symbols, iterated and looked up by ref (one past the end too).
    for s in ix.symbols().take(MAX_REFS) {
        if s.is_err() {
            break;
        }
    }
    for r in 0..=ix.num_symbols().min(MAX_VALUES as u32) {
        let _ = ix.lookup_symbol(r);
    }
    let _ = ix.lookup_symbol(u32::MAX);

    let mut refs = BTreeSet::new();
    if let Ok(p) = ix.all_postings() {
        drain(p, &mut refs);
    }
    if let Ok(mut p) = ix.all_postings() {
        // Seeking forwards, then to an earlier ref, must not misbehave.
        let _ = p.seek(refs.iter().nth(refs.len() / 2).copied().unwrap_or(1));
        let _ = p.seek(0);
        let _ = p.next();
    }

    let names: Vec<String> = ix
        .label_names()
        .into_iter()
        .take(MAX_NAMES)
        .map(str::to_owned)
        .collect();
    for name in names
        .iter()
        .map(String::as_str)
        .chain(["", "__no_such_label__"])
    {
        let Ok(values) = ix.label_values(name) else {
            continue;
        };
        let values: Vec<&str> = values.into_iter().take(MAX_VALUES).collect();
        for v in &values {
            if let Ok(p) = ix.postings(name, &[v]) {
                drain(p, &mut refs);
            }
        }
        if let Ok(p) = ix.postings(name, &values) {
            let mut union = BTreeSet::new();
            drain(p, &mut union);
        }
        let _ = ix
            .postings(name, &["__no_such_value__"])
            .map(|p| drain(p, &mut BTreeSet::new()));

        // A few matchers of each kind, each alone and with a name matcher.
        let first = values.first().copied().unwrap_or("");
        let mut ms = vec![
            Matcher::equal(name, first),
            Matcher::new(MatchType::NotEqual, name, first).expect("BUG: != never fails"),
        ];
        ms.extend(regex_matchers(name));
        if let Some(v) = values.last() {
            ms.push(Matcher::equal(name, *v));
        }
        for m in &ms {
            if let Ok(p) = postings_for_matchers(&ix, std::slice::from_ref(m)) {
                drain(p, &mut BTreeSet::new());
            }
            let pair = [Matcher::equal("__name__", first), m.clone()];
            if let Ok(p) = postings_for_matchers(&ix, &pair) {
                drain(p, &mut BTreeSet::new());
            }
        }
        if let Ok(p) = postings_for_matchers(&ix, &ms) {
            drain(p, &mut BTreeSet::new());
        }
    }

    // Every series any postings list named, plus refs no list names.
    let mut chunks = Vec::new();
    let odd = [0, 1, u64::MAX, u64::MAX / 16, data.len() as u64 / 16];
    for &r in refs.iter().chain(odd.iter()) {
        if let Ok(labels) = ix.series(r, &mut chunks) {
            for l in labels.iter() {
                let _ = ix.label_value_for(r, l.name);
            }
        }
        let _ = ix.label_value_for(r, "__name__");
        let _ = ix.label_names_for([r]);
    }
    let _ = ix.label_names_for(refs.iter().copied());
});

//! Corrupt input must give errors, never panics: every single-byte change of
//! a valid index (with section CRCs recomputed, so the change reaches the
//! decoders), truncations, and random bytes.

use super::super::postings::expand;
use super::super::select::postings_for_matchers;
use super::tests::write_index;
use super::*;
use model::{MatchType, Matcher};
use proptest::prelude::*;

thread_local! {
    /// Compiled once: regex compilation would dominate the test's time.
    static MATCHERS: Vec<Matcher> = vec![
        Matcher::new(MatchType::NotRegex, "i", "1.*").unwrap(),
        Matcher::new(MatchType::Regex, "j", "0|1").unwrap(),
        Matcher::new(MatchType::NotEqual, "k", "").unwrap(),
        Matcher::equal("__name__", "m"),
    ];
}

/// Uses every read path; results are ignored, only panics matter.
fn exercise(bytes: Vec<u8>) {
    let Ok(r) = IndexReader::from_vec(bytes) else {
        return;
    };
    let _ = r.symbols().count();
    for i in 0..r.num_symbols() + 2 {
        let _ = r.lookup_symbol(i);
    }
    let mut chunks = Vec::new();
    for name in r.label_names() {
        if let Ok(vals) = r.label_values(name) {
            if let Ok(p) = r.postings(name, &vals) {
                for id in expand(p).into_iter().take(64) {
                    let _ = r.series(id, &mut chunks);
                }
            }
        }
    }
    MATCHERS.with(|ms| {
        if let Ok(p) = postings_for_matchers(&r, ms) {
            expand(p);
        }
    });
    for id in [0, 1, 2, u64::from(u32::MAX), u64::MAX] {
        let _ = r.series(id, &mut chunks);
        let _ = r.label_value_for(id, "j");
    }
    let _ = r.label_names_for(0..64);
}

fn sample_index() -> Vec<u8> {
    // Enough values of `i` to cross a sampling boundary (32).
    let series: Vec<Labels> = (0..34)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", "m"),
                ("i", &format!("{i:02}")),
                ("j", &format!("{}", i % 3)),
            ])
        })
        .collect();
    write_index(&series)
}

/// `(start, uvarint length?)` of every CRC-framed section of `b`.
fn sections(b: &[u8]) -> Vec<(usize, bool)> {
    let r = IndexReader::from_vec(b.to_vec()).unwrap();
    let toc = r.toc();
    let mut out = vec![
        (toc.symbols as usize, false),
        (toc.label_indices_table as usize, false),
        (toc.postings_table as usize, false),
    ];
    let all = expand(r.all_postings().unwrap());
    out.extend(all.iter().map(|&id| (id as usize * 16, true)));
    let mut d = Decbuf::new(&b[r.table.0..r.table.1], r.table.0, "t");
    while d.len() > 0 {
        out.push((read_entry(&mut d).unwrap().1 as usize, false));
    }
    out
}

/// Recomputes the CRC of every section whose length still fits.
fn fix_crcs(b: &mut [u8], sections: &[(usize, bool)]) {
    for &(start, uv) in sections {
        let (len, body) = if uv {
            match super::super::codec::uvarint(&b[start..]) {
                Some((l, n)) => (l as usize, start + n),
                None => continue,
            }
        } else {
            let l = u32::from_be_bytes([b[start], b[start + 1], b[start + 2], b[start + 3]]);
            (l as usize, start + 4)
        };
        if body + len + 4 > b.len() - TOC_LEN {
            continue;
        }
        let crc = crc32c::crc32c(&b[body..body + len]);
        b[body + len..body + len + 4].copy_from_slice(&crc.to_be_bytes());
    }
}

#[test]
fn single_byte_changes_never_panic() {
    let good = sample_index();
    let secs = sections(&good);
    for i in 0..good.len() {
        for mask in [0x01u8, 0xff] {
            let mut b = good.clone();
            b[i] ^= mask;
            exercise(b.clone());
            fix_crcs(&mut b, &secs);
            exercise(b);
        }
    }
}

#[test]
fn truncations_never_panic() {
    let good = sample_index();
    for n in 0..good.len() {
        exercise(good[..n].to_vec());
        // Keep the TOC, cut the middle.
        let mut b = good[..n].to_vec();
        b.extend_from_slice(&good[good.len() - TOC_LEN..]);
        exercise(b);
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(mut b in proptest::collection::vec(any::<u8>(), 0..512), valid_header in any::<bool>()) {
        if valid_header && b.len() >= 5 {
            b[..5].copy_from_slice(&[0xBA, 0xAA, 0xD7, 0x00, 2]);
        }
        exercise(b);
    }

    #[test]
    fn random_changes_with_fixed_crcs_never_panic(changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut b = sample_index();
        let secs = sections(&b);
        for (i, v) in changes {
            let i = i.index(b.len());
            b[i] = v;
        }
        fix_crcs(&mut b, &secs);
        exercise(b);
    }
}

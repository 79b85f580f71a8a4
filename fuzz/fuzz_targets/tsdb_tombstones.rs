//! Any bytes as a block's tombstones file: `Tombstones::decode` refuses them
//! with an error or decodes them, and what it decodes re-encodes to bytes
//! that decode to the same tombstones.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tsdb::tombstones::Tombstones;

/// The tombstones as plain data, for comparing.
fn flat(t: &Tombstones) -> Vec<(u64, Vec<(i64, i64)>)> {
    t.iter()
        .map(|(r, ivs)| (r, ivs.iter().map(|i| (i.min_time, i.max_time)).collect()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/tombstones");
    let t = match Tombstones::decode(data, path) {
        Ok(t) => t,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = (t.total(), t.is_empty());
    for (r, ivs) in t.iter().take(1000) {
        assert_eq!(t.get(r), ivs);
        for iv in ivs {
            let _ = (
                iv.contains(iv.min_time),
                iv.contains(i64::MIN),
                iv.contains(i64::MAX),
            );
        }
    }
    let again = Tombstones::decode(&t.encode(), path).expect("re-encoded tombstones must decode");
    assert_eq!(flat(&again), flat(&t));
});

//! Any bytes as a block's meta.json: `BlockMeta::parse` refuses them with an
//! error or parses them, and what it parses prints (as Prometheus formats it)
//! to JSON that parses and prints the same again.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tsdb::meta::BlockMeta;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/meta.json");
    let m = match BlockMeta::parse(data, path) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let json = m.to_json();
    let again = BlockMeta::parse(&json, path).expect("printed meta.json must parse");
    assert!(
        again.to_json() == json,
        "meta.json does not print the same after a round trip"
    );
});

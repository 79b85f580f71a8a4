//! Fuzzed file-SD files, as JSON and as YAML (the extension picks the
//! decoder): reading never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 16 * 1024 {
        return;
    }
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    for name in ["targets.json", "targets.yml"] {
        let path = dir.path().join(name);
        if std::fs::write(&path, data).is_ok() {
            let _ = config::load_target_groups(&path);
        }
    }
});

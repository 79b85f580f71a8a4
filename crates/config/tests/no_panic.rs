//! Whatever text it is given, loading returns a verdict and never panics
//! (a stand-in until a fuzz target exists for the config loader).

use proptest::prelude::*;

/// Text built from YAML's structural characters and words of
/// `prometheus.yml`, so that many inputs get past the YAML parser and
/// reach decoding and validation.
fn yamlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "\n",
        "  ",
        "- ",
        ": ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "'",
        "\"",
        "&a ",
        "*a",
        "<<: ",
        "!!binary ",
        "~",
        "null",
        "true",
        "0",
        "-1",
        "1e9",
        "10s",
        "1h30m",
        "/w==",
        "${X}",
        "$$",
        "global",
        "scrape_configs",
        "job_name",
        "static_configs",
        "targets",
        "relabel_configs",
        "regex",
        "action",
        "hashmod",
        "scrape_interval",
        "scrape_timeout",
        "external_labels",
        "remote_write",
        "url",
        "http://a:1/x",
        "kubernetes_sd_configs",
        "role",
        "pod",
        "selectors",
        "basic_auth",
        "bearer_token",
        "tls_config",
        "cert_file",
        "storage",
        "tsdb",
        "retention",
        "size",
        "-1GB",
        "otlp",
        "scrape_config_files",
        "rule_files",
        "*",
        "é",
        "\u{0}",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn loading_yamlish_text_never_panics(text in yamlish()) {
        let _ = config::load_str(&text, "fuzz.yml");
    }

    #[test]
    fn loading_any_text_never_panics(text in any::<String>()) {
        let _ = config::load_str(&text, "fuzz.yml");
    }
}

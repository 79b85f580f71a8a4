//! Web config checks next to `promtool check web-config`: the same files
//! pass or fail, and pharos names the line of the problem.

use std::path::Path;
use std::process::Command;

/// Writes a PEM pair for 127.0.0.1 and a CA file into `dir`.
fn certificates(dir: &Path) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("s.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("s.key"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("ca.crt"), cert.pem()).unwrap();
}

#[test]
fn same_verdicts_as_promtool() {
    let promtool = testkit::reference("promtool");
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let hash = bcrypt::hash("secret", 4).unwrap();
    let tls = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
    // (config, the start of pharos's message after the file name; empty: valid)
    let cases: Vec<(String, &str)> = vec![
        (String::new(), ""),
        (tls.to_owned(), ""),
        (format!("basic_auth_users:\n  alice: {hash}\n"), ""),
        (format!("{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"), ""),
        (format!("{tls}  min_version: TLS13\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n  curve_preferences: [X25519]\n"), ""),
        ("http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n".to_owned(), ""),
        ("junk: 1\n".to_owned(), ":1:1: junk: field junk not found in type web.Config"),
        ("tls_server_config: [\n".to_owned(), ":2:1: "),
        ("tls_server_config:\n  key_file: s.key\n".to_owned(), ":2:3: tls_server_config: missing one of cert or cert_file"),
        ("tls_server_config:\n  cert_file: nope.crt\n  key_file: s.key\n".to_owned(), ": failed to read cert_file ("),
        (format!("{tls}  client_ca_file: ca.crt\n"), ":2:3: tls_server_config: client CA's have been configured without a Client Auth Policy"),
        (format!("{tls}  client_auth_type: Sometimes\n"), ":4:21: tls_server_config.client_auth_type: invalid ClientAuth: Sometimes"),
        (format!("{tls}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"), ":4:19: tls_server_config.cipher_suites[0]: unknown cipher: TLS_RSA_WITH_RC4_128_SHA"),
        (format!("{tls}  curve_preferences: [P256]\n"), ":4:23: tls_server_config.curve_preferences[0]: unknown curve: P256"),
        (format!("{tls}  max_version: TLS14\n"), ":4:16: tls_server_config.max_version: unknown TLS version: TLS14"),
        ("http_server_config:\n  headers:\n    Server: me\n".to_owned(), ":3:13: http_server_config.headers.Server: HTTP header \"Server\" can not be configured"),
        ("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n".to_owned(), ":3:29: http_server_config.headers[\"X-Content-Type-Options\"]: invalid value for X-Content-Type-Options."),
        ("basic_auth_users:\n  alice: secret\n".to_owned(), ":2:10: basic_auth_users.alice: crypto/bcrypt: hashedSecret too short"),
        (format!("basic_auth_users:\n  alice: {}\n", hash.replacen("$04$", "$03$", 1)), ":2:10: basic_auth_users.alice: crypto/bcrypt: cost 3 is outside allowed range (4,31)"),
    ];
    let path = dir.path().join("web.yml");
    for (text, want) in &cases {
        std::fs::write(&path, text).unwrap();
        let got = web::check_web_config(&path);
        match (&got, want.is_empty()) {
            (Ok(()), true) => {}
            (Err(e), false) => {
                let prefix = format!("invalid web config: {}{want}", path.display());
                assert!(
                    e.to_string().starts_with(&prefix),
                    "{text}\ngot:  {e}\nwant: {prefix}"
                );
            }
            _ => panic!("{text}\ngot {got:?}, want {want:?}"),
        }
        if let Some(promtool) = &promtool {
            let out = Command::new(promtool)
                .args(["check", "web-config"])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(
                out.status.success(),
                want.is_empty(),
                "promtool disagrees on:\n{text}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Where pharos is stricter than Go: settings Go accepts at startup but
/// that could never complete a handshake are refused when loading.
#[test]
fn refused_where_no_handshake_could_succeed() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let path = dir.path().join("web.yml");
    let tls = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
    for (extra, want) in [
        (
            "  min_version: TLS13\n  max_version: TLS12\n",
            "min_version TLS13 is above max_version TLS12",
        ),
        (
            "  min_version: TLS10\n  max_version: TLS11\n",
            "max_version TLS11 is not supported",
        ),
        (
            "  client_auth_type: RequireAndVerifyClientCert\n",
            "needs a client CA",
        ),
        (
            "  max_version: TLS12\n  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n",
            "none of cipher_suites",
        ),
    ] {
        std::fs::write(&path, format!("{tls}{extra}")).unwrap();
        let e = web::check_web_config(&path).unwrap_err().to_string();
        assert!(e.contains(want), "{extra}: {e}");
    }
}

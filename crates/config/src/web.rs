//! `web.config.yml`: the exporter-toolkit format that configures TLS, basic
//! authentication and response headers of every HTTP server of the
//! Prometheus family (`--web.config.file`).
//!
//! Loading checks everything that can be checked without reading the
//! certificates: the YAML shape, the enumerations (TLS versions, cipher
//! suites, curves, client auth types), the headers, the shape of the bcrypt
//! hashes, and that TLS has both a certificate and a key. Each problem names
//! its file, line and field, with exporter-toolkit's wording. Reading and
//! parsing the PEM files is the server's job, since it does it again on
//! every change of the files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::discovery::yaml_struct;
use crate::error::ConfigError;
use crate::load::join_dir;
use crate::secret::Secret;
use crate::validate::{invalid, Check, FieldPath, Invalid};
use crate::yaml::{self, de::from_node};

yaml_struct! {
    /// The whole `web.config.yml`.
    pub struct WebConfig {
        tls_server_config: TlsServerConfig = TlsServerConfig::default(),
        http_server_config: HttpServerConfig = HttpServerConfig::default(),
        rate_limit: RateLimitConfig = RateLimitConfig::default(),
        basic_auth_users: BTreeMap<String, Secret> = BTreeMap::new(),
    }
}

yaml_struct! {
    /// `tls_server_config`: TLS is on when any of the certificate, key,
    /// client CA or client auth fields is set.
    pub struct TlsServerConfig {
        cert: String = String::new(),
        key: Secret = Secret::default(),
        client_ca: String = String::new(),
        cert_file: String = String::new(),
        key_file: String = String::new(),
        client_auth_type: String = String::new(),
        client_ca_file: String = String::new(),
        client_allowed_sans: Option<Vec<String>> = None,
        cipher_suites: Vec<CipherSuite> = Vec::new(),
        curve_preferences: Vec<Curve> = Vec::new(),
        min_version: TlsVersion = TlsVersion::Tls12,
        max_version: TlsVersion = TlsVersion::Tls13,
        prefer_server_cipher_suites: bool = true,
    }
}

yaml_struct! {
    /// `http_server_config`.
    pub struct HttpServerConfig {
        http2: bool = true,
        headers: BTreeMap<String, String> = BTreeMap::new(),
    }
}

yaml_struct! {
    /// `rate_limit`: a token bucket over all requests; a zero interval
    /// disables it.
    pub struct RateLimitConfig {
        burst: u32 = 0,
        #[serde(with = "crate::values::duration")]
        interval: Duration = Duration::ZERO,
    }
}

/// How the server asks for and checks client certificates
/// (`client_auth_type`), as Go's `tls.ClientAuthType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No certificate is asked for.
    NoClientCert,
    /// A certificate is asked for but neither required nor verified.
    RequestClientCert,
    /// A certificate is required but not verified against the client CA.
    RequireAnyClientCert,
    /// A certificate, if sent, must verify against the client CA.
    VerifyClientCertIfGiven,
    /// A certificate is required and must verify against the client CA.
    RequireAndVerifyClientCert,
}

/// A TLS protocol version (`min_version`, `max_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TlsVersion {
    /// `TLS10`.
    #[serde(rename = "TLS10")]
    Tls10,
    /// `TLS11`.
    #[serde(rename = "TLS11")]
    Tls11,
    /// `TLS12`.
    #[serde(rename = "TLS12")]
    Tls12,
    /// `TLS13`.
    #[serde(rename = "TLS13")]
    Tls13,
}

/// The cipher suites Go's `tls.CipherSuites()` names, the only ones
/// exporter-toolkit accepts.
pub const CIPHER_SUITES: &[&str] = &[
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// A cipher suite by its Go (IANA) name, one of [`CIPHER_SUITES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherSuite(pub String);

/// An elliptic curve for ECDHE (`curve_preferences`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Curve {
    /// `CurveP256`.
    CurveP256,
    /// `CurveP384`.
    CurveP384,
    /// `CurveP521`.
    CurveP521,
    /// `X25519`.
    X25519,
}

/// The response headers `http_server_config.headers` may set, each with the
/// values it allows (none listed: any value), as exporter-toolkit.
pub const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

fn string_enum<'de, D: Deserializer<'de>, T>(
    d: D,
    what: &str,
    lookup: impl Fn(&str) -> Option<T>,
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    lookup(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown {what}: {s}")))
}

impl std::fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls10 => "TLS10",
            TlsVersion::Tls11 => "TLS11",
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        })
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_enum(d, "TLS version", |s| match s {
            "TLS10" => Some(TlsVersion::Tls10),
            "TLS11" => Some(TlsVersion::Tls11),
            "TLS12" => Some(TlsVersion::Tls12),
            "TLS13" => Some(TlsVersion::Tls13),
            _ => None,
        })
    }
}

impl<'de> Deserialize<'de> for CipherSuite {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_enum(d, "cipher", |s| {
            CIPHER_SUITES
                .contains(&s)
                .then(|| CipherSuite(s.to_owned()))
        })
    }
}

impl<'de> Deserialize<'de> for Curve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_enum(d, "curve", |s| match s {
            "CurveP256" => Some(Curve::CurveP256),
            "CurveP384" => Some(Curve::CurveP384),
            "CurveP521" => Some(Curve::CurveP521),
            "X25519" => Some(Curve::X25519),
            _ => None,
        })
    }
}

impl TlsServerConfig {
    /// Whether TLS is configured at all: any certificate, key, client CA or
    /// client auth field set, as exporter-toolkit's `IsEnabled`.
    pub fn is_enabled(&self) -> bool {
        !(self.cert.is_empty()
            && self.key.is_empty()
            && self.cert_file.is_empty()
            && self.key_file.is_empty()
            && self.client_ca.is_empty()
            && self.client_ca_file.is_empty()
            && self.client_auth_type.is_empty())
    }

    /// The client auth policy; `None` for an unknown name (refused by
    /// loading, so `None` only for a config built by hand).
    pub fn client_auth(&self) -> Option<ClientAuth> {
        Some(match self.client_auth_type.as_str() {
            "" | "NoClientCert" => ClientAuth::NoClientCert,
            "RequestClientCert" => ClientAuth::RequestClientCert,
            // The old name, still accepted by exporter-toolkit.
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
            _ => return None,
        })
    }

    fn validate(&self) -> Check {
        if !self.is_enabled() {
            return Ok(());
        }
        if self.cert_file.is_empty() && self.cert.is_empty() {
            return Err(invalid("missing one of cert or cert_file"));
        }
        if self.key_file.is_empty() && self.key.is_empty() {
            return Err(invalid("missing one of key or key_file"));
        }
        let Some(auth) = self.client_auth() else {
            return Err(
                invalid(format!("invalid ClientAuth: {}", self.client_auth_type))
                    .at("client_auth_type"),
            );
        };
        let has_ca = !self.client_ca_file.is_empty() || !self.client_ca.is_empty();
        if has_ca && auth == ClientAuth::NoClientCert {
            return Err(invalid(
                "client CA's have been configured without a Client Auth Policy",
            ));
        }
        Ok(())
    }

    /// Joins the relative file names onto `dir`, the config file's directory.
    fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.cert_file);
        join_dir(dir, &mut self.key_file);
        join_dir(dir, &mut self.client_ca_file);
    }
}

impl HttpServerConfig {
    fn validate(&self) -> Check {
        for (name, value) in &self.headers {
            let Some((_, allowed)) = ALLOWED_HEADERS.iter().find(|(h, _)| h == name) else {
                return Err(
                    invalid(format!("HTTP header {name:?} can not be configured"))
                        .at(name)
                        .at("headers"),
                );
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                let shown: Vec<String> = allowed.iter().map(|v| format!("{v:?}")).collect();
                return Err(invalid(format!(
                    "invalid value for {name}. Expected one of: [{}], but got: {value:?}",
                    shown.join(" ")
                ))
                .at(name)
                .at("headers"));
            }
        }
        Ok(())
    }
}

/// Checks that `hash` is a bcrypt hash as Go's `bcrypt.Cost` does, with its
/// messages: a config with a plain-text password must fail at startup, not
/// at the first request.
pub fn check_bcrypt_hash(hash: &str) -> Result<u32, String> {
    let b = hash.as_bytes();
    // "$2a$10$" + 22 characters of salt + 31 of hash.
    if b.len() < 59 {
        return Err("crypto/bcrypt: hashedSecret too short to be a bcrypted password".to_owned());
    }
    if b[0] != b'$' {
        return Err(format!(
            "crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '{}'",
            char::from(b[0])
        ));
    }
    if b[1] > b'2' {
        return Err(format!(
            "crypto/bcrypt: bcrypt algorithm version '{}' requested is newer than current version '2'",
            char::from(b[1])
        ));
    }
    let n = if b[2] != b'$' { 4 } else { 3 };
    let cost_text = &hash[n..n + 2];
    let cost: u32 = match cost_text.parse::<u32>() {
        Ok(c) if cost_text.bytes().all(|c| c.is_ascii_digit()) => c,
        _ => {
            return Err(format!(
                "strconv.Atoi: parsing {cost_text:?}: invalid syntax"
            ))
        }
    };
    if !(4..=31).contains(&cost) {
        return Err(format!(
            "crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
        ));
    }
    Ok(cost)
}

/// The Go type exporter-toolkit decodes a section into, for "field x not
/// found in type web.Config" messages.
pub(crate) fn go_type_name(rust_name: &str) -> Option<&'static str> {
    Some(match rust_name {
        "WebConfig" => "web.Config",
        "TlsServerConfig" => "web.TLSConfig",
        "HttpServerConfig" => "web.HTTPConfig",
        "RateLimitConfig" => "web.RateLimiterConfig",
        _ => return None,
    })
}

impl WebConfig {
    /// Checks the decoded config; the error carries the field path.
    fn validate(&self) -> Check {
        self.http_server_config
            .validate()
            .map_err(|e| e.at("http_server_config"))?;
        for (user, hash) in &self.basic_auth_users {
            check_bcrypt_hash(hash.expose())
                .map_err(|m| invalid(m).at(user).at("basic_auth_users"))?;
        }
        self.tls_server_config
            .validate()
            .map_err(|e| e.at("tls_server_config"))?;
        if self.tls_server_config.min_version > self.tls_server_config.max_version {
            return Err(invalid(format!(
                "min_version {} is above max_version {}",
                self.tls_server_config.min_version, self.tls_server_config.max_version
            ))
            .at("min_version")
            .at("tls_server_config"));
        }
        Ok(())
    }

    /// Decodes and checks config text; `name` names it in errors. File
    /// names stay as written.
    pub fn load_str(text: &str, name: &str) -> Result<WebConfig, ConfigError> {
        let tree = yaml::parse(text).map_err(|e| {
            ConfigError::located(
                name,
                Some((e.mark.line, e.mark.col)),
                FieldPath::default(),
                e.message,
            )
        })?;
        let config: WebConfig = from_node(&tree).map_err(|e| {
            ConfigError::located(
                name,
                e.mark.map(|m| (m.line, m.col)),
                FieldPath(e.path),
                e.message,
            )
        })?;
        config.validate().map_err(|e: Invalid| {
            let m = tree.find(&e.path).mark;
            ConfigError::located(name, Some((m.line, m.col)), FieldPath(e.path), e.message)
        })?;
        Ok(config)
    }

    /// Reads and checks a `web.config.yml`; relative file names are joined
    /// onto the file's directory, as exporter-toolkit does.
    pub fn load_file(path: &Path) -> Result<WebConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = WebConfig::load_str(&text, &path.display().to_string())?;
        config
            .tls_server_config
            .set_directory(path.parent().unwrap_or(Path::new("")));
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    /// One case per line: config text, and the error it must give (empty
    /// for a good config).
    #[test]
    fn good_and_bad_configs() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("tls_server_config:\n  cert_file: a\n  key_file: b\n", ""),
            ("tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: RequireClientCert\n", ""),
            ("http_server_config:\n  headers:\n    X-Frame-Options: deny\n", ""),
            (&format!("basic_auth_users:\n  alice: {HASH}\n"), ""),
            ("rate_limit:\n  interval: 1s\n  burst: 2\n", ""),
            ("junk: 1\n", "w.yml:1:1: junk: field junk not found in type web.Config"),
            (
                "tls_server_config:\n  key_file: b\n",
                "w.yml:2:3: tls_server_config: missing one of cert or cert_file",
            ),
            (
                "tls_server_config:\n  cert_file: a\n",
                "w.yml:2:3: tls_server_config: missing one of key or key_file",
            ),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
                "w.yml:2:3: tls_server_config: client CA's have been configured without a Client Auth Policy",
            ),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n",
                "w.yml:4:21: tls_server_config.client_auth_type: invalid ClientAuth: Maybe",
            ),
            (
                "tls_server_config:\n  cipher_suites: [TLS_INVENTED]\n",
                "w.yml:2:19: tls_server_config.cipher_suites[0]: unknown cipher: TLS_INVENTED",
            ),
            (
                "tls_server_config:\n  curve_preferences: [CurveP999]\n",
                "w.yml:2:23: tls_server_config.curve_preferences[0]: unknown curve: CurveP999",
            ),
            (
                "tls_server_config:\n  min_version: TLS99\n",
                "w.yml:2:16: tls_server_config.min_version: unknown TLS version: TLS99",
            ),
            (
                "http_server_config:\n  headers:\n    X-Powered-By: me\n",
                r#"w.yml:3:19: http_server_config.headers["X-Powered-By"]: HTTP header "X-Powered-By" can not be configured"#,
            ),
            (
                "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                r#"w.yml:3:22: http_server_config.headers["X-Frame-Options"]: invalid value for X-Frame-Options. Expected one of: ["deny" "sameorigin"], but got: "allow""#,
            ),
            (
                "basic_auth_users:\n  john: doe\n",
                "w.yml:2:9: basic_auth_users.john: crypto/bcrypt: hashedSecret too short to be a bcrypted password",
            ),
        ];
        for (text, want) in cases {
            let got = match WebConfig::load_str(text, "w.yml") {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            };
            assert_eq!(&got, want, "config:\n{text}");
        }
    }

    #[test]
    fn defaults() {
        let c = WebConfig::load_str("", "w.yml").unwrap();
        assert!(!c.tls_server_config.is_enabled());
        assert_eq!(c.tls_server_config.min_version, TlsVersion::Tls12);
        assert_eq!(c.tls_server_config.max_version, TlsVersion::Tls13);
        assert!(c.http_server_config.http2);
        assert!(c.tls_server_config.prefer_server_cipher_suites);
    }

    #[test]
    fn bcrypt_hash_shapes() {
        assert_eq!(check_bcrypt_hash(HASH), Ok(10));
        let long = |s: &str| format!("{s}{}", "a".repeat(60));
        assert!(check_bcrypt_hash(&long("x"))
            .unwrap_err()
            .contains("must start with '$'"));
        assert!(check_bcrypt_hash(&long("$3"))
            .unwrap_err()
            .contains("version '3'"));
        assert!(check_bcrypt_hash(&long("$2a$99$"))
            .unwrap_err()
            .contains("cost 99 is outside"));
        assert!(check_bcrypt_hash(&long("$2a$x1$"))
            .unwrap_err()
            .contains("\"x1\""));
    }

    #[test]
    fn files_are_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: s.crt\n  key_file: /abs/s.key\n",
        )
        .unwrap();
        let c = WebConfig::load_file(&path).unwrap();
        assert_eq!(
            c.tls_server_config.cert_file,
            dir.path().join("s.crt").to_string_lossy()
        );
        assert_eq!(c.tls_server_config.key_file, "/abs/s.key");
    }
}

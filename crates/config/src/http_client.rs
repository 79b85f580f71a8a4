//! HTTP client settings shared by scrape configs, service discovery,
//! Alertmanagers and remote storage (prometheus/common's `HTTPClientConfig`):
//! authentication (basic, authorization header, OAuth2), TLS, proxy and
//! extra headers, with the same mutual-exclusion checks.

mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::secret::Secret;
use crate::values::GoUrl;

/// How a client talks HTTP; inlined into the enclosing section, as Go's
/// `yaml:",inline"`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpClientConfig {
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `authorization` (an `Authorization: <type> <credentials>` header).
    pub authorization: Option<Authorization>,
    /// `oauth2` client-credentials or JWT-bearer flow.
    pub oauth2: Option<OAuth2>,
    /// Legacy `bearer_token`; moved into `authorization` by validation.
    pub bearer_token: Secret,
    /// Legacy `bearer_token_file`; moved into `authorization` by validation.
    pub bearer_token_file: String,
    /// `tls_config`.
    pub tls_config: TlsConfig,
    /// `follow_redirects`; `None` means the section's default (true).
    pub follow_redirects: Option<bool>,
    /// `enable_http2`; `None` means the section's default (true, but false
    /// for remote write).
    pub enable_http2: Option<bool>,
    /// Proxy settings, inline.
    #[serde(rename = "$inline_proxy")]
    pub proxy: ProxyConfig,
    /// `http_headers`: extra request headers.
    pub http_headers: Option<BTreeMap<String, Header>>,
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuth {
    /// `username`.
    pub username: String,
    /// `username_file`.
    pub username_file: String,
    /// `username_ref` (a secret-manager reference).
    pub username_ref: String,
    /// `password`.
    pub password: Secret,
    /// `password_file`.
    pub password_file: String,
    /// `password_ref`.
    pub password_ref: String,
}

/// `authorization`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// `type`; `Bearer` after validation when empty.
    #[serde(rename = "type")]
    pub kind: String,
    /// `credentials`.
    pub credentials: Secret,
    /// `credentials_file`.
    pub credentials_file: String,
    /// `credentials_ref`.
    pub credentials_ref: String,
}

/// `oauth2`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OAuth2 {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: Secret,
    /// `client_secret_file`.
    pub client_secret_file: String,
    /// `client_secret_ref`.
    pub client_secret_ref: String,
    /// `client_certificate_key_id` (JWT bearer grant).
    pub client_certificate_key_id: String,
    /// `client_certificate_key`.
    pub client_certificate_key: Secret,
    /// `client_certificate_key_file`.
    pub client_certificate_key_file: String,
    /// `client_certificate_key_ref`.
    pub client_certificate_key_ref: String,
    /// `grant_type`.
    pub grant_type: String,
    /// `signature_algorithm` (RS256, RS384, RS512).
    pub signature_algorithm: String,
    /// `iss`.
    pub iss: String,
    /// `audience`.
    pub audience: String,
    /// `claims`: extra JWT claims.
    pub claims: BTreeMap<String, AnyValue>,
    /// `scopes`.
    pub scopes: Vec<String>,
    /// `token_url`.
    pub token_url: String,
    /// `endpoint_params`.
    pub endpoint_params: BTreeMap<String, String>,
    /// `tls_config` for the token endpoint.
    pub tls_config: TlsConfig,
    /// Proxy for the token endpoint, inline.
    #[serde(rename = "$inline_proxy")]
    pub proxy: ProxyConfig,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// `ca`: PEM text.
    pub ca: String,
    /// `cert`: PEM text.
    pub cert: String,
    /// `key`: PEM text.
    pub key: Secret,
    /// `ca_file`.
    pub ca_file: String,
    /// `cert_file`.
    pub cert_file: String,
    /// `key_file`.
    pub key_file: String,
    /// `ca_ref`.
    pub ca_ref: String,
    /// `cert_ref`.
    pub cert_ref: String,
    /// `key_ref`.
    pub key_ref: String,
    /// `server_name`.
    pub server_name: String,
    /// `insecure_skip_verify`.
    pub insecure_skip_verify: bool,
    /// `min_version`: TLS10 … TLS13.
    pub min_version: String,
    /// `max_version`.
    pub max_version: String,
}

/// Proxy settings (inline in HTTP client and OAuth2 settings).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// `proxy_url`.
    pub proxy_url: Option<GoUrl>,
    /// `no_proxy`: comma-separated hosts that bypass the proxy.
    pub no_proxy: String,
    /// `proxy_from_environment`: use `HTTP_PROXY` and friends.
    pub proxy_from_environment: bool,
    /// `proxy_connect_header`: headers for CONNECT requests.
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

/// One entry of `http_headers`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Header {
    /// `values`.
    pub values: Vec<String>,
    /// `secrets`.
    pub secrets: Vec<Secret>,
    /// `files`.
    pub files: Vec<String>,
}

/// Any YAML value (for OAuth2 JWT `claims`).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyValue {
    /// null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<AnyValue>),
    /// A map.
    Map(BTreeMap<String, AnyValue>),
}

impl Serialize for AnyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AnyValue::Null => s.serialize_unit(),
            AnyValue::Bool(b) => s.serialize_bool(*b),
            AnyValue::Int(i) => s.serialize_i64(*i),
            AnyValue::Float(f) => s.serialize_f64(*f),
            AnyValue::String(v) => s.serialize_str(v),
            AnyValue::List(l) => l.serialize(s),
            AnyValue::Map(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyValue, E> {
                Ok(AnyValue::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnyValue, E> {
                Ok(AnyValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyValue, E> {
                Ok(AnyValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyValue, E> {
                Ok(i64::try_from(v).map_or(AnyValue::Float(v as f64), AnyValue::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyValue, E> {
                Ok(AnyValue::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyValue, E> {
                Ok(AnyValue::String(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<AnyValue, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element()? {
                    out.push(v);
                }
                Ok(AnyValue::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AnyValue, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = m.next_entry::<String, AnyValue>()? {
                    out.insert(k, v);
                }
                Ok(AnyValue::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

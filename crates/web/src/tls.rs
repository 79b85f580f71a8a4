//! `tls_server_config` as a rustls server configuration.
//!
//! rustls cannot honour every Go setting; the differences are deliberate
//! and documented here:
//! - TLS 1.0 and 1.1 do not exist in rustls: a `min_version` below TLS12
//!   means TLS12, and a `max_version` below TLS12 is refused.
//! - `cipher_suites` restricts the TLS 1.2 suites (as in Go, TLS 1.3 suites
//!   are not configurable); the CBC and RSA-key-exchange suites Go knows are
//!   not implemented by rustls and are skipped. A list that leaves no usable
//!   suite for a TLS-1.2-only server is refused.
//! - `curve_preferences` maps to rustls's key exchange groups; `CurveP521`
//!   is not implemented by rustls's ring provider and is skipped.
//! - The verifying client auth types need a client CA (`client_ca_file` or
//!   `client_ca`); Go would fall back to the system's roots, which is not a
//!   sensible trust store for client certificates.

use std::sync::Arc;

use config::web::{ClientAuth, Curve, TlsServerConfig, TlsVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use tokio_rustls::rustls::{
    self,
    client::danger::HandshakeSignatureValid,
    crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms},
    server::danger::{ClientCertVerified, ClientCertVerifier},
    server::WebPkiClientVerifier,
    DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme,
};

/// Builds the rustls configuration, reading the certificate, key and
/// client CA files. The error text is what the server logs and what a
/// handshake fails with.
pub(crate) fn server_config(
    tls: &TlsServerConfig,
    http2: bool,
) -> Result<rustls::ServerConfig, String> {
    let (certs, key) = load_key_pair(tls)?;
    let provider = Arc::new(provider(tls)?);
    let versions = versions(tls)?;
    let verifier = client_verifier(tls, &provider)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("invalid TLS settings: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    cfg.ignore_client_order = tls.prefer_server_cipher_suites;
    cfg.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(cfg)
}

fn read(what: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("failed to read {what} ({path}): {e}"))
}

fn load_key_pair(
    tls: &TlsServerConfig,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let cert_pem = if tls.cert_file.is_empty() {
        tls.cert.as_bytes().to_vec()
    } else {
        read("cert_file", &tls.cert_file)?
    };
    let key_pem = if tls.key_file.is_empty() {
        tls.key.expose().as_bytes().to_vec()
    } else {
        read("key_file", &tls.key_file)?
    };
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("failed to load X509KeyPair: certificate: {e}"))?;
    if certs.is_empty() {
        return Err(
            "failed to load X509KeyPair: tls: failed to find any PEM data in certificate input"
                .to_owned(),
        );
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("failed to load X509KeyPair: key: {e}"))?;
    Ok((certs, key))
}

fn provider(tls: &TlsServerConfig) -> Result<CryptoProvider, String> {
    let mut p = ring::default_provider();
    if !tls.cipher_suites.is_empty() {
        let all = std::mem::take(&mut p.cipher_suites);
        // TLS 1.3 suites stay, as Go does not let them be configured.
        p.cipher_suites = all
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
            .copied()
            .collect();
        for wanted in &tls.cipher_suites {
            if let Some(s) = all
                .iter()
                .find(|s| s.suite().as_str() == Some(wanted.0.as_str()))
            {
                p.cipher_suites.push(*s);
            }
        }
        let has_tls12 = p
            .cipher_suites
            .iter()
            .any(|s| s.version() == &rustls::version::TLS12);
        if !has_tls12 && tls.max_version < TlsVersion::Tls13 {
            return Err(format!(
                "none of cipher_suites {:?} is available for TLS 1.2 (pharos supports only the ECDHE AEAD suites)",
                tls.cipher_suites.iter().map(|c| c.0.as_str()).collect::<Vec<_>>()
            ));
        }
    }
    if !tls.curve_preferences.is_empty() {
        p.kx_groups = tls
            .curve_preferences
            .iter()
            .filter_map(|c| match c {
                Curve::X25519 => Some(ring::kx_group::X25519),
                Curve::CurveP256 => Some(ring::kx_group::SECP256R1),
                Curve::CurveP384 => Some(ring::kx_group::SECP384R1),
                Curve::CurveP521 => None,
            })
            .collect();
        if p.kx_groups.is_empty() {
            return Err("none of curve_preferences is supported (CurveP521 is not)".to_owned());
        }
    }
    Ok(p)
}

fn versions(
    tls: &TlsServerConfig,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    if tls.max_version < TlsVersion::Tls12 {
        return Err(format!(
            "max_version {} is not supported: pharos serves only TLS 1.2 and 1.3",
            tls.max_version
        ));
    }
    let mut v = Vec::new();
    if tls.min_version <= TlsVersion::Tls12 {
        v.push(&rustls::version::TLS12);
    }
    if tls.max_version >= TlsVersion::Tls13 {
        v.push(&rustls::version::TLS13);
    }
    Ok(v)
}

fn client_roots(tls: &TlsServerConfig) -> Result<Option<RootCertStore>, String> {
    let pem = if !tls.client_ca_file.is_empty() {
        read("client_ca_file", &tls.client_ca_file)?
    } else if !tls.client_ca.is_empty() {
        tls.client_ca.as_bytes().to_vec()
    } else {
        return Ok(None);
    };
    let mut roots = RootCertStore::empty();
    // Like Go's AppendCertsFromPEM, unparsable blocks are skipped.
    for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
        let _ = roots.add(cert);
    }
    Ok(Some(roots))
}

fn client_verifier(
    tls: &TlsServerConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let auth = tls
        .client_auth()
        .ok_or_else(|| format!("invalid ClientAuth: {}", tls.client_auth_type))?;
    let roots = client_roots(tls)?;
    let algs = provider.signature_verification_algorithms;
    let inner: Arc<dyn ClientCertVerifier> = match auth {
        ClientAuth::NoClientCert => return Ok(WebPkiClientVerifier::no_client_auth()),
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
            Arc::new(AnyClientCert {
                mandatory: auth == ClientAuth::RequireAnyClientCert,
                algs,
            })
        }
        ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert => {
            let roots = roots.filter(|r| !r.is_empty()).ok_or_else(|| {
                format!(
                    "client_auth_type {} needs a client CA in client_ca_file or client_ca",
                    tls.client_auth_type
                )
            })?;
            let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let b = if auth == ClientAuth::VerifyClientCertIfGiven {
                b.allow_unauthenticated()
            } else {
                b
            };
            b.build()
                .map_err(|e| format!("cannot use the client CA: {e}"))?
        }
    };
    Ok(match &tls.client_allowed_sans {
        Some(sans) => Arc::new(crate::sans::AllowedSans::new(inner, sans.clone())),
        None => inner,
    })
}

/// Asks for a client certificate and checks only that the client holds its
/// key, as Go's `RequestClientCert` and `RequireAnyClientCert`.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::web::CipherSuite;

    fn tls() -> TlsServerConfig {
        TlsServerConfig::default()
    }

    #[test]
    fn versions_map_onto_rustls() {
        let names = |t: &TlsServerConfig| {
            versions(t).map(|v| {
                v.iter()
                    .map(|v| format!("{:?}", v.version))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(names(&tls()).unwrap(), ["TLSv1_2", "TLSv1_3"]);
        let t = TlsServerConfig {
            min_version: TlsVersion::Tls10,
            max_version: TlsVersion::Tls12,
            ..tls()
        };
        assert_eq!(names(&t).unwrap(), ["TLSv1_2"]);
        let t = TlsServerConfig {
            min_version: TlsVersion::Tls13,
            ..tls()
        };
        assert_eq!(names(&t).unwrap(), ["TLSv1_3"]);
        let t = TlsServerConfig {
            min_version: TlsVersion::Tls10,
            max_version: TlsVersion::Tls11,
            ..tls()
        };
        assert!(names(&t).unwrap_err().contains("TLS11 is not supported"));
    }

    #[test]
    fn cipher_suites_restrict_tls12_in_the_given_order() {
        let t = TlsServerConfig {
            cipher_suites: vec![
                CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()),
                CipherSuite("TLS_RSA_WITH_AES_128_CBC_SHA".into()),
                CipherSuite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
            ],
            ..tls()
        };
        let p = provider(&t).unwrap();
        let tls12: Vec<_> = p
            .cipher_suites
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS12)
            .filter_map(|s| s.suite().as_str())
            .collect();
        assert_eq!(
            tls12,
            [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        assert_eq!(
            p.cipher_suites
                .iter()
                .filter(|s| s.version() == &rustls::version::TLS13)
                .count(),
            3
        );
    }

    #[test]
    fn curves_map_onto_key_exchange_groups() {
        let t = TlsServerConfig {
            curve_preferences: vec![Curve::CurveP521, Curve::CurveP384, Curve::X25519],
            ..tls()
        };
        let groups: Vec<_> = provider(&t)
            .unwrap()
            .kx_groups
            .iter()
            .map(|g| g.name())
            .collect();
        assert_eq!(
            groups,
            [rustls::NamedGroup::secp384r1, rustls::NamedGroup::X25519]
        );
        let t = TlsServerConfig {
            curve_preferences: vec![Curve::CurveP521],
            ..tls()
        };
        assert!(provider(&t).is_err());
    }

    #[test]
    fn key_pair_errors_name_the_file() {
        let t = TlsServerConfig {
            cert_file: "/nonexistent/s.crt".into(),
            key_file: "/nonexistent/s.key".into(),
            ..tls()
        };
        let e = server_config(&t, true).unwrap_err();
        assert!(
            e.starts_with("failed to read cert_file (/nonexistent/s.crt): "),
            "{e}"
        );
        let t = TlsServerConfig {
            cert: "not pem".into(),
            key: config::Secret::new("x"),
            ..tls()
        };
        let e = server_config(&t, true).unwrap_err();
        assert!(e.contains("failed to find any PEM data"), "{e}");
    }
}

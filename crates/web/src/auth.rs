//! Basic authentication against `basic_auth_users`, as exporter-toolkit
//! does it: bcrypt results are cached per (user, hash, password) so that a
//! scraper sending the same credentials every few seconds pays bcrypt once;
//! an unknown user is checked against a fixed hash so that timing does not
//! tell which users exist; bcrypt runs one at a time, as it is made to be
//! slow and would otherwise let a burst of bad requests take every core.

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use parking_lot::Mutex;

/// How many results the cache keeps before it drops a tenth of them.
const CACHE_SIZE: usize = 100;

/// The bcrypt hash of "fakepassword", used for unknown users.
const FAKE_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// The checker with its cache.
#[derive(Default)]
pub(crate) struct BasicAuth {
    cache: Mutex<HashMap<(String, String, String), bool>>,
    bcrypt: tokio::sync::Mutex<()>,
}

/// The user and password of an `Authorization: Basic` header, as Go's
/// `Request.BasicAuth` reads it.
pub(crate) fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.as_bytes();
    if v.len() < 6 || !v[..6].eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&v[6..])
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

impl BasicAuth {
    /// Whether the request's credentials match one of `users`.
    pub(crate) async fn check(
        &self,
        users: &std::collections::BTreeMap<String, config::Secret>,
        headers: &HeaderMap,
    ) -> bool {
        let Some((user, pass)) = credentials(headers) else {
            return false;
        };
        let known = users.get(&user);
        let hash = known.map_or(FAKE_HASH, |h| h.expose()).to_owned();
        let key = (user, hash, pass);
        if let Some(&ok) = self.cache.lock().get(&key) {
            return ok && known.is_some();
        }
        let ok = {
            let _one_at_a_time = self.bcrypt.lock().await;
            // A request with the same credentials may have finished bcrypt
            // while this one waited.
            if let Some(&ok) = self.cache.lock().get(&key) {
                return ok && known.is_some();
            }
            let (p, h) = (key.2.clone(), key.1.clone());
            tokio::task::spawn_blocking(move || bcrypt::verify(p, &h).unwrap_or(false))
                .await
                .unwrap_or(false)
        } && known.is_some();
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_SIZE {
            // HashMap's iteration order is randomised per map, so the first
            // keys are an unbiased pick.
            let drop: Vec<_> = cache.keys().take(CACHE_SIZE / 10 + 1).cloned().collect();
            for k in drop {
                cache.remove(&k);
            }
        }
        cache.insert(key, ok);
        ok
    }

    /// How many results are cached (for tests).
    #[cfg(test)]
    pub(crate) fn cached(&self) -> usize {
        self.cache.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn reads_credentials_like_go() {
        // "alice:pa:ss" — the password may contain colons.
        let enc = base64::engine::general_purpose::STANDARD.encode("alice:pa:ss");
        assert_eq!(
            credentials(&basic(&format!("bAsIc {enc}"))),
            Some(("alice".into(), "pa:ss".into()))
        );
        assert_eq!(credentials(&basic("Bearer x")), None);
        assert_eq!(credentials(&basic("Basic !!!")), None);
        let enc = base64::engine::general_purpose::STANDARD.encode("nocolon");
        assert_eq!(credentials(&basic(&format!("Basic {enc}"))), None);
    }

    #[tokio::test]
    async fn caches_results_and_refuses_unknown_users() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let users = [("alice".to_owned(), config::Secret::new(hash))].into();
        let auth = BasicAuth::default();
        let with = |u: &str, p: &str| {
            basic(&format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ))
        };
        assert!(auth.check(&users, &with("alice", "secret")).await);
        assert!(auth.check(&users, &with("alice", "secret")).await);
        assert!(!auth.check(&users, &with("alice", "wrong")).await);
        // The fake hash's own password does not let an unknown user in.
        assert!(!auth.check(&users, &with("bob", "fakepassword")).await);
        assert_eq!(auth.cached(), 3);
        for i in 0..150 {
            auth.check(&users, &with("alice", &i.to_string())).await;
        }
        assert!(auth.cached() <= CACHE_SIZE);
    }
}

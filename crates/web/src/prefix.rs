//! `--web.route-prefix`: every route is served under a path prefix (by
//! default the path of `--web.external-url`), as Prometheus does.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Uri};
use axum::Router;
use tower::ServiceExt as _;

/// A route prefix, normalised as Prometheus does: `/` plus the prefix
/// without leading or trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePrefix(String);

impl RoutePrefix {
    /// Normalises a `--web.route-prefix` value; empty means `/`.
    pub fn new(prefix: &str) -> Self {
        RoutePrefix(format!("/{}", prefix.trim_matches('/')))
    }

    /// The normalised prefix, `/` or `/a/b`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Serves `app` under the prefix: `/<prefix>/x` reaches `app` as `/x`,
    /// `GET /` redirects (302) to the prefix, the prefix alone redirects
    /// (301) to the prefix with a slash, and everything else is 404.
    pub fn apply(&self, app: Router) -> Router {
        if self.0 == "/" {
            return app;
        }
        let prefix = self.0.clone();
        Router::new().fallback_service(tower::service_fn(move |req: Request<Body>| {
            let prefix = prefix.clone();
            let app = app.clone();
            async move { Ok::<_, Infallible>(route(&prefix, app, req).await) }
        }))
    }
}

fn redirect(status: StatusCode, to: &str) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn route(prefix: &str, app: Router, mut req: Request<Body>) -> Response<Body> {
    let path = req.uri().path();
    if path == "/" {
        return redirect(StatusCode::FOUND, prefix);
    }
    if path == prefix {
        return redirect(StatusCode::MOVED_PERMANENTLY, &format!("{prefix}/"));
    }
    let Some(rest) = path.strip_prefix(prefix).filter(|r| r.starts_with('/')) else {
        return crate::server::text_error_with(StatusCode::NOT_FOUND, "404 page not found");
    };
    let rest = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = rest.parse().ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
    match app.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

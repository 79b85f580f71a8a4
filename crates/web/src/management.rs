//! Prometheus's management endpoints: `/-/healthy`, `/-/ready`, and the
//! lifecycle endpoints `/-/reload` and `/-/quit`, which answer 403 unless
//! `--web.enable-lifecycle` is given.
//!
//! The texts are Prometheus's own, "Prometheus Server is Healthy." included:
//! health checkers and scripts grep for them, and a drop-in replacement
//! must not make them fail.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{mpsc, oneshot, watch};

/// The name Prometheus puts in its health and readiness texts.
const APP_NAME: &str = "Prometheus Server";

const NOT_READY: u8 = 0;
const READY: u8 = 1;
const STOPPING: u8 = 2;

/// Whether the server is ready for queries: not ready until the WAL is
/// replayed, then ready, then stopping at shutdown.
#[derive(Clone, Debug)]
pub struct Readiness(Arc<AtomicU8>);

impl Default for Readiness {
    fn default() -> Self {
        Readiness(Arc::new(AtomicU8::new(NOT_READY)))
    }
}

impl Readiness {
    /// A new, not ready, state.
    pub fn new() -> Self {
        Readiness::default()
    }

    /// Marks the server ready.
    pub fn set_ready(&self) {
        self.0.store(READY, Ordering::Release);
    }

    /// Marks the server as shutting down (no longer ready).
    pub fn set_stopping(&self) {
        self.0.store(STOPPING, Ordering::Release);
    }

    /// Whether the server is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire) == READY
    }

    /// Middleware for routes that need a ready server (queries,
    /// federation): 503 `Service Unavailable` otherwise, as Prometheus.
    /// Use with `axum::middleware::from_fn_with_state(readiness, Readiness::guard)`.
    pub async fn guard(State(readiness): State<Readiness>, req: Request, next: Next) -> Response {
        match readiness.0.load(Ordering::Acquire) {
            READY => next.run(req).await,
            state => {
                let mut r =
                    (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
                let stopping = if state == STOPPING { "true" } else { "false" };
                r.headers_mut()
                    .insert("X-Prometheus-Stopping", HeaderValue::from_static(stopping));
                r
            }
        }
    }
}

/// A reload asked for over HTTP; the server reloads and answers with
/// [`ReloadRequest::finish`], and the HTTP answer waits for it.
#[derive(Debug)]
pub struct ReloadRequest {
    done: oneshot::Sender<Result<(), String>>,
}

impl ReloadRequest {
    /// Reports how the reload went; an error is answered 500 with its text.
    pub fn finish(self, result: Result<(), String>) {
        let _ = self.done.send(result);
    }
}

/// What the lifecycle endpoints ask of the server.
#[derive(Debug)]
pub struct LifecycleEvents {
    /// Reload requests, one per `POST /-/reload`.
    pub reloads: mpsc::Receiver<ReloadRequest>,
    /// Becomes true at the first `POST /-/quit`.
    pub quit: watch::Receiver<bool>,
}

/// State of the management endpoints.
#[derive(Clone, Debug)]
pub struct ManagementState {
    readiness: Readiness,
    lifecycle: bool,
    reloads: mpsc::Sender<ReloadRequest>,
    quit: Arc<watch::Sender<bool>>,
    quitting: Arc<AtomicBool>,
}

impl ManagementState {
    /// The state, and the events the server must handle. With
    /// `enable_lifecycle` false the events never come.
    pub fn new(readiness: Readiness, enable_lifecycle: bool) -> (Self, LifecycleEvents) {
        let (reload_tx, reload_rx) = mpsc::channel(1);
        let (quit_tx, quit_rx) = watch::channel(false);
        (
            ManagementState {
                readiness,
                lifecycle: enable_lifecycle,
                reloads: reload_tx,
                quit: Arc::new(quit_tx),
                quitting: Arc::new(AtomicBool::new(false)),
            },
            LifecycleEvents {
                reloads: reload_rx,
                quit: quit_rx,
            },
        )
    }
}

/// The management routes, to be merged into the server's router.
pub fn management_router(state: ManagementState) -> Router {
    let ready = axum::middleware::from_fn_with_state(state.readiness.clone(), Readiness::guard);
    // Go's router answers OPTIONS on every route with 200 and no body.
    let options = || async { StatusCode::OK };
    Router::new()
        // `get` answers HEAD too, with the headers and no body.
        .route(
            "/-/healthy",
            get(|| async { format!("{APP_NAME} is Healthy.\n") }).options(options),
        )
        .route(
            "/-/ready",
            get(|| async { format!("{APP_NAME} is Ready.\n") })
                .layer(ready)
                .options(options),
        )
        .route(
            "/-/reload",
            get(only_post_or_put)
                .post(reload)
                .put(reload)
                .options(options),
        )
        .route(
            "/-/quit",
            get(only_post_or_put).post(quit).put(quit).options(options),
        )
        // Prometheus's router answers other methods with Go's text.
        .method_not_allowed_fallback(|| async {
            crate::server::text_error(StatusCode::METHOD_NOT_ALLOWED)
        })
        .with_state(state)
}

async fn only_post_or_put() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "Only POST or PUT requests allowed",
    )
        .into_response()
}

fn lifecycle_disabled() -> Response {
    (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response()
}

async fn reload(State(s): State<ManagementState>) -> Response {
    if !s.lifecycle {
        return lifecycle_disabled();
    }
    let (tx, rx) = oneshot::channel();
    let result = match s.reloads.send(ReloadRequest { done: tx }).await {
        Ok(()) => rx
            .await
            .unwrap_or_else(|_| Err("reload was abandoned".to_owned())),
        Err(_) => Err("the server does not take reloads now".to_owned()),
    };
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => crate::server::text_error_with(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("failed to reload config: {e}"),
        ),
    }
}

async fn quit(State(s): State<ManagementState>) -> Response {
    if !s.lifecycle {
        return lifecycle_disabled();
    }
    if s.quitting.swap(true, Ordering::AcqRel) {
        return "Termination already in progress.".into_response();
    }
    let _ = s.quit.send(true);
    "Requesting termination... Goodbye!".into_response()
}

//! What a survey manager and an operator see of a running server (issue
//! 19): a `tracing` event per request (device, route, status, bytes, time),
//! per ingest (its counts) and per internal error; `/healthz`; and
//! `/metrics` in the Prometheus text format.
//!
//! Never logged or labelled: tokens, request paths as sent (a roster's or
//! a form's name only appears as the route's template), bodies, answers.
//! The subscriber (text or JSON lines) is the binary's choice
//! (`enumera central serve --log-format`); without one, events cost nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use super::reply::ApiError;
use super::routes::blocking;
use crate::IngestReport;

/// What the handlers learn about a request for its log line: the route's
/// template (set by [`note_route`]) and the token's device (set by the
/// `Device` extractor). Shared through the request's extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes(Arc<Mutex<NotesInner>>);

#[derive(Debug, Default)]
struct NotesInner {
    route: Option<String>,
    device: Option<String>,
}

impl Notes {
    pub fn set_device(&self, device: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).device = Some(device.to_string());
    }

    fn set_route(&self, route: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).route = Some(route.to_string());
    }

    fn take(&self) -> (String, String) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (
            inner.route.take().unwrap_or_else(|| "unmatched".into()),
            inner.device.take().unwrap_or_else(|| "-".into()),
        )
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's metrics, registered once.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    ingests: Family<OutcomeLabels, Counter>,
    new_responses: Counter,
    duplicates: Counter,
    conflicts: Counter,
    held_aside: Counter,
    idle_readers: Gauge,
    serialization_retries: Gauge,
}

impl Metrics {
    pub fn new(store_kind: &'static str) -> Self {
        let mut registry = Registry::with_prefix("enumera");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head, by route",
            latency.clone(),
        );
        let ingests = Family::<OutcomeLabels, Counter>::default();
        registry.register("ingests", "Bundle uploads applied (ok) or refused", ingests.clone());
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let new_responses =
            counter(&mut registry, "ingested_responses", "Responses newly held by ingests");
        let duplicates =
            counter(&mut registry, "ingested_duplicates", "Entries or responses already held");
        let conflicts = counter(&mut registry, "ingested_conflicts", "Conflicts kept for review");
        let held_aside =
            counter(&mut registry, "ingested_held_aside", "Responses held aside, not exported");
        let idle_readers = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle reader connections of this server's pool",
            idle_readers.clone(),
        );
        let serialization_retries = Gauge::default();
        registry.register(
            "db_serialization_retries",
            "Ingest transactions this process ran again after a serialization failure \
             (PostgreSQL; only grows)",
            serialization_retries.clone(),
        );
        let info: Gauge = Gauge::default();
        info.set(1);
        registry.register(
            format!("db_{store_kind}"),
            "The kind of central database this server uses",
            info,
        );
        Metrics {
            registry,
            requests,
            latency,
            ingests,
            new_responses,
            duplicates,
            conflicts,
            held_aside,
            idle_readers,
            serialization_retries,
        }
    }

    fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = RequestLabels { method: method.to_string(), route: route.to_string(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&RouteLabels { route: route.to_string() })
            .observe(took.as_secs_f64());
    }

    /// Counts and logs an ingest's outcome.
    pub fn ingested(&self, device: &str, report: &IngestReport) {
        self.ingests.get_or_create(&OutcomeLabels { outcome: "ok".into() }).inc();
        self.new_responses.inc_by(report.new_responses as u64);
        self.duplicates.inc_by(report.duplicates as u64);
        self.conflicts.inc_by(report.conflicts.len() as u64);
        self.held_aside.inc_by(report.held_aside.len() as u64);
        tracing::info!(
            target: "enumera::ingest",
            device,
            entries = report.entries,
            new_responses = report.new_responses,
            edits = report.edits,
            duplicates = report.duplicates,
            conflicts = report.conflicts.len(),
            held_aside = report.held_aside.len(),
            "ingest"
        );
    }

    /// Counts and logs a refused upload (its error code, never its body).
    pub fn refused(&self, device: &str, code: &str) {
        self.ingests.get_or_create(&OutcomeLabels { outcome: code.to_string() }).inc();
        tracing::warn!(target: "enumera::ingest", device, code, "upload refused");
    }

    fn encode(&self, idle_readers: usize) -> Result<String, std::fmt::Error> {
        self.idle_readers.set(i64::try_from(idle_readers).unwrap_or(i64::MAX));
        self.serialization_retries
            .set(i64::try_from(crate::serialization_retries()).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Outermost layer: times every request, 404s included, and logs it.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let bytes_in = content_length(request.headers());
    let notes = Notes::default();
    request.extensions_mut().insert(notes.clone());
    let response = next.run(request).await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    // The body's length when it is known before it is sent (every reply
    // of this server is); hyper writes Content-Length from it later.
    let bytes_out = hyper::body::Body::size_hint(response.body())
        .exact()
        .unwrap_or_else(|| content_length(response.headers()));
    let (route, device) = notes.take();
    state.metrics.request(&method, &route, status, took);
    tracing::info!(
        target: "enumera::http",
        method,
        route,
        status,
        device,
        bytes_in,
        bytes_out,
        ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Inner layer (matched routes only): the route's template for the log.
pub(crate) async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(path), Some(notes)) =
        (request.extensions().get::<MatchedPath>(), request.extensions().get::<Notes>())
    {
        notes.set_route(path.as_str());
    }
    next.run(request).await
}

fn content_length(headers: &axum::http::HeaderMap) -> u64 {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `GET /healthz`: 200 when the database answers, else 503. No token: a
/// load balancer asks it.
pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let kind = state.store_kind;
    let checked = blocking(move || state.readers.with(&state, |c| Ok(c.store().ping()?))).await;
    match checked {
        Ok(()) => axum::Json(serde_json::json!({"status": "ok", "database": kind})).into_response(),
        Err(e) => {
            tracing::error!(target: "enumera::health", database = kind, "database check failed");
            let mut response = e.into_response();
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

/// `GET /metrics`: the Prometheus text format.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let text = state
        .metrics
        .encode(state.readers.idle())
        .map_err(|e| ApiError::internal_logged(format!("encoding metrics: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        text,
    )
        .into_response())
}

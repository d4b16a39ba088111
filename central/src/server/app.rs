//! The web app under `/app/`: the enumerators' offline client and the
//! researchers' form preview (`web/`), embedded in the binary at build time
//! (`central/build.rs`), or read from a folder for development
//! (`enumera central serve --web-dir DIR`). No token: the app is public; its
//! data calls are the ordinary `/v1/` ones, each with the device's token.
//!
//! Every reply carries the security headers the app is built for: a
//! Content-Security-Policy that lets it load only itself (scripts, the
//! worker and the WebAssembly module from this origin, talk only to this
//! origin), cross-origin isolation (`COOP`/`COEP`: its storage does not
//! need it, but it gives the app precise timers and keeps a
//! SharedArrayBuffer-based store possible), `nosniff`, no referrer.
//! Hashed build files are cached for a year; the page, the service worker
//! and the manifest are revalidated on every load, so an update reaches the
//! enumerator at the next start with the network on.

use std::path::{Component, Path, PathBuf};

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// One file of the built app.
#[derive(Debug)]
pub(crate) struct Asset {
    /// Relative to `/app/`, with `/`.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// The same, gzip-compressed at build time.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Where the app's files come from.
#[derive(Debug, Clone, Default)]
pub(crate) enum WebApp {
    /// The files built into this binary (none: a page says how to build them).
    #[default]
    Embedded,
    /// A folder read at each request (development).
    Folder(PathBuf),
}

pub(crate) const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
    style-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// Served at `/app/` when this binary was built without the app.
const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Enumera: web app not built</title></head><body>\
<h1>The Enumera web app is not in this build</h1>\
<p>This <code>enumera</code> binary was built on a machine without the web app \
(it needs npm and the wasm32 Rust target). To include it, from the repository:</p>\
<pre>bash scripts/build-web.sh\ncargo build --release -p enumera-cli</pre>\
<p>or serve a built copy with <code>enumera central serve --web-dir web/dist/app</code>.</p>\
<p>Sync, publishing and export work without it.</p></body></html>\n";

/// Answers a request under `/app`; `path` is what follows `/app`.
pub(crate) async fn serve(
    web: &WebApp,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "the app is read with GET");
    }
    let rel = match path.strip_prefix('/') {
        Some(rel) => rel,
        // `/app` itself: the page lives at `/app/`, which its relative
        // links need.
        None => return Redirect::permanent("/app/").into_response(),
    };
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let gzip_ok = accepts_gzip(headers);
    match web {
        WebApp::Embedded => match ASSETS.iter().find(|a| a.path == rel) {
            Some(a) => match (a.gzip, gzip_ok) {
                (Some(gz), true) => file(rel, gz.to_vec(), true),
                _ => file(rel, a.bytes.to_vec(), false),
            },
            None if ASSETS.is_empty() && rel == "index.html" => {
                let mut r = file("index.html", NOT_BUILT.as_bytes().to_vec(), false);
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            None => not_found(),
        },
        WebApp::Folder(dir) => match safe_join(dir, rel) {
            Some(p) => match tokio::task::spawn_blocking(move || std::fs::read(p)).await {
                Ok(Ok(bytes)) => file(rel, bytes, false),
                _ => not_found(),
            },
            None => not_found(),
        },
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';').map(str::trim);
            parts.next() == Some("gzip") && parts.all(|p| p != "q=0" && p != "q=0.0")
        })
}

/// `dir/rel` when `rel` stays inside `dir` (no `..`, no absolute path).
fn safe_join(dir: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel);
    rel.components().all(|c| matches!(c, Component::Normal(_))).then(|| dir.join(rel))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Vite names what it builds `assets/NAME-HASH.EXT`: the name changes with
/// the content, so the file can be kept for good.
fn immutable(path: &str) -> bool {
    path.starts_with("assets/")
}

fn file(path: &str, bytes: Vec<u8>, gzipped: bool) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable(path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    security_headers(h);
    r
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-embedder-policy", HeaderValue::from_static("require-corp"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "no such file in the web app")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    security_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_paths_cannot_leave_the_folder() {
        let dir = Path::new("/srv/app");
        assert_eq!(safe_join(dir, "assets/a.js"), Some(PathBuf::from("/srv/app/assets/a.js")));
        assert_eq!(safe_join(dir, "../secret"), None);
        assert_eq!(safe_join(dir, "/etc/passwd"), None);
        assert_eq!(safe_join(dir, "a/../../b"), None);
    }

    #[test]
    fn gzip_is_used_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br, gzip, deflate"));
        assert!(accepts_gzip(&h));
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0, br"));
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn types_and_caching_follow_the_file() {
        assert_eq!(content_type("assets/enumera_wasm_bg-1a2b.wasm"), "application/wasm");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert!(immutable("assets/index-1a2b.js"));
        assert!(!immutable("sw.js") && !immutable("index.html"));
    }
}

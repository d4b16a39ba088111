//! enumera-wasm: the thin wasm-bindgen layer the web app (`web/`) uses. The
//! same surface as enumera-ffi (`bindings/`), in JavaScript's camelCase,
//! over enumera-core unchanged; behaviour lives in core.
//!
//! - [`DeviceStore`]: the device database, SQLite in the Origin Private File
//!   System (`opfs`), in the dedicated worker that owns it.
//! - [`Interview`]: one response being filled, committed at every change.
//! - [`SyncClient`]: core's sync protocol over the app's `fetch` (`replay`).
//! - [`Preview`], [`check_form`], [`run_steps`]: the researcher's preview,
//!   including the XLSForm reader the phones leave out.
//! - [`EnumeraError`]: the one error, thrown as a JavaScript `Error` with a
//!   `kind`.

mod attachments;
mod audit;
mod errors;
mod form_media;
mod forms;
mod interview;
mod opfs;
mod preview;
mod replay;
mod steps;
mod store;
mod supervision;
mod sync;
mod types;
mod view;

use wasm_bindgen::prelude::*;

pub use errors::{EnumeraError, Result};
pub use interview::Interview;
pub use preview::{Preview, check_form};
pub use store::DeviceStore;
pub use sync::{HttpTransport, SyncClient};

/// Runs a step script on a form file and returns the JSON document
/// `enumera form run FORM STEPS --now NOW` prints. `options`: `{now?: string,
/// lang?: string, seed?: number}`.
#[wasm_bindgen(js_name = runSteps)]
pub fn run_steps(
    form: Vec<u8>,
    file_name: String,
    #[wasm_bindgen(unchecked_param_type = "object[]")] steps: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{now?: string, lang?: string, seed?: number}")]
    options: JsValue,
) -> Result<JsValue> {
    let steps: Vec<serde_json::Value> = from_js(&steps, "steps")?;
    let options: steps::RunOptions = if options.is_undefined() || options.is_null() {
        Default::default()
    } else {
        from_js(&options, "options")?
    };
    let form = preview::compile(&form, &file_name)?;
    let doc = steps::run(form, &steps, &options)
        .map_err(|reason| EnumeraError::InvalidAnswer { reference: "options".into(), reason })?;
    types::to_js(&doc)
}

/// Reads a JavaScript value as JSON into `T`.
fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T> {
    let text =
        js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).ok_or_else(|| {
            EnumeraError::InvalidAnswer { reference: what.into(), reason: "not JSON".into() }
        })?;
    serde_json::from_str(&text)
        .map_err(|e| EnumeraError::InvalidAnswer { reference: what.into(), reason: e.to_string() })
}

/// This build's version (the workspace's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Panics end up on the console with their message, instead of a bare
/// "unreachable" trap.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(target_family = "wasm")]
    std::panic::set_hook(Box::new(|info| {
        web_log(&format!("enumera-wasm panicked: {info}"));
    }));
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn web_log(message: &str);
}

//! `uniffi-bindgen` pinned to the workspace's uniffi, for library-mode
//! generation (`scripts/bindings.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}

//! The Python the export tests read files back with: pandas, pyreadstat
//! and openpyxl in a venv under $ENUMERA_CACHE (default <repo>/.cache),
//! made and filled on first use.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Python with pandas, pyreadstat and openpyxl: a venv under
/// $ENUMERA_CACHE, made on first use. None (with a message) only without python3.
pub fn python() -> Option<PathBuf> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON.get_or_init(install_readers).clone()
}

fn install_readers() -> Option<PathBuf> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed; pandas and pyreadstat did not run");
        return None;
    }
    let cache = std::env::var_os("ENUMERA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache"));
    let venv = cache.join("venv-export");
    let python = venv.join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", "import pandas, pyreadstat, openpyxl"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && ready(&python) {
        return Some(python);
    }
    // Another test process may be making it too: make it under a unique name, then move.
    let _ = std::fs::create_dir_all(&cache);
    let tmp = cache.join(format!("venv-export.tmp{}", std::process::id()));
    let ok =
        Command::new("python3").args(["-m", "venv"]).arg(&tmp).status().is_ok_and(|s| s.success())
            && Command::new(tmp.join("bin/pip"))
                .args(["install", "--quiet", "pandas", "pyreadstat", "openpyxl"])
                .status()
                .is_ok_and(|s| s.success());
    assert!(
        ok,
        "could not install pandas, pyreadstat and openpyxl into {} (network?)",
        tmp.display()
    );
    if std::fs::rename(&tmp, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    assert!(ready(&python), "pandas or pyreadstat missing from {}", venv.display());
    Some(python)
}

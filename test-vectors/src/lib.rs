//! Finds the shared test vectors for tests (DESIGN.md "Tests and vectors").
//!
//! With `IOT_VECTORS` set (`.ci/run` sets it to the absolute path of `../shared/vectors`) a missing
//! file or folder fails the test. Without it, the vectors are looked for at `../shared/vectors` beside
//! the workspace; when they are not there (a user's fresh clone) the caller gets `None` and a line on
//! stderr saying what was skipped and why.
//!
//! This crate is for tests only: it panics on purpose, because a failed lookup under CI is a test failure.
#![allow(clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The vectors folder, or `None` (with a printed reason) when it is absent and `IOT_VECTORS` is unset.
pub fn dir(what: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("IOT_VECTORS") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "IOT_VECTORS={} is not a folder (needed for {what})",
            dir.display()
        );
        return Some(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    if beside.is_dir() {
        return Some(beside);
    }
    eprintln!(
        "skipped {what}: ../shared/vectors is not beside this checkout and IOT_VECTORS is not set"
    );
    None
}

/// The path of `rel` inside the vectors folder; panics when the folder exists but the file does not.
pub fn path(rel: &str) -> Option<PathBuf> {
    let p = dir(rel)?.join(rel);
    assert!(p.exists(), "test vector {} is missing", p.display());
    Some(p)
}

/// The bytes of vector file `rel`.
pub fn read(rel: &str) -> Option<Vec<u8>> {
    let p = path(rel)?;
    Some(std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display())))
}

/// Vector file `rel` parsed as JSON.
pub fn json(rel: &str) -> Option<serde_json::Value> {
    let bytes = read(rel)?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parsing {rel}: {e}")))
}

/// Every file below folder `rel` whose name ends with `ext`, sorted, as paths relative to the vectors folder.
pub fn files(rel: &str, ext: &str) -> Option<Vec<String>> {
    let root = dir(rel)?;
    let base = root.join(rel);
    assert!(base.is_dir(), "vector folder {} is missing", base.display());
    let mut out = Vec::new();
    let mut stack = vec![base];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable vector folder") {
            let p = entry.expect("folder entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                let rel = p
                    .strip_prefix(&root)
                    .expect("below root")
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    Some(out)
}

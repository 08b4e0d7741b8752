//! What the iot-tool test files share: running the binary as a user does, and the SUIT
//! descriptions' identifiers. Each test file is a crate of its own and uses part of this.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The SUIT vendor and class identifiers of the tests' update descriptions (UUIDs, RFC 9124).
pub const VENDOR: &str = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe";
pub const CLASS: &str = "1492af14-2569-5e48-bf42-9b2d51f2ab45";

/// Runs `iot-tool args…`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iot-tool"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs and expects success; stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "iot-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Expects failure, nothing on stdout and one line on stderr; returns that line.
pub fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "iot-tool {args:?} succeeded");
    assert!(
        out.stdout.is_empty(),
        "printed on failure: {:?}",
        out.stdout
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    err.trim_end().to_owned()
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `iot-tool keygen` into `dir`: a P-256 key pair as `NAME.pem` (PKCS#8) and `NAME.pub.pem`.
pub fn keygen(dir: &Path, name: &str) {
    let (private, public) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.pub.pem")),
    );
    ok(&["keygen", "--out", s(&private), "--pub", s(&public)]);
}

/// The arguments of `iot-tool suit create --key KEY DESCRIPTION -o OUT`.
pub fn suit_create<'a>(key: &'a Path, description: &'a Path, out: &'a Path) -> [&'a str; 7] {
    [
        "suit",
        "create",
        "--key",
        s(key),
        s(description),
        "-o",
        s(out),
    ]
}

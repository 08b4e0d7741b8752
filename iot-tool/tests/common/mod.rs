//! What the iot-tool test files share: running the binary as a user does (in the current
//! folder, or in a temporary [`Dir`]), and the SUIT descriptions' identifiers. Each test file is a crate of its own and uses part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
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

/// A temporary folder the tool runs in: files are named relative to it.
pub struct Dir(tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes file `name`; returns its name, for the tool's arguments.
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        std::fs::write(self.path(name), data).unwrap();
        name.to_owned()
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// Runs `iot-tool args…` in the folder.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_iot-tool"))
            .args(args)
            .current_dir(self.0.path())
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "iot-tool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs, expects success and JSON on stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Runs and expects failure: nothing on stdout, one line on stderr starting with
    /// "iot-tool: "; returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "iot-tool {args:?} succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
        assert!(err.starts_with("iot-tool: "), "{err}");
        assert!(out.stdout.is_empty(), "a failure printed on stdout");
        err.trim_end().to_owned()
    }

    /// `iot-tool keygen` in the folder: the names of `STEM.pem` and `STEM.pub.pem`.
    pub fn keygen(&self, stem: &str) -> (String, String) {
        keygen(self.0.path(), stem);
        (format!("{stem}.pem"), format!("{stem}.pub.pem"))
    }
}

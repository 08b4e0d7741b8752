//! Finds the shared test vectors for tests, and the live peers they cross-check with ([`peer`]),
//! as DESIGN.md "Tests and vectors" prescribes; and holds the fixtures several crates' tests
//! build alike ([`cnf_claims`]).
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

/// Live peers for cross-checks (DESIGN.md "Tests and vectors"): a program named by an environment
/// variable that `.ci/run` sets; unset, the caller gets `None` and a line on stderr saying what was
/// skipped and why.
pub mod peer {
    use std::ffi::OsStr;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};

    /// The program named by `var`, or `None` (printing that `what` skipped, and `hint`) when unset.
    pub fn from_env(var: &str, what: &str, hint: &str) -> Option<PathBuf> {
        let found = std::env::var_os(var).map(PathBuf::from);
        if found.is_none() {
            eprintln!("skipped {what}: {var} is not set ({hint})");
        }
        found
    }

    /// The Python of `IOT_PYTHON` (with the peers' packages: `.ci/python-attest.sh` makes it).
    pub fn python(what: &str) -> Option<PathBuf> {
        from_env(
            "IOT_PYTHON",
            what,
            "run .ci/python-attest.sh, then set IOT_PYTHON=$PWD/.venv/bin/python",
        )
    }

    /// The openssl binary of `IOT_OPENSSL`.
    pub fn openssl(what: &str) -> Option<PathBuf> {
        from_env("IOT_OPENSSL", what, "path of an openssl binary")
    }

    /// Runs `bin args…` to its end; panics when it cannot be started.
    pub fn run<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Output {
        Command::new(bin)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{} does not run: {e}", bin.display()))
    }

    /// A finished peer's stdout then stderr, as text (for messages and matching).
    pub fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// A Python peer script run once a command: `python script COMMAND`, a JSON object on stdin,
    /// the JSON answer on stdout, the reason for a refusal on stderr.
    pub struct PythonScript {
        python: PathBuf,
        script: PathBuf,
    }

    impl PythonScript {
        /// `script` under the Python of `IOT_PYTHON`, or `None` (printing why `what` skipped).
        pub fn from_env(what: &str, script: impl Into<PathBuf>) -> Option<Self> {
            Some(Self {
                python: python(what)?,
                script: script.into(),
            })
        }

        /// Runs `cmd` with `args`: the JSON the script prints, or the reason it gave for failing.
        pub fn call(
            &self,
            cmd: &str,
            args: &serde_json::Value,
        ) -> Result<serde_json::Value, String> {
            let mut child = Command::new(&self.python)
                .arg(&self.script)
                .arg(cmd)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("IOT_PYTHON={} does not run: {e}", self.python.display())
                });
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(args.to_string().as_bytes())
                .expect("writing the peer's input");
            let out = child.wait_with_output().expect("the peer's output");
            if out.status.success() {
                Ok(serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{cmd} printed no JSON: {e}")))
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
            }
        }
    }
}

/// A CWT claims set (RFC 8392) that confirms the P-256 public key (`x`, `y`, 32 bytes each) in
/// `cnf` (RFC 8747), as a `suit-delegation` CWT carries it, with an `exp` claim when given:
/// `{? 4: exp, 8: {1: {1: 2, -1: 1, -2: x, -3: y}}}`, hand-encoded so that every crate's tests
/// sign the same bytes.
pub fn cnf_claims(x: &[u8], y: &[u8], exp: Option<u32>) -> Vec<u8> {
    assert!(x.len() == 32 && y.len() == 32, "P-256 coordinates");
    let mut out = match exp {
        None => vec![0xa1],
        Some(t) => [&[0xa2, 0x04, 0x1a][..], &t.to_be_bytes()].concat(),
    };
    out.extend([
        0x08, 0xa1, 0x01, 0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20,
    ]);
    out.extend(x);
    out.extend([0x22, 0x58, 0x20]);
    out.extend(y);
    out
}

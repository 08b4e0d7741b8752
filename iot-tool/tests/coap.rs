//! `iot-tool oscore derive` and `iot-tool coap ...`, run as a user runs them, on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const SECRET_JSON: &str =
    r#"{"secret_hex": "0102030405060708090a0b0c0d0e0f10", "salt_hex": "9e7ca92223786340"}"#;

fn tool() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iot-tool"))
}

fn run(args: &[&str]) -> Output {
    tool().args(args).output().unwrap()
}

/// Runs and expects success; returns stdout.
fn ok(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(
        out.status.success(),
        "iot-tool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs and expects failure with one line on stderr; returns it.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "iot-tool {args:?} succeeded");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    err.trim_end().to_owned()
}

/// A context folder in aiocoap's layout (RFC 8613 C.1 / C.3 parameters).
fn folder(dir: &Path, name: &str, sender: &str, recipient: &str, extra: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("settings.json"),
        format!(r#"{{"sender-id_hex": "{sender}", "recipient-id_hex": "{recipient}"{extra}}}"#),
    )
    .unwrap();
    std::fs::write(d.join("secret.json"), SECRET_JSON).unwrap();
    d
}

#[test]
fn oscore_derive_prints_the_rfc8613_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let c1 = folder(tmp.path(), "c1", "", "01", "");
    let text =
        String::from_utf8(ok(&["oscore", "derive", "--context", c1.to_str().unwrap()])).unwrap();
    assert!(
        text.contains("sender key    f0910ed7295e6ad4b54fc793154302ff\n"),
        "{text}"
    );
    assert!(
        text.contains("recipient key ffb14e093c94c9cac9471648b4f98710\n"),
        "{text}"
    );
    assert!(
        text.contains("common IV     4622d4dd6d944168eefb54987c\n"),
        "{text}"
    );
    assert!(
        text.contains("algorithm     AES-CCM-16-64-128 (10)"),
        "{text}"
    );
    // C.3.1: with an ID Context.
    let c3 = folder(
        tmp.path(),
        "c3",
        "",
        "01",
        r#", "id-context_hex": "37cbf3210017a2d3""#,
    );
    let text =
        String::from_utf8(ok(&["oscore", "derive", "--context", c3.to_str().unwrap()])).unwrap();
    assert!(
        text.contains("sender key    af2a1300a5e95788b356336eeecd2b92\n"),
        "{text}"
    );
    assert!(
        text.contains("recipient key e39a0c7c77b43f03b4b39ab9a268699f\n"),
        "{text}"
    );
    assert!(
        text.contains("common IV     2ca58fb85ff1b81c0b7181b85e\n"),
        "{text}"
    );
    // Algorithm 24: 32-byte keys, 12-byte IV.
    let cc = folder(
        tmp.path(),
        "cc",
        "",
        "01",
        r#", "algorithm": "ChaCha20/Poly1305""#,
    );
    let text =
        String::from_utf8(ok(&["oscore", "derive", "--context", cc.to_str().unwrap()])).unwrap();
    let key = text.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert_eq!(key.len(), 64, "{text}");
    // derive reads only: no lock, no sequence.json.
    assert!(!c1.join("sequence.json").exists());
    let e = fails(&[
        "oscore",
        "derive",
        "--context",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(e.contains("neither settings.json nor secret.json"), "{e}");
}

/// `iot-tool coap serve` as a child process, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(root: &Path, oscore: &[&Path]) -> Self {
        let mut cmd = tool();
        cmd.args([
            "coap",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--for",
            "60",
            "--root",
        ])
        .arg(root);
        for o in oscore {
            cmd.arg("--oscore").arg(o);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("coap://")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        Self { child, addr }
    }

    fn uri(&self, path: &str) -> String {
        format!("coap://{}/{path}", self.addr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn coap_get_put_delete_against_coap_serve_with_oscore() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("hello.txt"), b"Hello World!").unwrap();
    let big: Vec<u8> = (0..4000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(tmp.path().join("big.bin"), &big).unwrap();
    let server_ctx = folder(tmp.path(), "server", "01", "", "");
    let client_ctx = folder(tmp.path(), "client", "", "01", "");
    let cctx = client_ctx.to_str().unwrap();
    let s = Serve::start(&root, &[&server_ctx]);

    let got = ok(&["coap", "get", &s.uri("hello.txt"), "--oscore", cctx]);
    assert_eq!(got, b"Hello World!");
    // PUT from text and from a file (4000 bytes: Block1), GET into a file (Block2).
    ok(&[
        "coap",
        "put",
        &s.uri("note.txt"),
        "--oscore",
        cctx,
        "--payload",
        "from the tool",
    ]);
    assert_eq!(
        std::fs::read(root.join("note.txt")).unwrap(),
        b"from the tool"
    );
    let big_path = tmp.path().join("big.bin");
    ok(&[
        "coap",
        "put",
        &s.uri("big.bin"),
        "--oscore",
        cctx,
        "--payload-file",
        big_path.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(root.join("big.bin")).unwrap(), big);
    let out = tmp.path().join("back.bin");
    let printed = ok(&[
        "coap",
        "get",
        &s.uri("big.bin"),
        "--oscore",
        cctx,
        "--non",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(printed.is_empty());
    assert_eq!(std::fs::read(&out).unwrap(), big);

    // Codes from 4.00 up: a non-zero exit and the reason.
    let e = fails(&["coap", "get", &s.uri("missing"), "--oscore", cctx]);
    assert!(e.ends_with("4.04 Not Found: Not Found"), "{e}");
    let e = fails(&["coap", "delete", &s.uri("hello.txt"), "--oscore", cctx]);
    assert!(e.contains("4.05 Method Not Allowed"), "{e}");
    let e = fails(&["coap", "get", &s.uri("hello.txt")]);
    assert!(e.ends_with("4.01 Unauthorized: OSCORE required"), "{e}");
    // A protection error: the wrong key, refused by the server.
    let wrong = folder(tmp.path(), "wrong", "", "01", "");
    std::fs::write(wrong.join("secret.json"), r#"{"secret_hex": "00"}"#).unwrap();
    // (Its sequence numbers are fresh ones: a number the server saw would be a replay.)
    std::fs::write(
        wrong.join("sequence.json"),
        r#"{"next-to-send": 100, "received": "unknown"}"#,
    )
    .unwrap();
    let e = fails(&[
        "coap",
        "get",
        &s.uri("hello.txt"),
        "--oscore",
        wrong.to_str().unwrap(),
    ]);
    assert!(
        e.ends_with("unprotected 4.00 Bad Request response: Decryption failed"),
        "{e}"
    );

    // The client's sequence numbers were kept up to date: every request above used one
    // (1 + 1 + 4 Block1 + 4 Block2 + 1 + 1).
    let seq: serde_json::Value =
        serde_json::from_slice(&std::fs::read(client_ctx.join("sequence.json")).unwrap()).unwrap();
    assert_eq!(seq["next-to-send"], 12, "{seq}");
    assert!(
        seq["received"].is_object(),
        "a clean close saves the window: {seq}"
    );
}

#[test]
fn coap_without_oscore_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("t"), b"21.5").unwrap();
    let s = Serve::start(&root, &[]);
    assert_eq!(ok(&["coap", "get", &s.uri("t")]), b"21.5");
    let e = fails(&["coap", "post", &s.uri("t"), "--payload", "x"]);
    assert!(
        e.ends_with("4.05 Method Not Allowed: GET and PUT only"),
        "{e}"
    );
    let client_ctx = folder(tmp.path(), "client", "", "01", "");
    let e = fails(&[
        "coap",
        "get",
        &s.uri("t"),
        "--oscore",
        client_ctx.to_str().unwrap(),
    ]);
    assert!(e.contains("unprotected 4.02 Bad Option"), "{e}");

    // Nobody listening: retransmissions run out.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("coap://127.0.0.1:{port}/x");
    let start = std::time::Instant::now();
    let e = fails(&[
        "coap",
        "get",
        &uri,
        "--ack-timeout",
        "20",
        "--max-retransmit",
        "2",
    ]);
    assert!(e.ends_with("no response (timed out)"), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));

    for (uri, needle) in [
        ("coaps://127.0.0.1/x", "only the coap scheme"),
        ("127.0.0.1/x", "not an absolute URI"),
    ] {
        let e = fails(&["coap", "get", uri]);
        assert!(e.contains(needle), "{e}");
    }
    let e = fails(&[
        "coap",
        "put",
        &s.uri("t"),
        "--payload",
        "a",
        "--payload-file",
        "f",
    ]);
    assert!(e.contains("cannot be used with"), "{e}");
}

#[test]
fn demo_chapter_oscore_refuses_the_replay_quickly() {
    let out = String::from_utf8(ok(&["demo", "--chapter", "oscore"])).unwrap();
    for line in [
        "\u{2713} the device's Sender Key is the gateway's Recipient Key",
        "\u{2713} reading 3 (sequence number 2): the gateway verified it and answered a protected 2.04",
        "\u{2717} replayed reading: refused (4.01 Replay detected",
        "\u{2713} the gateway stored 3 readings, not 4",
        "flash 1 time(s) for 3 messages",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let ms: u64 = out
        .rsplit("in ")
        .next()
        .and_then(|t| t.trim().strip_suffix("ms."))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("no time in {out}"));
    assert!(ms < 1000, "the chapter took {ms} ms");
}

#[test]
fn coap_get_observe_follows_puts_with_oscore() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("t"), b"t=1").unwrap();
    // Two clients: the observer's folder is locked while it runs, the writer has its own.
    let observer = folder(tmp.path(), "observer", "", "01", "");
    let writer = folder(tmp.path(), "writer", "02", "03", "");
    let s1 = folder(tmp.path(), "s1", "01", "", "");
    let s2 = folder(tmp.path(), "s2", "03", "02", "");
    let s = Serve::start(&root, &[&s1, &s2]);
    let mut watch = tool()
        .args([
            "coap",
            "get",
            &s.uri("t"),
            "--observe",
            "--count",
            "2",
            "--oscore",
        ])
        .arg(&observer)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "t=1");
    for v in ["t=2", "t=3"] {
        let w = writer.to_str().unwrap();
        ok(&["coap", "put", &s.uri("t"), "--payload", v, "--oscore", w]);
        assert_eq!(lines.next().unwrap().unwrap(), v);
    }
    // After two notifications it cancels and exits.
    let out = watch.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lines.next().is_none());

    let e = fails(&["coap", "put", &s.uri("t"), "--observe", "--payload", "x"]);
    assert!(e.contains("--observe is for GET only"), "{e}");
}

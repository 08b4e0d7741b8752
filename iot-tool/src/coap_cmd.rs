//! `iot-tool oscore derive` and `iot-tool coap get|post|put|delete|serve`: CoAP over UDP
//! (RFC 7252) with optional OSCORE (RFC 8613), through iot-oscore's `udp` and `context_dir`.

use crate::fail::{Context, Failure, Result, bail};
use crate::io;
use crate::say;
use clap::{Args, Subcommand};
use iot_core::crypto::{Aead, Rng, RustCrypto};
use iot_oscore::coap::Code;
use iot_oscore::context_dir::{ContextDir, FolderParams, algorithm_name};
use iot_oscore::udp::{
    Client, CoapUri, FileHandler, Observing, Request, Response, Server, ServerConfig,
    TransmissionParams, code_name,
};
use iot_oscore::{DerivedKeys, SequenceNumberStore};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// OSCORE security contexts (RFC 8613).
#[derive(Debug, Subcommand)]
pub enum OscoreCmd {
    /// Derive a context folder's keys (section 3.2): prints sender key, recipient key and
    /// common IV in hex.
    Derive {
        /// The folder (aiocoap's layout: settings.json, secret.json).
        #[arg(long)]
        context: PathBuf,
    },
}

/// CoAP over UDP (RFC 7252), optionally protected with OSCORE.
#[derive(Debug, Subcommand)]
pub enum CoapCmd {
    /// GET a resource and print its payload.
    Get(ClientArgs),
    /// POST to a resource.
    Post(ClientArgs),
    /// PUT a resource.
    Put(ClientArgs),
    /// DELETE a resource.
    Delete(ClientArgs),
    /// Serve the files under a folder (GET, PUT) until stopped.
    Serve(ServeArgs),
}

/// A request.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The resource, `coap://host[:port]/path[?query]`.
    uri: String,
    /// Protect the request with this OSCORE context folder (aiocoap's layout).
    #[arg(long)]
    oscore: Option<PathBuf>,
    /// The request payload, as text.
    #[arg(long, conflicts_with = "payload_file")]
    payload: Option<String>,
    /// The request payload, from a file (`-` for stdin).
    #[arg(long)]
    payload_file: Option<PathBuf>,
    /// Write the response payload here instead of stdout.
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Send a non-confirmable request.
    #[arg(long)]
    non: bool,
    /// ACK_TIMEOUT in milliseconds (RFC 7252 section 4.8).
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    ack_timeout: u64,
    /// MAX_RETRANSMIT (RFC 7252 section 4.8).
    #[arg(long, default_value_t = 4, value_name = "N")]
    max_retransmit: u32,
    /// Observe the resource (RFC 7641; GET only): print the response and each notification,
    /// one a line (with -o, each replaces OUT), until the server ends the observation.
    #[arg(long)]
    observe: bool,
    /// With --observe: cancel the observation (Observe 1) after this many notifications.
    #[arg(long, requires = "observe", value_name = "N")]
    count: Option<u64>,
}

/// `coap serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on, `host:port` (`127.0.0.1:5683`, `[::1]:0`).
    #[arg(long)]
    bind: SocketAddr,
    /// The folder whose files are served.
    #[arg(long)]
    root: PathBuf,
    /// Require OSCORE with this context folder (repeat for several clients); unprotected
    /// requests get 4.01.
    #[arg(long)]
    oscore: Vec<PathBuf>,
    /// Refuse PUT.
    #[arg(long)]
    read_only: bool,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long = "for", value_name = "SECONDS")]
    duration: Option<u64>,
}

/// `oscore ...`.
pub fn run_oscore(cmd: OscoreCmd) -> Result<()> {
    match cmd {
        OscoreCmd::Derive { context } => {
            let params = FolderParams::read(&context).map_err(|e| Failure::new(e.to_string()))?;
            let mut crypto = RustCrypto::<()>::default();
            let keys = DerivedKeys::derive(&mut crypto, &params.context_params())
                .map_err(|e| Failure::new(e.to_string()))?;
            let ctx = params
                .derive(&mut crypto)
                .map_err(|e| Failure::new(e.to_string()))?;
            say(&format!("sender key    {}", hex::encode(keys.sender_key())))?;
            say(&format!(
                "recipient key {}",
                hex::encode(keys.recipient_key())
            ))?;
            say(&format!("common IV     {}", hex::encode(keys.common_iv())))?;
            let alg = ctx.alg();
            say(&format!(
                "algorithm     {} ({})",
                algorithm_name(alg).unwrap_or("?"),
                alg.algorithm().id()
            ))?;
            say(&format!("sender ID     {}", io::show_id(ctx.sender_id())))?;
            say(&format!(
                "recipient ID  {}",
                io::show_id(ctx.recipient_id())
            ))?;
            if let Some(c) = ctx.id_context() {
                say(&format!("ID context    {}", io::show_id(c)))?;
            }
            Ok(())
        }
    }
}

/// `coap ...`.
pub fn run_coap(cmd: CoapCmd) -> Result<()> {
    let (method, args) = match cmd {
        CoapCmd::Get(a) => (Code::GET, a),
        CoapCmd::Post(a) => (Code::POST, a),
        CoapCmd::Put(a) => (Code::PUT, a),
        CoapCmd::Delete(a) => (Code::DELETE, a),
        CoapCmd::Serve(a) => return serve(a),
    };
    let uri = CoapUri::parse(&args.uri).map_err(|e| Failure::new(e.to_string()))?;
    let peer = uri.socket_addr().map_err(|e| Failure::new(e.to_string()))?;
    let mut request = Request::for_uri(method, &uri);
    request.confirmable = !args.non;
    if let Some(text) = &args.payload {
        request.payload = text.clone().into_bytes();
    } else if let Some(file) = &args.payload_file {
        request.payload = io::read(file)?;
    }
    let params = TransmissionParams {
        ack_timeout: Duration::from_millis(args.ack_timeout),
        max_retransmit: args.max_retransmit,
        ..TransmissionParams::default()
    };
    let mut crypto = RustCrypto::from_os();
    let mut dir = match &args.oscore {
        Some(d) => Some(ContextDir::open(&mut crypto, d).map_err(|e| Failure::new(e.to_string()))?),
        None => None,
    };
    if args.observe && method != Code::GET {
        bail!("--observe is for GET only");
    }
    let mut client = Client::for_peer(peer, crypto, params).context("socket")?;
    let result = match (dir.as_mut(), args.observe) {
        (Some(d), true) => client
            .observe_oscore(peer, &request, d.persisted_mut())
            .context(&args.uri)
            .and_then(|(first, obs)| follow(&args, &first, obs)),
        (None, true) => client
            .observe(peer, &request)
            .context(&args.uri)
            .and_then(|(first, obs)| follow(&args, &first, obs)),
        (Some(d), false) => client
            .request_oscore(peer, &request, d.persisted_mut())
            .context(&args.uri)
            .and_then(|r| show(&args, &r, false)),
        (None, false) => client
            .request(peer, &request)
            .context(&args.uri)
            .and_then(|r| show(&args, &r, false)),
    };
    if let Some(d) = dir {
        d.close().map_err(|e| Failure::new(e.to_string()))?;
    }
    result
}

/// Prints a response's payload (to OUT with -o; a line of its own when `line`), or fails with
/// its code and diagnostic for 4.00 and above.
fn show(args: &ClientArgs, response: &Response, line: bool) -> Result<()> {
    if response.is_error() {
        let diagnostic = String::from_utf8_lossy(&response.payload);
        let name = code_name(response.code);
        if diagnostic.is_empty() {
            bail!("{}: {} {name}", args.uri, response.code);
        }
        bail!("{}: {} {name}: {diagnostic}", args.uri, response.code);
    }
    match &args.out {
        Some(path) => io::write(path, &response.payload),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&response.payload)
                .and_then(|()| if line { out.write_all(b"\n") } else { Ok(()) })
                .and_then(|()| out.flush())
                .map_err(|e| Failure::stdout(&e))
        }
    }
}

/// `--observe`: the first response, then notifications until the observation ends or `--count`
/// came (then cancelled).
fn follow<C: Aead + Rng, S: SequenceNumberStore, const W: usize>(
    args: &ClientArgs,
    first: &Response,
    mut observing: Observing<'_, C, S, W>,
) -> Result<()> {
    show(args, first, true)?;
    if !observing.is_active() {
        bail!(
            "{}: not observable (the response has no Observe option)",
            args.uri
        );
    }
    let mut seen = 0u64;
    while args.count.is_none_or(|c| seen < c) {
        let Some(n) = observing
            .next(Duration::from_secs(3600))
            .context(&args.uri)?
        else {
            continue;
        };
        show(args, &n, true)?;
        seen += 1;
        if !observing.is_active() {
            return Ok(());
        }
    }
    let last = observing.cancel().context(&args.uri)?;
    if last.is_error() {
        return show(args, &last, true);
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<()> {
    let mut crypto = RustCrypto::from_os();
    let mut contexts = Vec::new();
    for d in &args.oscore {
        contexts.push(ContextDir::open(&mut crypto, d).map_err(|e| Failure::new(e.to_string()))?);
    }
    let handler = FileHandler::new(&args.root, !args.read_only).context(args.root.display())?;
    let mut server = Server::bind(
        args.bind,
        crypto,
        handler,
        contexts,
        ServerConfig::default(),
    )
    .context(args.bind)?;
    let addr = server.local_addr().context("socket")?;
    say(&format!(
        "serving {} on coap://{addr}{}",
        args.root.display(),
        if args.oscore.is_empty() {
            ""
        } else {
            " (OSCORE required)"
        }
    ))?;
    // Ten years stands in for "until killed".
    let run_for = Duration::from_secs(args.duration.unwrap_or(10 * 365 * 24 * 3600));
    let served = server.serve_until(Instant::now() + run_for, &AtomicBool::new(false));
    let (_, contexts) = server.into_parts();
    for c in contexts {
        c.close().map_err(|e| Failure::new(e.to_string()))?;
    }
    served.context("serving")
}

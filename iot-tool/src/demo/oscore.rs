//! Chapter: OSCORE (RFC 8613). The device sends telemetry to the gateway over CoAP/UDP on
//! loopback, end-to-end protected; an attacker's replay of a captured datagram is refused.
//!
//! The device uses the heap-free API (message writer, `PersistedContext` with a store standing
//! in for flash); the gateway runs iot-oscore's std `Server` with OSCORE required.

use super::{Chapter, Ctx};
use crate::fail::{Context, Failure, Result, bail};
use iot_core::crypto::{Rng, RustCrypto};
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use iot_oscore::udp::{Request, RequestInfo, Response, Server, ServerConfig, TransmissionParams};
use iot_oscore::{
    ContextParams, DerivedKeys, PersistedContext, SecurityContext, SequenceNumberStore,
};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The chapter entry.
pub const CHAPTER: Chapter = Chapter {
    name: "oscore",
    title: "OSCORE: telemetry to the gateway over CoAP, end-to-end protected (RFC 8613)",
    run,
};

/// Sequence numbers reserved per flash write (RFC 8613 appendix B.1.1).
const K: u64 = 16;

/// The device's flash cell for its Sender Sequence Number, counting writes.
#[derive(Debug, Default)]
struct Flash {
    value: Option<u64>,
    writes: u32,
}

impl SequenceNumberStore for Flash {
    fn load(&mut self) -> iot_oscore::Result<Option<u64>> {
        Ok(self.value)
    }
    fn store(&mut self, value: u64) -> iot_oscore::Result<()> {
        self.value = Some(value);
        self.writes += 1;
        Ok(())
    }
}

fn oscore_err(e: iot_oscore::Error) -> Failure {
    Failure::new(format!("demo: OSCORE: {e}"))
}

/// A telemetry reading as a CBOR map.
fn reading(device: &str, n: u32) -> Result<Vec<u8>> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(3)
        .and_then(|e| e.str("dev")?.str(device))
        .and_then(|e| e.str("n")?.u32(n))
        .and_then(|e| e.str("temp")?.f64(f64::from(215 + n) / 10.0))
        .context("encoding the reading")?;
    Ok(e.into_writer())
}

/// The gateway: OSCORE required; POST /telemetry is stored, anything else is 4.04.
fn gateway(
    ctx: PersistedContext<Flash>,
    inbox: Arc<Mutex<Vec<Vec<u8>>>>,
) -> Result<
    Server<RustCrypto<getrandom::SysRng>, impl iot_oscore::udp::Handler, PersistedContext<Flash>>,
> {
    let handler = move |r: &Request, info: &RequestInfo| -> Response {
        if r.method != Code::POST || r.path_text() != "/telemetry" || info.oscore_kid.is_none() {
            return Response::error(Code::NOT_FOUND, "no such resource");
        }
        if let Ok(mut v) = inbox.lock() {
            v.push(r.payload.clone());
        }
        Response::new(Code::CHANGED)
    };
    let config = ServerConfig {
        params: TransmissionParams::fast(),
        ..ServerConfig::default()
    };
    Server::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        RustCrypto::from_os(),
        handler,
        vec![ctx],
        config,
    )
    .context("gateway socket")
}

/// Sends `datagram` from `socket` to `to` and returns the answer (at most 1 s).
fn exchange(socket: &UdpSocket, to: SocketAddr, datagram: &[u8]) -> Result<Vec<u8>> {
    socket.send_to(datagram, to).context("sending")?;
    let mut buf = [0u8; 512];
    let (n, _) = socket
        .recv_from(&mut buf)
        .context("no answer from the gateway")?;
    Ok(buf.get(..n).unwrap_or_default().to_vec())
}

fn run(ctx: &mut Ctx<'_>) -> Result<()> {
    let name = ctx.device.name;
    // Provisioning: a fresh Master Secret and Salt shared by device and gateway.
    let mut secret = [0u8; 16];
    let mut salt = [0u8; 8];
    ctx.crypto.fill_random(&mut secret)?;
    ctx.crypto.fill_random(&mut salt)?;
    let (dev_id, gw_id) = (&b"s17"[..], &b"gw"[..]);
    let dev_params = ContextParams::new(&secret, dev_id, gw_id).master_salt(&salt);
    let gw_params = ContextParams::new(&secret, gw_id, dev_id).master_salt(&salt);
    let dev_keys = DerivedKeys::derive(&mut ctx.crypto, &dev_params).map_err(oscore_err)?;
    let gw_keys = DerivedKeys::derive(&mut ctx.crypto, &gw_params).map_err(oscore_err)?;
    let dev_ctx: SecurityContext =
        SecurityContext::derive(&mut ctx.crypto, &dev_params).map_err(oscore_err)?;
    let gw_ctx: SecurityContext =
        SecurityContext::derive(&mut ctx.crypto, &gw_params).map_err(oscore_err)?;
    ctx.say(&format!(
        "Device {name} and the gateway share a 16-byte Master Secret and an 8-byte Master Salt.\n\
         Each derives its OSCORE context with HKDF-SHA-256 (section 3.2), AES-CCM-16-64-128:\n  \
         device  Sender ID 's17', Sender Key {}\n  \
         gateway Sender ID 'gw',  Sender Key {}\n  \
         Common IV {}",
        hex::encode(dev_keys.sender_key()),
        hex::encode(gw_keys.sender_key()),
        hex::encode(dev_ctx.common_iv()),
    ))?;
    if dev_keys.sender_key() != gw_keys.recipient_key() {
        bail!("demo: the two derivations disagree");
    }
    ctx.ok("the device's Sender Key is the gateway's Recipient Key")?;

    let mut device =
        PersistedContext::first_boot(dev_ctx, Flash::default(), K).map_err(oscore_err)?;
    let gw = PersistedContext::first_boot(gw_ctx, Flash::default(), K).map_err(oscore_err)?;
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let mut server = gateway(gw, Arc::clone(&inbox))?;
    let gw_addr = server.local_addr().context("gateway address")?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let served = server.serve_until(Instant::now() + Duration::from_secs(5), &flag);
        (served, server.stats())
    });
    ctx.say(&format!(
        "\nThe gateway listens on coap://{gw_addr} and requires OSCORE (unprotected requests get 4.01)."
    ))?;

    let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).context("device socket")?;
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .context("device socket")?;
    let mut captured = Vec::new();
    for n in 1..=3u32 {
        let payload = reading(name, n)?;
        if n == 1 {
            ctx.show("A reading", &payload)?;
        }
        let mut plain = [0u8; 128];
        let mut w = MessageWriter::new(
            &mut plain,
            MessageType::Confirmable,
            Code::POST,
            0x7000 + n as u16,
            &n.to_be_bytes(),
        )
        .map_err(oscore_err)?;
        w.option(OptionNumber::URI_PATH, b"telemetry")
            .map_err(oscore_err)?;
        w.option_uint(OptionNumber::CONTENT_FORMAT, 60)
            .map_err(oscore_err)?;
        let plain_len = w.payload(&payload).map_err(oscore_err)?;
        let request =
            Message::decode(plain.get(..plain_len).unwrap_or_default()).map_err(oscore_err)?;
        let mut wire = [0u8; 192];
        let (len, sent) = device
            .protect_request(&mut ctx.crypto, &request, &mut wire)
            .map_err(oscore_err)?;
        let datagram = wire.get(..len).unwrap_or_default();
        let mut answer = exchange(&socket, gw_addr, datagram)?;
        let mut out = vec![0u8; answer.len()];
        let r = device
            .unprotect_response(&mut ctx.crypto, &sent, &mut answer, &mut out)
            .map_err(oscore_err)?;
        let code = Message::decode(out.get(..r.len).unwrap_or_default())
            .map_err(oscore_err)?
            .code();
        if n == 1 {
            let outer = Message::decode(datagram).map_err(oscore_err)?;
            ctx.say(&format!(
                "\nThe device protects it (section 8.1): {plain_len} bytes of CoAP become {len} on the wire.\n\
                 Outside, only POST and the OSCORE option h'{}' (kid 's17', Partial IV 0) show;\n\
                 Uri-Path, Content-Format and the payload are inside the AES-CCM ciphertext.",
                hex::encode(outer.option(OptionNumber::OSCORE).map(|o| o.value).unwrap_or_default()),
            ))?;
            captured = datagram.to_vec();
        }
        if code != Code::CHANGED {
            bail!("demo: the gateway answered {code} to reading {n}");
        }
        ctx.ok(&format!(
            "reading {n} (sequence number {}): the gateway verified it and answered a protected 2.04",
            sent.partial_iv().sequence_number()
        ))?;
    }

    // The attacker replays the first datagram, with a new message ID so that no
    // deduplication answers it from a cache.
    ctx.say("\nAn attacker on the path captured the first datagram and sends it again:")?;
    let attacker = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).context("socket")?;
    attacker
        .set_read_timeout(Some(Duration::from_secs(1)))
        .context("socket")?;
    if let Some(id) = captured.get_mut(2..4) {
        id.copy_from_slice(&0x0bad_u16.to_be_bytes());
    }
    let answer = exchange(&attacker, gw_addr, &captured)?;
    let m = Message::decode(&answer).map_err(oscore_err)?;
    let diagnostic = String::from_utf8_lossy(m.payload()).into_owned();
    if m.code() != Code::UNAUTHORIZED {
        bail!("demo: the replayed reading was answered {}", m.code());
    }
    ctx.say(&format!(
        "  \u{2717} replayed reading: refused ({} {diagnostic}, unprotected; section 7.4 replay window)",
        m.code()
    ))?;

    stop.store(true, Ordering::Relaxed);
    let (served, stats) = thread
        .join()
        .map_err(|_| Failure::new("demo: the gateway thread failed"))?;
    served.context("gateway")?;
    let stored = inbox.lock().map(|v| v.len()).unwrap_or(0);
    if stored != 3 || stats.handled != 3 || stats.oscore_refused != 1 {
        bail!("demo: the gateway stored {stored} readings ({stats:?})");
    }
    ctx.ok("the gateway stored 3 readings, not 4")?;
    ctx.say(&format!(
        "The device wrote its sequence number to flash {} time(s) for 3 messages (K = {K}, appendix B.1.1).",
        device.store().writes
    ))
}

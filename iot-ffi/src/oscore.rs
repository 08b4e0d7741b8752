//! OSCORE (RFC 8613) through the C API: context derivation (section 3.2), protection and
//! verification of requests and responses (section 8). The work is done by [`iot_oscore`]; this
//! module checks and converts arguments and keeps the state in caller-allocated opaque structs.

use crate::{IotStatus, backend, bytes, check_range, guard, opt_bytes, overlaps};
use core::mem::{align_of, size_of};
use iot_core::cose::Algorithm;
use iot_oscore::coap::Message;
use iot_oscore::{ContextParams, ReceivedRequest, ResponseNonce, SecurityContext, SentRequest};

/// COSE algorithm id of AES-CCM-16-64-128 (RFC 9053 section 4.2), the OSCORE default.
pub const IOT_ALG_AES_CCM_16_64_128: i32 = 10;
/// COSE algorithm id of ChaCha20/Poly1305 (RFC 9053 section 4.3).
pub const IOT_ALG_CHACHA20_POLY1305: i32 = 24;
/// COSE algorithm id of A128GCM (RFC 9053 section 4.1).
pub const IOT_ALG_A128GCM: i32 = 1;
/// `iot_oscore_protect_response` flag: use a new Partial IV from this endpoint's Sender Sequence
/// Number instead of the request's nonce (RFC 8613 section 8.3; needed for a second response).
pub const IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV: u32 = 1;

/// Number of 64-bit words of an [`IotOscoreContext`]: the context holds the Sender and Recipient
/// Keys with their AES key schedules expanded once (about 850 bytes on x86_64).
pub const IOT_OSCORE_CONTEXT_WORDS: usize = 128;
/// Number of 64-bit words of an [`IotOscoreRequest`].
pub const IOT_OSCORE_REQUEST_WORDS: usize = 6;

/// An OSCORE security context (RFC 8613 section 3), opaque to C: allocate it anywhere (static,
/// stack, a struct member; `sizeof` and `_Alignof` are those of `uint64_t[128]`) and fill it with
/// `iot_oscore_context_derive`. It holds the prepared keys: wipe it with `iot_oscore_context_clear`.
/// It contains no pointers and may be moved with `memcpy`, but not copied to be used twice (two
/// copies would reuse sequence numbers, hence nonces).
#[repr(C)]
pub struct IotOscoreContext {
    /// Storage; not to be read or written by C.
    pub opaque: [u64; IOT_OSCORE_CONTEXT_WORDS],
}

/// What a response is bound to (RFC 8613 section 7.1), opaque to C: written by
/// `iot_oscore_protect_request` (client) or `iot_oscore_unprotect_request` (server), read by
/// `iot_oscore_unprotect_response` or `iot_oscore_protect_response`.
#[repr(C)]
pub struct IotOscoreRequest {
    /// Storage; not to be read or written by C.
    pub opaque: [u64; IOT_OSCORE_REQUEST_WORDS],
}

/// Marks storage that holds a derived context.
const CONTEXT_MAGIC: u64 = 0x494f_545f_4f53_4358;
/// Marks storage that holds a request binding.
const REQUEST_MAGIC: u64 = 0x494f_545f_4f53_5251;

#[repr(C)]
struct Context {
    magic: u64,
    ctx: SecurityContext,
}

enum Binding {
    Sent(SentRequest),
    Received(ReceivedRequest),
}

#[repr(C)]
struct Request {
    magic: u64,
    binding: Binding,
}

/// Whether a `T` fits in an `S` at the first address aligned for `T` (see [`slot`]).
const fn fits<T, S>() -> bool {
    let slack = align_of::<T>().saturating_sub(align_of::<S>());
    size_of::<T>() + slack <= size_of::<S>()
}
const _: () = assert!(fits::<Context, IotOscoreContext>());
const _: () = assert!(fits::<Request, IotOscoreRequest>());

/// Where the `T` lives inside the storage at `p` (aligned for `S`): the first address aligned
/// for `T` (a `u128` in the replay window may need more than the 8 bytes C guarantees).
fn slot<T, S>(p: *mut S) -> *mut T {
    let off = p.addr().wrapping_neg() & (align_of::<T>() - 1);
    p.cast::<u8>().wrapping_add(off).cast::<T>()
}

impl From<iot_oscore::Error> for IotStatus {
    fn from(e: iot_oscore::Error) -> Self {
        use iot_oscore::{CryptoError, Error as E};
        match e {
            E::Format { .. } | E::OptionOutOfOrder { .. } | E::ValueTooLong => Self::CoapFormat,
            E::BufferTooSmall => Self::BufferTooSmall,
            E::InvalidContext => Self::InvalidContext,
            E::WrongMessageKind => Self::WrongMessageKind,
            E::NestedOscore => Self::NestedOscore,
            E::InvalidProxyUri => Self::InvalidProxyUri,
            E::NotProtected => Self::NotProtected,
            E::BadOscoreOption => Self::BadOscoreOption,
            E::UnknownContext => Self::UnknownContext,
            E::Replay => Self::Replay,
            E::DecryptionFailed => Self::BadTag,
            E::MalformedPlaintext => Self::MalformedPlaintext,
            E::SequenceNumberExhausted => Self::SequenceNumberExhausted,
            E::BindingMismatch => Self::BindingMismatch,
            E::RequestNonceUsed => Self::RequestNonceUsed,
            E::ObserveMismatch => Self::ObserveMismatch,
            // The status of the iot_core::Error kind (as `From<iot_core::Error>` gives it).
            E::Crypto(e) => match e {
                CryptoError::Cbor => Self::Cbor,
                CryptoError::WrongTag => Self::WrongTag,
                CryptoError::UnknownCriticalHeader => Self::UnknownCriticalHeader,
                CryptoError::InvalidHeader => Self::InvalidHeader,
                CryptoError::MissingAlgorithm => Self::MissingAlgorithm,
                CryptoError::UnsupportedAlgorithm => Self::UnsupportedAlgorithm,
                CryptoError::AlgorithmMismatch => Self::AlgorithmMismatch,
                CryptoError::InvalidKey => Self::InvalidKey,
                CryptoError::BadSignature => Self::BadSignature,
                CryptoError::BadTag => Self::BadTag,
                CryptoError::PayloadMismatch => Self::PayloadMismatch,
                CryptoError::InvalidNonce => Self::InvalidNonce,
                CryptoError::BufferTooSmall => Self::BufferTooSmall,
                CryptoError::CapacityExceeded => Self::CapacityExceeded,
                CryptoError::Rng => Self::Rng,
                CryptoError::Backend => Self::Backend,
                _ => Self::Internal,
            },
            _ => Self::Internal,
        }
    }
}

/// The context in `ctx`, if `iot_oscore_context_derive` filled it.
///
/// # Safety
/// `ctx`, if not NULL, must point to a readable and writable `IotOscoreContext` that nothing else
/// accesses for `'a`.
unsafe fn context<'a>(ctx: *mut IotOscoreContext) -> Result<&'a mut SecurityContext, IotStatus> {
    if ctx.is_null() {
        return Err(IotStatus::NullArgument);
    }
    if !ctx.is_aligned() {
        return Err(IotStatus::InvalidArgument);
    }
    let ctx = slot::<Context, _>(ctx);
    // SAFETY: non-NULL, aligned for Context and inside the storage (`slot`, `fits`); the caller
    // guarantees it is readable. The first word is a u64 of any value.
    if unsafe { core::ptr::addr_of!((*ctx).magic).read() } != CONTEXT_MAGIC {
        return Err(IotStatus::InvalidArgument);
    }
    // SAFETY: the magic says iot_oscore_context_derive wrote a Context here; the storage is
    // large enough (compile-time check) and the caller guarantees exclusive access for 'a.
    Ok(unsafe { &mut (*ctx).ctx })
}

/// The request binding in `req`, if one was written there.
///
/// # Safety
/// As for [`context`], for an `IotOscoreRequest`.
unsafe fn request<'a>(req: *mut IotOscoreRequest) -> Result<&'a mut Binding, IotStatus> {
    if req.is_null() {
        return Err(IotStatus::NullArgument);
    }
    if !req.is_aligned() {
        return Err(IotStatus::InvalidArgument);
    }
    let req = slot::<Request, _>(req);
    // SAFETY: as in `context`.
    if unsafe { core::ptr::addr_of!((*req).magic).read() } != REQUEST_MAGIC {
        return Err(IotStatus::InvalidArgument);
    }
    // SAFETY: the magic says a Request was written here; exclusive access is the caller's promise.
    Ok(unsafe { &mut (*req).binding })
}

/// Writes `binding` into `req` (checked non-NULL and aligned by the caller of this function).
///
/// # Safety
/// `req` must be non-NULL, aligned and point to a writable `IotOscoreRequest`.
unsafe fn store_request(req: *mut IotOscoreRequest, binding: Binding) {
    // SAFETY: forwarded; the Request is aligned and inside the storage (`slot`, `fits`). The previous
    // content, if any, holds no resources, so it need not be dropped.
    unsafe {
        slot::<Request, _>(req).write(Request {
            magic: REQUEST_MAGIC,
            binding,
        });
    }
}

/// Borrows `len` writable bytes at `ptr` (non-NULL).
///
/// # Safety
/// `ptr..ptr + len` must be writable memory that nothing else accesses for `'a`.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], IotStatus> {
    if ptr.is_null() {
        return Err(IotStatus::NullArgument);
    }
    check_range(ptr.cast_const(), len)?;
    // SAFETY: non-NULL, length within isize::MAX and not wrapping (check_range); the caller
    // guarantees the range is writable and unaliased for 'a.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Common frame of the functions that write a message into (`out`, `*out_len`): checks `out_len`,
/// reads the capacity, runs `f` with the output slice, stores the length (0 on failure).
///
/// # Safety
/// `out` must point to `*out_len` writable bytes and `out_len` to a writable `size_t`, neither
/// accessed by anyone else during the call; `inputs` are the other byte ranges of the call.
pub(crate) unsafe fn with_out(
    out: *mut u8,
    out_len: *mut usize,
    inputs: &[(*const u8, usize)],
    f: impl FnOnce(&mut [u8]) -> Result<usize, IotStatus>,
) -> IotStatus {
    if out_len.is_null() {
        return IotStatus::NullArgument;
    }
    if !out_len.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    // SAFETY: non-NULL and aligned; the caller guarantees it is readable.
    let capacity = unsafe { out_len.read() };
    let mut written = 0;
    let status = guard(|| {
        check_range(out.cast_const(), capacity)?;
        for &(p, n) in inputs {
            check_range(p, n)?;
            if !p.is_null() && n != 0 {
                // SAFETY: checked range; the caller guarantees it is readable.
                let input = unsafe { core::slice::from_raw_parts(p, n) };
                if overlaps(input, out.cast_const(), capacity) {
                    return Err(IotStatus::InvalidArgument);
                }
            }
        }
        // SAFETY: as the caller guarantees; no input overlaps (checked above).
        let out = unsafe { bytes_mut(out, capacity) }?;
        written = f(out)?;
        Ok(())
    });
    // SAFETY: as above.
    unsafe { out_len.write(if status == IotStatus::Ok { written } else { 0 }) };
    status
}

/// Derives an OSCORE security context (RFC 8613 section 3.2) into `ctx`.
///
/// - `master_secret`, `master_secret_len`: the Master Secret (not kept after derivation).
/// - `master_salt`, `master_salt_len`: the Master Salt; NULL and 0 for the default (empty).
/// - `sender_id`, `recipient_id`: this endpoint's IDs; an empty ID is (non-NULL or NULL, 0).
///   At most the nonce length minus 6 bytes, and different (`IOT_STATUS_INVALID_CONTEXT`).
/// - `id_context`, `id_context_len`: the ID Context, or NULL for none (at most 32 bytes).
/// - `alg`: `IOT_ALG_AES_CCM_16_64_128` (the default), `IOT_ALG_CHACHA20_POLY1305` or
///   `IOT_ALG_A128GCM`; another gives `IOT_STATUS_UNSUPPORTED_ALGORITHM`.
/// - `ctx`: receives the context, Sender Sequence Number 0 and an empty replay window. On failure
///   it is left unusable (the other functions refuse it with `IOT_STATUS_INVALID_ARGUMENT`).
///
/// # Safety
/// - Every non-NULL input pointer must point to at least its length of readable bytes that no
///   one writes to during the call.
/// - `ctx` must point to a writable `IotOscoreContext` that no one else accesses during the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_oscore_context_derive(
    master_secret: *const u8,
    master_secret_len: usize,
    master_salt: *const u8,
    master_salt_len: usize,
    sender_id: *const u8,
    sender_id_len: usize,
    recipient_id: *const u8,
    recipient_id_len: usize,
    id_context: *const u8,
    id_context_len: usize,
    alg: i32,
    ctx: *mut IotOscoreContext,
) -> IotStatus {
    if master_secret.is_null() || ctx.is_null() {
        return IotStatus::NullArgument;
    }
    if !ctx.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    let ctx = slot::<Context, _>(ctx);
    // SAFETY: non-NULL and aligned; the caller guarantees it is writable. Clearing the magic
    // first leaves the storage unusable should derivation fail.
    unsafe { core::ptr::addr_of_mut!((*ctx).magic).write(0) };
    guard(|| {
        // SAFETY: the caller guarantees that each non-NULL input pointer is readable for its
        // length and not written during the call.
        let secret = unsafe { bytes(master_secret, master_secret_len) }?;
        // SAFETY: as above.
        let salt = unsafe { bytes(master_salt, master_salt_len) }?;
        // SAFETY: as above.
        let sender = unsafe { bytes(sender_id, sender_id_len) }?;
        // SAFETY: as above.
        let recipient = unsafe { bytes(recipient_id, recipient_id_len) }?;
        // SAFETY: as above.
        let id_context = unsafe { opt_bytes(id_context, id_context_len) }?;
        let aead = Algorithm::from_id(i64::from(alg))
            .and_then(Algorithm::aead)
            .ok_or(iot_core::Error::UnsupportedAlgorithm(alg))?;
        let mut params = ContextParams::new(secret, sender, recipient)
            .master_salt(salt)
            .alg(aead);
        params.id_context = id_context;
        let derived = SecurityContext::derive(&mut backend(), &params)?;
        // SAFETY: ctx is non-NULL, aligned and inside the storage (`slot`, `fits`) and writable
        // (caller). Any context there before holds no resources and is overwritten.
        unsafe {
            ctx.write(Context {
                magic: CONTEXT_MAGIC,
                ctx: derived,
            });
        }
        Ok(())
    })
}

/// Wipes `ctx`: the keys are zeroized and the context becomes unusable until derived again.
/// NULL, or storage that holds no context, is accepted and zeroed too (NULL is a no-op).
///
/// # Safety
/// `ctx`, if not NULL, must point to a writable `IotOscoreContext` that no one else accesses
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_context_clear(ctx: *mut IotOscoreContext) -> IotStatus {
    if ctx.is_null() {
        return IotStatus::Ok;
    }
    if !ctx.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    // SAFETY: forwarded from the caller.
    if let Ok(c) = unsafe { context(ctx) } {
        // SAFETY: a valid context (magic checked) dropped once: its drop zeroizes the keys. The
        // magic is cleared right after, so it is not used or dropped again.
        unsafe { core::ptr::drop_in_place(c) };
    }
    // SAFETY: non-NULL, aligned, writable (caller).
    unsafe { ctx.write_bytes(0, 1) };
    IotStatus::Ok
}

/// Sets the next Sender Sequence Number (restoring persisted state, RFC 8613 appendix B.1.1).
/// Moving it back would reuse nonces and gives `IOT_STATUS_INVALID_CONTEXT`.
///
/// # Safety
/// `ctx` must point to an `IotOscoreContext` that no one else accesses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_context_set_sender_sequence_number(
    ctx: *mut IotOscoreContext,
    next: u64,
) -> IotStatus {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { context(ctx) }?;
        c.set_sender_sequence_number(next)?;
        Ok(())
    })
}

/// Writes the next Sender Sequence Number of `ctx` into `*next` (to persist it, RFC 8613
/// appendix B.1.1).
///
/// # Safety
/// `ctx` must point to an `IotOscoreContext` that no one else accesses during the call; `next`
/// to a writable, aligned `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_context_sender_sequence_number(
    ctx: *mut IotOscoreContext,
    next: *mut u64,
) -> IotStatus {
    if next.is_null() {
        return IotStatus::NullArgument;
    }
    if !next.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    guard(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { context(ctx) }?;
        // SAFETY: non-NULL, aligned, writable (caller).
        unsafe { next.write(c.sender_sequence_number()) };
        Ok(())
    })
}

/// Protects a CoAP request (RFC 8613 section 8.1) with the next Sender Sequence Number.
///
/// - `request`, `request_len`: the CoAP message (RFC 7252 section 3) to protect.
/// - `out`: receives the OSCORE message; `*out_len` holds its capacity on entry and the message
///   length on success, 0 on failure (`IOT_STATUS_BUFFER_TOO_SMALL` when it does not fit). The
///   result is the request plus the OSCORE option (up to 3 + 1 + 5 + 8 + 32 bytes), the tag and
///   the inner code and payload marker.
/// - `binding`: receives what the response is bound to, for `iot_oscore_unprotect_response`.
///
/// The sequence number is used up even if the call fails after taking it.
///
/// # Safety
/// - `ctx` must point to an `IotOscoreContext` and `binding` to a writable `IotOscoreRequest`,
///   neither accessed by anyone else during the call.
/// - `request` must point to `request_len` readable bytes that no one writes during the call.
/// - `out` must point to `*out_len` writable bytes that overlap no input (an overlap is refused
///   with `IOT_STATUS_INVALID_ARGUMENT`); `out_len` to a writable, aligned `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_protect_request(
    ctx: *mut IotOscoreContext,
    request: *const u8,
    request_len: usize,
    out: *mut u8,
    out_len: *mut usize,
    binding: *mut IotOscoreRequest,
) -> IotStatus {
    if request.is_null() || out.is_null() || binding.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::NullArgument) };
    }
    if !binding.is_aligned() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::InvalidArgument) };
    }
    // SAFETY: the caller's guarantees, forwarded.
    unsafe {
        with_out(out, out_len, &[(request, request_len)], |out| {
            let c = context(ctx)?;
            let request = bytes(request, request_len)?;
            let msg = Message::decode(request)?;
            let (len, sent) = c.protect_request(&mut backend(), &msg, out)?;
            store_request(binding, Binding::Sent(sent));
            Ok(len)
        })
    }
}

/// Verifies a protected request (RFC 8613 section 8.2) and writes the original CoAP request.
///
/// - `input`, `input_len`: the OSCORE message. It is decrypted in place: its content is
///   unspecified after the call (keep a copy if you need it).
/// - `out`: receives the verified request; `*out_len` holds its capacity on entry and the length
///   on success, 0 on failure. `input_len` bytes are always enough.
/// - `binding`: receives what the response is bound to, for `iot_oscore_protect_response`.
///
/// The replay window is checked first and updated only once the request verified:
/// a replayed request gives `IOT_STATUS_REPLAY` and changes nothing.
///
/// # Safety
/// - `ctx` and `binding` as for `iot_oscore_protect_request`.
/// - `input` must point to `input_len` readable and writable bytes no one else accesses.
/// - `out` must point to `*out_len` writable bytes that do not overlap `input`; `out_len` to a
///   writable, aligned `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_unprotect_request(
    ctx: *mut IotOscoreContext,
    input: *mut u8,
    input_len: usize,
    out: *mut u8,
    out_len: *mut usize,
    binding: *mut IotOscoreRequest,
) -> IotStatus {
    if input.is_null() || out.is_null() || binding.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::NullArgument) };
    }
    if !binding.is_aligned() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::InvalidArgument) };
    }
    // SAFETY: the caller's guarantees, forwarded.
    unsafe {
        with_out(out, out_len, &[(input.cast_const(), input_len)], |out| {
            let c = context(ctx)?;
            let input = bytes_mut(input, input_len)?;
            let (len, received) = c.unprotect_request(&mut backend(), input, out)?;
            store_request(binding, Binding::Received(received));
            Ok(len)
        })
    }
}

/// Protects a CoAP response (RFC 8613 section 8.3) to the request `binding` that
/// `iot_oscore_unprotect_request` returned.
///
/// - `flags`: 0 to reuse the request's nonce (no Partial IV; allowed once per request, then
///   `IOT_STATUS_REQUEST_NONCE_USED`), or `IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV`. Other bits give
///   `IOT_STATUS_INVALID_ARGUMENT`.
/// - `response`, `response_len`: the CoAP response; an Empty message (an empty ACK) is copied.
/// - `out`, `out_len`: as for `iot_oscore_protect_request`.
///
/// # Safety
/// As for `iot_oscore_protect_request`, with `binding` read and written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_protect_response(
    ctx: *mut IotOscoreContext,
    binding: *mut IotOscoreRequest,
    response: *const u8,
    response_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    if response.is_null() || out.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::NullArgument) };
    }
    // SAFETY: the caller's guarantees, forwarded.
    unsafe {
        with_out(out, out_len, &[(response, response_len)], |out| {
            let c = context(ctx)?;
            let Binding::Received(received) = request(binding)? else {
                return Err(IotStatus::BindingMismatch);
            };
            if flags & !IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV != 0 {
                return Err(IotStatus::InvalidArgument);
            }
            let nonce = if flags & IOT_OSCORE_RESPONSE_OWN_PARTIAL_IV != 0 {
                ResponseNonce::Own
            } else {
                ResponseNonce::Request
            };
            let msg = Message::decode(bytes(response, response_len)?)?;
            Ok(c.protect_response(&mut backend(), received, &msg, nonce, out)?)
        })
    }
}

/// Verifies a protected response (RFC 8613 section 8.4) to the request `binding` that
/// `iot_oscore_protect_request` returned, and writes the original CoAP response.
///
/// - `input`, `input_len`, `out`, `out_len`: as for `iot_oscore_unprotect_request`.
/// - `partial_iv`: NULL, or receives the response's Partial IV as a number (for the Notification
///   Number of Observe, section 7.4.1), or -1 when it carried none or on failure.
///
/// Changes no state: the caller accepts one response per request (outside Observe).
///
/// # Safety
/// As for `iot_oscore_unprotect_request`, with `binding` only read; `partial_iv`, if not NULL,
/// must point to a writable, aligned `int64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_oscore_unprotect_response(
    ctx: *mut IotOscoreContext,
    binding: *mut IotOscoreRequest,
    input: *mut u8,
    input_len: usize,
    out: *mut u8,
    out_len: *mut usize,
    partial_iv: *mut i64,
) -> IotStatus {
    if !partial_iv.is_aligned() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { reset_len(out_len, IotStatus::InvalidArgument) };
    }
    let mut piv = -1;
    let status = if input.is_null() || out.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        unsafe { reset_len(out_len, IotStatus::NullArgument) }
    } else {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe {
            with_out(out, out_len, &[(input.cast_const(), input_len)], |out| {
                let c = context(ctx)?;
                let Binding::Sent(sent) = request(binding)? else {
                    return Err(IotStatus::BindingMismatch);
                };
                let input = bytes_mut(input, input_len)?;
                let r = c.unprotect_response(&mut backend(), sent, input, out)?;
                piv = r
                    .partial_iv
                    .map_or(-1, |p| i64::try_from(p).unwrap_or(i64::MAX));
                Ok(r.len)
            })
        }
    };
    if !partial_iv.is_null() {
        // SAFETY: non-NULL and aligned (checked); writable (caller).
        unsafe { partial_iv.write(if status == IotStatus::Ok { piv } else { -1 }) };
    }
    status
}

/// Stores 0 in `*out_len` when it is a usable pointer, and returns `status`.
///
/// # Safety
/// `out_len`, if not NULL, must point to a writable `size_t`.
pub(crate) unsafe fn reset_len(out_len: *mut usize, status: IotStatus) -> IotStatus {
    if !out_len.is_null() && out_len.is_aligned() {
        // SAFETY: non-NULL and aligned; writable (caller).
        unsafe { out_len.write(0) };
    }
    status
}

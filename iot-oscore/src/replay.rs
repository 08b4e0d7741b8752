//! The server's replay window (RFC 8613 section 7.4): DTLS-style (RFC 6347 section 4.1.2.6),
//! sliding, `W` sequence numbers wide (default 32, at most 128).
//!
//! Checking and updating are separate steps so that a message changes the window only after it
//! has been verified: [`ReplayWindow::check`] first, decrypt, then [`ReplayWindow::accept`].

use crate::error::{Error, Result};

/// The default window size of RFC 8613 section 3.2.
pub const DEFAULT_REPLAY_WINDOW: usize = 32;

/// A sliding window of the `W` most recent sequence numbers received (1 <= `W` <= 128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow<const W: usize = DEFAULT_REPLAY_WINDOW> {
    /// The highest sequence number accepted, if any.
    top: Option<u64>,
    /// Bit `i` set: `top - i` was accepted (bit 0 is `top` itself).
    seen: u128,
    /// Sequence numbers below this are refused (after a reboot, RFC 8613 appendix B.1.2).
    floor: u64,
}

impl<const W: usize> Default for ReplayWindow<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const W: usize> ReplayWindow<W> {
    const SIZE_OK: () = assert!(W >= 1 && W <= 128, "replay window size must be 1..=128");

    /// A fresh window that accepts any sequence number once (a new security context).
    pub const fn new() -> Self {
        let () = Self::SIZE_OK;
        Self {
            top: None,
            seen: 0,
            floor: 0,
        }
    }

    /// A window that refuses every sequence number below `lower_limit` and accepts the others
    /// once (the lower limit RFC 8613 appendix B.1.2 sets after an Echo exchange).
    pub const fn with_lower_limit(lower_limit: u64) -> Self {
        let mut w = Self::new();
        w.floor = lower_limit;
        w
    }

    /// The window size `W`.
    pub const fn size(&self) -> usize {
        W
    }

    /// The highest sequence number accepted so far.
    pub const fn highest(&self) -> Option<u64> {
        self.top
    }

    /// Fails with [`Error::Replay`] if `seq` was accepted before or lies below the window;
    /// changes nothing.
    pub fn check(&self, seq: u64) -> Result<()> {
        if seq < self.floor {
            return Err(Error::Replay);
        }
        let Some(top) = self.top else {
            return Ok(());
        };
        if seq > top {
            return Ok(());
        }
        let age = top - seq;
        if age >= W as u64 || self.seen & (1u128 << age) != 0 {
            return Err(Error::Replay);
        }
        Ok(())
    }

    /// Records `seq` as received. Call it only after [`Self::check`] passed and the message
    /// verified; an old or repeated `seq` leaves the window as it was.
    pub fn accept(&mut self, seq: u64) {
        if self.check(seq).is_err() {
            return;
        }
        match self.top {
            Some(top) if seq <= top => {
                self.seen |= 1u128 << (top - seq);
            }
            Some(top) => {
                let shift = seq - top;
                self.seen = if shift >= W as u64 {
                    1
                } else {
                    (self.seen << shift) | 1
                };
                self.top = Some(seq);
            }
            None => {
                self.seen = 1;
                self.top = Some(seq);
            }
        }
        self.seen &= Self::mask();
    }

    fn mask() -> u128 {
        if W >= 128 {
            u128::MAX
        } else {
            (1u128 << W) - 1
        }
    }
}

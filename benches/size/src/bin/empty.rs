//! Baseline: the cortex-m-rt vector table and reset handler, nothing else.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;

#[entry]
fn main() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

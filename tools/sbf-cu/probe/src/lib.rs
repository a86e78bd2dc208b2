//! CU probe: instruction data selects one rwa-math operation and its inputs; the program returns 0
//! when the result's checksum equals the expected checksum carried in the data (computed natively
//! on the host from the same code), else the checksum as a custom error. Layout (little endian):
//! [0] op, [1] curve kind, [2..6] expected checksum u32, [6..8] pad,
//! [8..56] three u128 raw curve params, [56..] u64 args.
#![cfg_attr(target_arch = "bpf", no_std)]
#![allow(clippy::all)]
extern crate alloc;

/// Always compiled so the host tests can check them against native u128 arithmetic.
pub mod wide_helpers;

use rwa_math::fees::{fee_on, max_net_for_gross, min_gross_for_net};
use rwa_math::lending::{
    accrue, annualize, borrow_rate, collateral_ratio_bps, collateral_value, limit_at_ratio,
    portfolio_sigma,
};
use rwa_math::oracle::{twap, volatility, volatility_over, Accumulator, Checkpoint};
use rwa_math::{Curve, CurveKind, CurveMarket, Decimal, MathError, Rounding};

#[inline(always)]
fn u64_at(d: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    if off + 8 <= d.len() { b.copy_from_slice(&d[off..off + 8]); }
    u64::from_le_bytes(b)
}
#[inline(always)]
fn u128_at(d: &[u8], off: usize) -> u128 {
    (u64_at(d, off) as u128) | ((u64_at(d, off + 8) as u128) << 64)
}
#[inline(always)]
fn arg(d: &[u8], i: usize) -> u64 { u64_at(d, 56 + 8 * i) }
#[inline(always)]
fn arg128(d: &[u8], i: usize) -> u128 { u128_at(d, 56 + 8 * i) }

struct H(u64);
impl H {
    #[inline(always)]
    fn add(&mut self, v: u64) { self.0 = (self.0 ^ v).wrapping_mul(0x0000_0100_0000_01b3); }
    #[inline(always)]
    fn dec(&mut self, v: Decimal) { self.add(v.raw() as u64); self.add((v.raw() >> 64) as u64); }
    fn err(&mut self, e: MathError) {
        let code = match e {
            MathError::Overflow => 1, MathError::Underflow => 2, MathError::DivisionByZero => 3,
            MathError::Domain => 4, MathError::NoConvergence => 5, MathError::UnsupportedDecimals => 6,
            MathError::InvalidCurve(_) => 7, MathError::SupplyOutOfRange => 8,
        };
        self.add(0xdead_0000 + code);
    }
    fn r64(&mut self, r: Result<u64, MathError>) { match r { Ok(v) => self.add(v), Err(e) => self.err(e) } }
    fn rdec(&mut self, r: Result<Decimal, MathError>) { match r { Ok(v) => self.dec(v), Err(e) => self.err(e) } }
}

fn market(d: &[u8]) -> Result<CurveMarket, MathError> {
    let kind = match d[1] { 0 => CurveKind::Linear, 1 => CurveKind::Exponential, _ => CurveKind::Sigmoid };
    let params = [Decimal::from_raw(u128_at(d, 8)), Decimal::from_raw(u128_at(d, 24)), Decimal::from_raw(u128_at(d, 40))];
    CurveMarket::new(Curve::from_params(kind, params), 6, 6)
}

/// Synthetic checkpoint ring: `n` checkpoints, 3 slots apart, prices around 1.0, and the live
/// accumulator after them (as the market's PriceOracle holds them).
#[inline(never)]
fn checkpoints(n: usize, base_slot: u64) -> (alloc::vec::Vec<Checkpoint>, Accumulator) {
    // On the heap: run.sh's IR rewrite drops `noinline`, so a 3 KiB local would end up in the
    // entrypoint's 4 KiB frame. The baseline case builds the same ring, so the cost cancels.
    let mut ring = alloc::vec![Checkpoint::default(); 64];
    let mut cumulative: u128 = 0;
    let mut price = Decimal::ONE;
    let mut i = 0;
    while i < n && i < 64 {
        price = Decimal::from_raw(1_000_000_000_000_000_000 + ((i as u128 * 7919) % 1000) * 1_000_000_000_000_000);
        ring[i] = Checkpoint { slot: base_slot + 3 * i as u64, cumulative, price_before: price, prior_write_slot: base_slot + 3 * i as u64 - 1 };
        cumulative = cumulative.wrapping_add(price.raw() * 3);
        i += 1;
    }
    let last_slot = base_slot + 3 * n as u64;
    let accumulator = Accumulator { last_slot, last_price: price, previous_price: price, cumulative, variance: Decimal::from_raw(3_170_000_000), variance_slot: last_slot - 1 };
    (ring, accumulator)
}

fn twap_case(d: &[u8], op: u8, h: &mut H) {
    let n = (arg(d, 0) as usize).clamp(1, 64);
    let (ring, accumulator) = checkpoints(n, 1000);
    if op == 21 {
        h.dec(twap(&accumulator, n, |k| ring[k], arg(d, 1), arg(d, 2)));
    } else {
        h.dec(ring[n - 1].price_before);
        h.add(accumulator.cumulative as u64);
    }
}

/// Runs the selected operation; returns its checksum.
pub fn run(d: &[u8]) -> u64 {
    let mut h = H(0xcbf2_9ce4_8422_2325);
    if d.len() < 56 { return 1; }
    let op = d[0];
    match op {
        0 => {}
        1..=11 => {
            let m = match market(d) { Ok(m) => m, Err(e) => { h.err(e); return h.0; } };
            let (a, b, c) = (arg(d, 0), arg(d, 1), arg(d, 2));
            match op {
                1 => h.r64(m.buy_cost(a, b)),
                2 => h.r64(m.sell_proceeds(a, b)),
                3 => match m.buy_amount_for_quote(a, b, c) { Ok((x, y)) => { h.add(x); h.add(y) } Err(e) => h.err(e) },
                4 => h.r64(m.spot_price(a).and_then(|spot| m.reserve_floor(a, spot))), // check_solvency (spot included)
                5 => h.rdec(m.spot_price(a)),
                6 => match m.sell_amount_for_quote(a, b) { Ok(Some((x, y))) => { h.add(x); h.add(y) } Ok(None) => h.add(77), Err(e) => h.err(e) },
                7 => h.r64(m.validate(a).map(|_| 0)), // initialize_market
                8 => {
                    // buy_exact_in math end to end: a=supply, b=quote_in (gross), c=max_supply
                    let fee_bps = arg(d, 3) as u16;
                    let r = (|| {
                        let budget = max_net_for_gross(b, fee_bps)?;
                        let (amount, cost) = m.buy_amount_for_quote(a, budget, c - a)?;
                        let fee = fee_on(cost, fee_bps)?;
                        let before = m.spot_price(a)?;
                        let after = m.spot_price(a + amount)?;
                        let solvency = m.reserve_floor(a + amount, after)?;
                        Ok::<_, MathError>(amount ^ cost ^ fee ^ before.raw() as u64 ^ after.raw() as u64 ^ solvency)
                    })();
                    h.r64(r)
                }
                10 => {
                    // sell_exact_out math end to end: a=supply, b=quote_out (net of fee)
                    let fee_bps = arg(d, 3) as u16;
                    let r = (|| {
                        let gross = min_gross_for_net(b, fee_bps)?;
                        let (amount, proceeds) = m.sell_amount_for_quote(a, gross)?.ok_or(MathError::SupplyOutOfRange)?;
                        let fee = fee_on(proceeds, fee_bps)?;
                        let before = m.spot_price(a)?;
                        let after = m.spot_price(a - amount)?;
                        let solvency = m.reserve_floor(a - amount, after)?;
                        Ok::<_, MathError>(amount ^ proceeds ^ fee ^ before.raw() as u64 ^ after.raw() as u64 ^ solvency)
                    })();
                    h.r64(r)
                }
                11 => {
                    // buy_exact_out math end to end: a=supply, b=amount
                    let fee_bps = arg(d, 3) as u16;
                    let r = (|| {
                        let cost = m.buy_cost(a, b)?;
                        let fee = fee_on(cost, fee_bps)?;
                        let before = m.spot_price(a)?;
                        let after = m.spot_price(a + b)?;
                        let solvency = m.reserve_floor(a + b, after)?;
                        Ok::<_, MathError>(cost ^ fee ^ before.raw() as u64 ^ after.raw() as u64 ^ solvency)
                    })();
                    h.r64(r)
                }
                _ => {
                    // sell_exact_in math end to end: a=supply, b=amount
                    let fee_bps = arg(d, 3) as u16;
                    let r = (|| {
                        let proceeds = m.sell_proceeds(a, b)?;
                        let fee = fee_on(proceeds, fee_bps)?;
                        let before = m.spot_price(a)?;
                        let after = m.spot_price(a - b)?;
                        let solvency = m.reserve_floor(a - b, after)?;
                        Ok::<_, MathError>(proceeds ^ fee ^ before.raw() as u64 ^ after.raw() as u64 ^ solvency)
                    })();
                    h.r64(r)
                }
            }
        }
        // oracle record(): a trade's settlement folds the last slot's return into the EWMA and the
        // cumulative sum. args: previous price, latest price (u128 raw), slots since the last
        // write, variance (u128 raw), lambda bps, new price (u128 raw)
        20 => {
            let mut accumulator = Accumulator {
                last_slot: 1_000,
                last_price: Decimal::from_raw(arg128(d, 2)),
                previous_price: Decimal::from_raw(arg128(d, 0)),
                cumulative: 123_456_789,
                variance: Decimal::from_raw(arg128(d, 5)),
                variance_slot: 999,
            };
            let started = accumulator.record(1_000 + arg(d, 4), Decimal::from_raw(arg128(d, 8)), arg(d, 7) as u16);
            h.add(started.unwrap_or(7));
            h.dec(accumulator.variance);
            h.add(accumulator.cumulative as u64);
        }
        // twap over n checkpoints (n = arg0), now = arg1, window = arg2; 22 builds the ring only
        21 | 22 => twap_case(d, op, &mut h),
        // refresh_collateral math (no pyth), as instructions/refresh_collateral.rs runs it:
        // variance decayed to now, volatility, band over the window, confidence bps, two banded
        // prices, annualize, borrow_rate, collateral_ratio_bps. args: variance, twap (u128 raw),
        // window, slots_per_year, r0, beta, gamma (1e-12 units), cr_min bps, floor bps, slots since
        // the last write, lambda bps
        23 => {
            let r = (|| {
                let accumulator = Accumulator { last_slot: 1_000, last_price: Decimal::ONE, previous_price: Decimal::ONE, cumulative: 0, variance: Decimal::from_raw(arg128(d, 0)), variance_slot: 999 };
                let variance = accumulator.variance_at(1_000 + arg(d, 11), arg(d, 12) as u16);
                let twap_p = Decimal::from_raw(arg128(d, 2));
                let sigma_slot = volatility(variance);
                let band = volatility_over(sigma_slot, arg(d, 4));
                let confidence_bps = u64::try_from(band.raw().saturating_mul(10_000).div_ceil(rwa_math::SCALE)).unwrap_or(u64::MAX).min(5_000);
                let low = twap_p.mul_div_int(10_000 - confidence_bps as u128, 10_000, Rounding::Down)?;
                let liquidation = twap_p.mul_div_int(10_000 - confidence_bps as u128, 10_000, Rounding::Down)?;
                let sigma = annualize(sigma_slot, arg(d, 5))?;
                let rate = borrow_rate(Decimal::from_raw(arg(d, 6) as u128 * 1_000_000), Decimal::from_raw(arg(d, 7) as u128 * 1_000_000), sigma)?;
                let cr = collateral_ratio_bps(arg(d, 9) as u16, Decimal::from_raw(arg(d, 8) as u128 * 1_000_000), sigma, arg(d, 10) as u16)?;
                Ok::<_, MathError>(confidence_bps ^ low.raw() as u64 ^ liquidation.raw() as u64 ^ rate.raw() as u64 ^ cr ^ sigma.raw() as u64)
            })();
            h.r64(r)
        }
        // accrue(debt, rate raw, slots, slots_per_year)
        24 => h.add(accrue(arg(d, 0), Decimal::from_raw(arg128(d, 1)), arg(d, 3), arg(d, 4))),
        // obligation valuation of one collateral: amount, price raw, cr_bps, liq_cr_bps
        25 => {
            let r = (|| {
                let price = Decimal::from_raw(arg128(d, 1));
                let low = collateral_value(arg(d, 0), price, 6, 6, Rounding::Down)?;
                let mid = collateral_value(arg(d, 0), price, 6, 6, Rounding::Down)?;
                let lim = limit_at_ratio(low, arg(d, 3))?;
                let liq = limit_at_ratio(low, arg(d, 4))?;
                Ok::<_, MathError>(low ^ mid ^ lim ^ liq)
            })();
            h.r64(r)
        }
        // portfolio_sigma over n = arg0 assets
        26 => {
            let n = (arg(d, 0) as usize).min(8);
            let mut w = [0u64; 8];
            let mut s = [Decimal::ZERO; 8];
            for i in 0..n { w[i] = 1_000_000 * (i as u64 + 1); s[i] = Decimal::from_raw(1_000_000_000_000_000 * (i as u128 + 2)); }
            let corr = |i: usize, j: usize| -> i16 { if (i + j) % 2 == 0 { 5_000 } else { -2_000 } };
            h.rdec(portfolio_sigma(&w[..n], &s[..n], &corr))
        }
        _ => return 2,
    }
    h.0
}

/// The u32 the program compares against (never 0, so a mismatch is always an error).
pub fn check32(sum: u64) -> u32 { ((sum ^ (sum >> 32)) as u32) | 1 }

#[cfg(target_arch = "bpf")]
mod sbf {
    use core::alloc::{GlobalAlloc, Layout};

    #[no_mangle]
    pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
        // Serialized input with zero accounts: u64 count (0), u64 data length, data.
        let len = *(input.add(8) as *const u64) as usize;
        let data = core::slice::from_raw_parts(input.add(16), len);
        let got = super::check32(super::run(data));
        let want = if len >= 6 { u32::from_le_bytes([data[2], data[3], data[4], data[5]]) } else { 0 };
        if got == want { 0 } else { got as u64 }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! { loop {} }

    struct Bump;
    const HEAP_START: usize = 0x3_0000_0000;
    const HEAP_LEN: usize = 32 * 1024;
    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let pos_ptr = HEAP_START as *mut usize;
            let mut pos = *pos_ptr;
            if pos == 0 { pos = HEAP_START + HEAP_LEN; }
            pos = pos.saturating_sub(layout.size()) & !(layout.align().wrapping_sub(1));
            if pos < HEAP_START + 8 { return core::ptr::null_mut(); }
            *pos_ptr = pos;
            pos as *mut u8
        }
        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }
    #[global_allocator]
    static A: Bump = Bump;
}

//! Prints "label hexdata" lines for the runner, with the expected checksum computed natively
//! (x86_64, real u128 arithmetic) from the same probe code; also self-checks the u64-only i128
//! helpers against native u128 arithmetic.
use rwa_cu_probe::{check32, run, wide_helpers::*};

const E18: u128 = 1_000_000_000_000_000_000;

fn case(label: &str, op: u8, kind: u8, params: [u128; 3], args: &[u64]) {
    let mut d = vec![0u8; 56 + 8 * args.len()];
    d[0] = op;
    d[1] = kind;
    for (i, p) in params.iter().enumerate() {
        d[8 + 16 * i..24 + 16 * i].copy_from_slice(&p.to_le_bytes());
    }
    for (i, a) in args.iter().enumerate() {
        d[56 + 8 * i..64 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let sum = run(&d);
    d[2..6].copy_from_slice(&check32(sum).to_le_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    println!("{label} {hex}");
}
fn lo(x: u128) -> u64 { x as u64 }
fn hi(x: u128) -> u64 { (x >> 64) as u64 }

fn selfcheck() {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
    for i in 0..200_000u32 {
        let shape = |x: u64, k: u32| if k % 4 == 0 { x >> (x % 64) } else { x };
        let a = (shape(next(), i) as u128) << if i % 3 == 0 { 64 } else { 0 } | shape(next(), i / 3) as u128;
        let b = (if i % 5 < 2 { shape(next(), i / 7) as u128 } else { 0 }) << 64 | shape(next(), i / 11) as u128;
        let mut o = [0u64; 4];
        unsafe {
            __rwa_mul128(o.as_mut_ptr(), lo(a), hi(a), lo(b), hi(b));
            assert_eq!((o[0], o[1]), (lo(a.wrapping_mul(b)), hi(a.wrapping_mul(b))), "mul {a} {b}");
            __rwa_umulo128(o.as_mut_ptr(), lo(a), hi(a), lo(b), hi(b));
            let (p, of) = a.overflowing_mul(b);
            assert_eq!((o[0], o[1], o[2]), (lo(p), hi(p), of as u64), "umulo {a} {b}");
            if b != 0 {
                __rwa_udivrem128(o.as_mut_ptr(), lo(a), hi(a), lo(b), hi(b));
                assert_eq!((o[0], o[1], o[2], o[3]), (lo(a / b), hi(a / b), lo(a % b), hi(a % b)), "div {a} {b}");
            }
            let sh = (next() % 128) as u32;
            __rwa_shl128(o.as_mut_ptr(), lo(a), hi(a), sh as u64);
            assert_eq!((o[0], o[1]), (lo(a << sh), hi(a << sh)));
            __rwa_lshr128(o.as_mut_ptr(), lo(a), hi(a), sh as u64);
            assert_eq!((o[0], o[1]), (lo(a >> sh), hi(a >> sh)));
            __rwa_ashr128(o.as_mut_ptr(), lo(a), hi(a), sh as u64);
            let sa = ((a as i128) >> sh) as u128;
            assert_eq!((o[0], o[1]), (lo(sa), hi(sa)));
            let (x, y) = (next() >> (i % 40), next() >> (i % 37));
            __rwa_umulo64(o.as_mut_ptr(), x, y);
            let (p, of) = x.overflowing_mul(y);
            assert_eq!((o[0], o[1]), (p, of as u64));
        }
    }
    eprintln!("helpers self-check: 200000 random cases OK");
}

fn main() {
    selfcheck();
    let linear = [E18 / 1_000_000, E18, 0]; // slope 0.000001, intercept 1
    let expo = [E18 / 2, E18 / 100_000, 0]; // a 0.5, k 0.00001
    let sig = [100 * E18, E18 / 2_000, 10_000 * E18]; // max 100, k 0.0005, midpoint 10000
    let max_supply: u64 = 1_000_000_000_000; // 1,000,000 tokens, 6 decimals
    let amount: u64 = 1_000_000_000; // 1,000 tokens
    let quote: u64 = 1_000_000_000; // 1,000 quote tokens (6 decimals)
    println!("noop {}", { let mut d = vec![0u8; 56]; let c = check32(run(&d)); d[2..6].copy_from_slice(&c.to_le_bytes()); d.iter().map(|b| format!("{b:02x}")).collect::<String>() });
    for (name, kind, p) in [("linear", 0u8, linear), ("exponential", 1, expo), ("sigmoid", 2, sig)] {
        for (sname, supply) in [("s10k", 10_000_000_000u64), ("s500k", 500_000_000_000)] {
            case(&format!("{name}.{sname}.buy_cost"), 1, kind, p, &[supply, amount]);
            case(&format!("{name}.{sname}.sell_proceeds"), 2, kind, p, &[supply, amount]);
            case(&format!("{name}.{sname}.buy_amount_for_quote"), 3, kind, p, &[supply, quote, max_supply - supply]);
            case(&format!("{name}.{sname}.solvency_sell_all"), 4, kind, p, &[supply]);
            case(&format!("{name}.{sname}.spot_price"), 5, kind, p, &[supply]);
            case(&format!("{name}.{sname}.sell_amount_for_quote"), 6, kind, p, &[supply, quote]);
            case(&format!("{name}.{sname}.buy_exact_in_all_math"), 8, kind, p, &[supply, quote, max_supply, 30]);
            case(&format!("{name}.{sname}.sell_exact_in_all_math"), 9, kind, p, &[supply, amount, 0, 30]);
            case(&format!("{name}.{sname}.buy_exact_out_all_math"), 11, kind, p, &[supply, amount, 0, 30]);
            case(&format!("{name}.{sname}.sell_exact_out_all_math"), 10, kind, p, &[supply, quote, 0, 30]);
        }
        case(&format!("{name}.validate_max_supply"), 7, kind, p, &[max_supply]);
    }
    let p0 = E18;
    let p1 = E18 + E18 / 20;
    let var: u128 = 3_170_000_000; // per-slot variance for ~50% annual vol
    let p2 = E18 + E18 / 25;
    case("oracle.record", 20, 0, [0; 3], &[lo(p0), hi(p0), lo(p1), hi(p1), 3, lo(var), hi(var), 9_400, lo(p2), hi(p2)]);
    case("oracle.twap_64", 21, 0, [0; 3], &[64, 1000 + 3 * 64 + 10, 150]);
    case("oracle.twap_64_baseline", 22, 0, [0; 3], &[64, 1000 + 3 * 64 + 10, 150]);
    let twap = E18 + E18 / 50;
    case("lending.refresh_collateral_math", 23, 0, [0; 3], &[lo(var), hi(var), lo(twap), hi(twap), 150, 78_840_000, 20_000_000_000, 500_000_000_000, 100_000_000_000, 15_000, 0, 3, 9_400]);
    let rate = E18 / 10;
    case("lending.accrue_150_slots", 24, 0, [0; 3], &[1_000_000_000, lo(rate), hi(rate), 150, 78_840_000]);
    case("lending.accrue_1_year", 24, 0, [0; 3], &[1_000_000_000, lo(rate), hi(rate), 78_840_000, 78_840_000]);
    let price = E18 + E18 / 2;
    case("lending.collateral_value_limits", 25, 0, [0; 3], &[amount, lo(price), hi(price), 15_000, 12_000]);
    case("lending.portfolio_sigma_3", 26, 0, [0; 3], &[3]);
    case("lending.portfolio_sigma_8", 26, 0, [0; 3], &[8]);
}

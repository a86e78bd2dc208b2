//! Avellaneda-Stoikov-style market making around the oracle TWAP.
//!
//! reservation price r = twap * (1 - q * gamma * sigma_T^2) (q: inventory away from target, in units
//! of the quote size; sigma_T the volatility over the horizon); half spread = base + k_vol * sigma * sqrt(T) + k_depth / depth, clamped; bid and
//! ask are r -/+ half spread, never crossed, never further than `max_deviation` from the TWAP, sizes
//! never above what the inventory can back, requoting only when the fair price moved more than
//! `requote_threshold` or the quote is about to expire.

use crate::intent::Intent;
use crate::view::MarketView;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarketMakerParams {
    /// Risk aversion gamma.
    pub risk_aversion: f64,
    /// Horizon T in slots over which inventory risk is priced.
    pub horizon_slots: f64,
    /// Minimum half spread as a fraction of price.
    pub base_half_spread: f64,
    /// Half spread added per unit of sigma * sqrt(T).
    pub volatility_factor: f64,
    /// Half spread added per 1 / depth (depth in whole tokens on the book).
    pub depth_factor: f64,
    pub max_half_spread: f64,
    /// Largest distance of either side from the TWAP (fraction).
    pub max_deviation: f64,
    /// Size per side, base units.
    pub quote_size: u64,
    /// Inventory the maker aims to hold, base units.
    pub target_inventory: u64,
    /// Largest inventory the maker will hold (no bids above it).
    pub max_inventory: u64,
    /// Requote when the fair price moved more than this fraction.
    pub requote_threshold: f64,
    pub quote_lifetime_slots: u64,
}

impl Default for MarketMakerParams {
    fn default() -> Self {
        MarketMakerParams {
            risk_aversion: 0.1,
            horizon_slots: 150.0,
            base_half_spread: 0.002,
            volatility_factor: 1.0,
            depth_factor: 0.005,
            max_half_spread: 0.03,
            max_deviation: 0.05,
            quote_size: 10_000_000,
            target_inventory: 50_000_000,
            max_inventory: 200_000_000,
            requote_threshold: 0.001,
            quote_lifetime_slots: 150,
        }
    }
}

/// Share of the program's quote band (around the curve's spot) the maker uses.
const SPOT_BAND_USE: f64 = 0.9;

/// The quote the maker wants now, or `None` when it should not quote.
pub fn desired_quote(view: &MarketView, p: &MarketMakerParams) -> Option<(f64, u64, f64, u64)> {
    if !(view.twap > 0.0) || !view.volatility.is_finite() {
        return None;
    }
    let unit = view.token_unit();
    let inventory_skew =
        (view.position.rwa as f64 - p.target_inventory as f64) / p.quote_size.max(1) as f64;
    let sigma = view.volatility * p.horizon_slots.sqrt();
    // Avellaneda-Stoikov reservation price: shade by inventory times the horizon variance.
    let reservation = view.twap * (1.0 - inventory_skew * p.risk_aversion * sigma * sigma);
    let depth_tokens: f64 = view
        .live_quotes()
        .filter(|q| !q.own)
        .map(|q| (q.bid_size + q.ask_size) as f64 / unit)
        .sum::<f64>()
        + 1.0;
    let half = (p.base_half_spread + p.volatility_factor * sigma + p.depth_factor / depth_tokens)
        .min(p.max_half_spread);
    // Keep the whole quote inside the TWAP band and inside the program's band around the curve's
    // spot (with a tenth of it kept as margin for the spot moving before the quote lands): clamp
    // the reservation price so that both sides fit, rather than clamping each side (which could
    // cross them). When the two bands do not meet (spot and TWAP far apart), do not quote: the
    // program would refuse it.
    let band = SPOT_BAND_USE * view.quote_band_bps as f64 / 10_000.0;
    let lowest = (view.twap * (1.0 - p.max_deviation)).max(view.spot * (1.0 - band)) / (1.0 - half);
    let highest =
        (view.twap * (1.0 + p.max_deviation)).min(view.spot * (1.0 + band)) / (1.0 + half);
    if !(half < 1.0) || lowest > highest {
        return None;
    }
    let reservation = reservation.clamp(lowest, highest);
    let bid = reservation * (1.0 - half);
    let ask = reservation * (1.0 + half);
    if !(bid > 0.0) || bid >= ask {
        return None;
    }
    // Sizes bounded by inventory: asks by RWA held, bids by quote held and the inventory cap.
    let ask_size = p.quote_size.min(view.position.rwa);
    let room = p.max_inventory.saturating_sub(view.position.rwa);
    let affordable = ((view.position.quote as f64 / view.quote_unit()) / bid * unit)
        .floor()
        .max(0.0) as u64;
    let bid_size = p.quote_size.min(room).min(affordable.saturating_sub(1));
    let cap = if view.rules.max_trade_amount > 0 {
        view.rules.max_trade_amount
    } else {
        u64::MAX
    };
    let (bid_size, ask_size) = (bid_size.min(cap), ask_size.min(cap));
    if bid_size == 0 && ask_size == 0 {
        return None;
    }
    Some((bid, bid_size, ask, ask_size))
}

/// The maker's step: requote when the fair price moved past the threshold or the quote is stale.
pub fn step(view: &MarketView, p: &MarketMakerParams) -> Vec<Intent> {
    let Some((bid, bid_size, ask, ask_size)) = desired_quote(view, p) else {
        return match view.position.resting_mid {
            Some(_) => vec![Intent::CancelQuote],
            None => vec![],
        };
    };
    let mid = (bid + ask) / 2.0;
    let own_live = view.live_quotes().find(|q| q.own);
    let expiring = own_live.is_none_or(|q| q.expiry_slot <= view.slot + p.quote_lifetime_slots / 4);
    let moved = view
        .position
        .resting_mid
        .is_none_or(|resting| ((mid - resting) / resting).abs() > p.requote_threshold);
    if !(expiring || moved) {
        return vec![];
    }
    let lifetime = if view.rules.max_quote_lifetime_slots > 0 {
        p.quote_lifetime_slots
            .min(view.rules.max_quote_lifetime_slots)
    } else {
        p.quote_lifetime_slots
    };
    vec![Intent::PostQuote {
        bid_price: bid,
        bid_size,
        ask_price: ask,
        ask_size,
        expiry_slot: view.slot + lifetime,
        sequence: view.position.sequence + 1,
    }]
}

/// Test views shared by the strategy tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::view::{MarketView, Position, QuoteView, RulesView};
    use rwa_math::{Curve, CurveMarket, Decimal};

    pub(crate) fn view(twap: f64, volatility: f64, rwa: u64, quote: u64) -> MarketView {
        let curve = CurveMarket::new(
            Curve::Linear {
                slope: Decimal::from_raw(1_000_000_000_000_000),
                intercept: Decimal::ONE,
            },
            6,
            6,
        )
        .unwrap();
        MarketView {
            slot: 1_000,
            curve,
            supply: 100_000_000,
            max_supply: 1_000_000_000_000,
            fee_bps: 30,
            spot: twap,
            twap,
            volatility,
            quote_band_bps: 1_000,
            paused: false,
            halted_until_slot: 0,
            quotes: vec![QuoteView {
                maker: 1,
                own: false,
                bid_price: twap * 0.98,
                bid_size: 5_000_000,
                ask_price: twap * 1.02,
                ask_size: 5_000_000,
                expiry_slot: 2_000,
            }],
            position: Position {
                rwa,
                quote,
                sequence: 7,
                resting_mid: None,
            },
            rules: RulesView::default(),
            primary: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::view;
    use super::*;
    use proptest::prelude::*;

    /// The program refuses quotes further than its band from the curve's spot: with the spot 8%
    /// above a lagging TWAP the maker shifts its quote into that band, and with the spot 20% away
    /// (the TWAP band and the spot band do not meet) it does not quote at all.
    #[test]
    fn quotes_stay_inside_the_programs_band_around_spot() {
        let p = MarketMakerParams::default();
        let mut moved = view(10.0, 0.001, 50_000_000, 1_000_000_000);
        moved.spot = 10.8;
        let (bid, _, ask, _) = desired_quote(&moved, &p).expect("bands overlap");
        for price in [bid, ask] {
            let deviation = (price - moved.spot).abs() / moved.spot;
            assert!(
                deviation <= 0.09 + 1e-12,
                "{price} is {deviation} from spot"
            );
            assert!((price - 10.0).abs() / 10.0 <= p.max_deviation + 1e-12);
        }
        moved.spot = 12.0;
        assert_eq!(desired_quote(&moved, &p), None);
        // A tighter RuleSet band moves the quote with it.
        let mut tight = view(10.0, 0.001, 50_000_000, 1_000_000_000);
        tight.spot = 10.3;
        tight.quote_band_bps = 300;
        let (bid, _, ask, _) = desired_quote(&tight, &p).expect("bands overlap");
        assert!(bid >= 10.3 * (1.0 - 0.027) - 1e-9 && ask <= 10.3 * (1.0 + 0.027) + 1e-9);
    }

    #[test]
    fn quotes_around_twap_with_inventory_skew() {
        let p = MarketMakerParams::default();
        let (bid, _, ask, _) =
            desired_quote(&view(100.0, 0.0001, 50_000_000, 10_000_000_000), &p).unwrap();
        assert!(bid < 100.0 && ask > 100.0);
        // long inventory: quotes shift down to sell
        let (long_bid, _, long_ask, _) =
            desired_quote(&view(100.0, 0.0001, 150_000_000, 10_000_000_000), &p).unwrap();
        assert!(long_bid < bid && long_ask < ask);
        match step(&view(100.0, 0.0001, 50_000_000, 10_000_000_000), &p)[0] {
            Intent::PostQuote {
                sequence,
                expiry_slot,
                ..
            } => assert_eq!((sequence, expiry_slot), (8, 1_150)),
            ref other => panic!("{other:?}"),
        }
    }

    proptest! {
        /// Never crossed, never outside the TWAP band, never bigger than the inventory backs.
        #[test]
        fn never_crossed_or_beyond_inventory(twap in 0.01f64..10_000.0, volatility in 0.0f64..0.05, rwa in 0u64..500_000_000, quote in 0u64..100_000_000_000, size in 1u64..100_000_000) {
            let p = MarketMakerParams { quote_size: size, ..MarketMakerParams::default() };
            let v = view(twap, volatility, rwa, quote);
            if let Some((bid, bid_size, ask, ask_size)) = desired_quote(&v, &p) {
                prop_assert!(bid < ask);
                prop_assert!(bid >= twap * (1.0 - p.max_deviation) * (1.0 - 1e-12) && ask <= twap * (1.0 + p.max_deviation) * (1.0 + 1e-12));
                prop_assert!(ask_size <= rwa);
                prop_assert!(bid_size as f64 / 1e6 * bid <= quote as f64 / 1e6);
                prop_assert!(rwa + bid_size <= p.max_inventory.max(rwa));
            }
        }
    }
}

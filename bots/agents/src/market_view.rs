//! `rwa-agents market show|list`: what a maker needs to see, from chain state, as JSON or a table.

use anyhow::Result;
use rwa_math::{Decimal, Rounding};
use serde::Serialize;

use crate::chain::MarketSnapshot;

#[derive(Debug, Serialize)]
pub struct QuoteView {
    pub maker: String,
    pub owner: String,
    pub live: bool,
    pub bid_price: String,
    pub bid_size: u64,
    pub ask_price: String,
    pub ask_size: u64,
    pub expiry_slot: u64,
    pub sequence: u64,
    pub rwa_inventory: u64,
    pub quote_inventory: u64,
}

#[derive(Debug, Serialize)]
pub struct MarketView {
    pub slot: u64,
    pub market: String,
    pub name: String,
    pub symbol: String,
    pub rwa_mint: String,
    pub quote_mint: String,
    pub curve: serde_json::Value,
    pub paused: bool,
    pub fee_bps: u16,
    pub supply: u64,
    pub max_supply: u64,
    pub reserve: u64,
    pub spot_price: String,
    pub twap_window_slots: u64,
    pub twap: Option<String>,
    pub volatility_per_slot: String,
    pub best_bid: Option<String>,
    pub best_ask: Option<String>,
    pub quotes: Vec<QuoteView>,
}

fn curve_json(curve: &rwa_math::Curve) -> serde_json::Value {
    match *curve {
        rwa_math::Curve::Linear { slope, intercept } => {
            serde_json::json!({"kind": "linear", "slope": slope.to_string(), "intercept": intercept.to_string()})
        }
        rwa_math::Curve::Exponential { a, k } => {
            serde_json::json!({"kind": "exponential", "a": a.to_string(), "k": k.to_string()})
        }
        rwa_math::Curve::Sigmoid {
            max_price,
            k,
            midpoint,
        } => {
            serde_json::json!({"kind": "sigmoid", "max_price": max_price.to_string(), "k": k.to_string(), "midpoint": midpoint.to_string()})
        }
    }
}

pub fn view(snapshot: &MarketSnapshot) -> Result<MarketView> {
    let market = &snapshot.market;
    let curve = market.curve().map_err(|e| anyhow::anyhow!("{e}"))?;
    let spot = market.spot_price().map_err(|e| anyhow::anyhow!("{e}"))?;
    let twap = snapshot.oracle.twap(snapshot.slot);
    let volatility = snapshot.oracle.volatility_per_slot(snapshot.slot);
    let mut quotes: Vec<QuoteView> = snapshot
        .makers
        .iter()
        .map(|(address, maker)| QuoteView {
            maker: address.to_string(),
            owner: maker.owner.to_string(),
            live: maker.is_live(snapshot.slot),
            bid_price: Decimal::from_raw(maker.bid_price).to_string(),
            bid_size: maker.bid_size,
            ask_price: Decimal::from_raw(maker.ask_price).to_string(),
            ask_size: maker.ask_size,
            expiry_slot: maker.expiry_slot,
            sequence: maker.sequence,
            rwa_inventory: maker.rwa_inventory,
            quote_inventory: maker.quote_inventory,
        })
        .collect();
    quotes.sort_by(|a, b| b.live.cmp(&a.live).then(a.maker.cmp(&b.maker)));
    let live = snapshot
        .makers
        .iter()
        .filter(|(_, m)| m.is_live(snapshot.slot));
    let best_bid = live
        .clone()
        .filter(|(_, m)| m.bid_size > 0)
        .map(|(_, m)| m.bid_price)
        .max();
    let best_ask = live
        .filter(|(_, m)| m.ask_size > 0)
        .map(|(_, m)| m.ask_price)
        .min();
    Ok(MarketView {
        slot: snapshot.slot,
        market: snapshot.address.to_string(),
        name: market.name.clone(),
        symbol: market.symbol.clone(),
        rwa_mint: market.rwa_mint.to_string(),
        quote_mint: market.quote_mint.to_string(),
        curve: curve_json(&curve),
        paused: market.paused,
        fee_bps: market.fee_bps,
        supply: market.supply,
        max_supply: market.max_supply,
        reserve: market.reserve,
        spot_price: spot.to_string(),
        twap_window_slots: snapshot.oracle.twap_window_slots,
        twap: twap.map(|p| p.to_string()),
        volatility_per_slot: volatility.to_string(),
        best_bid: best_bid.map(|p| Decimal::from_raw(p).to_string()),
        best_ask: best_ask.map(|p| Decimal::from_raw(p).to_string()),
        quotes,
    })
}

fn units(amount: u64, decimals: u8) -> String {
    Decimal::from_base_units(amount, decimals)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| amount.to_string())
}

fn short_price(text: &str) -> String {
    text.parse::<Decimal>()
        .ok()
        .and_then(|d| d.mul_div_int(1, 1_000_000_000_000, Rounding::Down).ok())
        .map(|d| Decimal::from_raw(d.raw() * 1_000_000_000_000).to_string())
        .unwrap_or_else(|| text.to_string())
}

/// A readable table for operators.
pub fn render_table(view: &MarketView, decimals: u8, quote_decimals: u8) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} ({})  market {}  slot {}\n",
        view.name, view.symbol, view.market, view.slot
    ));
    out.push_str(&format!("  curve        {}\n", view.curve));
    out.push_str(&format!(
        "  status       {}   fee {} bps\n",
        if view.paused { "PAUSED" } else { "trading" },
        view.fee_bps
    ));
    out.push_str(&format!(
        "  supply       {} / {}\n",
        units(view.supply, decimals),
        units(view.max_supply, decimals)
    ));
    out.push_str(&format!(
        "  reserve      {}\n",
        units(view.reserve, quote_decimals)
    ));
    out.push_str(&format!(
        "  spot price   {}\n",
        short_price(&view.spot_price)
    ));
    out.push_str(&format!(
        "  twap         {} (window {} slots)\n",
        view.twap
            .as_deref()
            .map(short_price)
            .unwrap_or_else(|| "-".into()),
        view.twap_window_slots
    ));
    out.push_str(&format!(
        "  volatility   {} per sqrt(slot)\n",
        short_price(&view.volatility_per_slot)
    ));
    out.push_str(&format!(
        "  best bid/ask {} / {}\n",
        view.best_bid
            .as_deref()
            .map(short_price)
            .unwrap_or_else(|| "-".into()),
        view.best_ask
            .as_deref()
            .map(short_price)
            .unwrap_or_else(|| "-".into())
    ));
    out.push_str(&format!(
        "\n  {:<44} {:>5} {:>14} {:>14} {:>14} {:>14} {:>12} {:>8}\n",
        "maker", "live", "bid", "bid size", "ask", "ask size", "expiry", "seq"
    ));
    if view.quotes.is_empty() {
        out.push_str("  (no makers)\n");
    }
    for quote in &view.quotes {
        out.push_str(&format!(
            "  {:<44} {:>5} {:>14} {:>14} {:>14} {:>14} {:>12} {:>8}\n",
            quote.maker,
            if quote.live { "yes" } else { "no" },
            short_price(&quote.bid_price),
            units(quote.bid_size, decimals),
            short_price(&quote.ask_price),
            units(quote.ask_size, decimals),
            quote.expiry_slot,
            quote.sequence
        ));
    }
    out
}

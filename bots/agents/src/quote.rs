//! `rwa-agents curve quote`: what the program would charge or pay, from the same rwa-math code.

use anyhow::{anyhow, bail, Result};
use rwa_math::{fees::fee_on, CurveMarket, Decimal};
use serde::Serialize;

use crate::curve_spec::parse_curve;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Serialize)]
pub struct QuoteOutput {
    pub side: &'static str,
    /// Quote base units paid (buy, ceiling) or received (sell, floor), fees excluded.
    pub quote_amount: u64,
    pub fee_bps: u16,
    /// Fee on top of a buy / deducted from a sale, quote base units (ceiling).
    pub fee: u64,
    /// What the trader pays in total (buy) or receives net (sell).
    pub trader_total: u64,
    pub supply_before: u64,
    pub supply_after: u64,
    pub price_before: String,
    pub price_after: String,
    pub average_price: String,
    pub rounding: &'static str,
}

pub struct QuoteRequest<'a> {
    pub curve_json: &'a str,
    pub supply: u64,
    pub amount: u64,
    pub side: Side,
    pub decimals: u8,
    pub quote_decimals: u8,
    pub fee_bps: u16,
    pub max_supply: Option<u64>,
}

pub fn quote(request: &QuoteRequest) -> Result<QuoteOutput> {
    let curve = parse_curve(request.curve_json)?;
    let market =
        CurveMarket::new(curve, request.decimals, request.quote_decimals).map_err(|e| {
            anyhow!(
                "{e} (decimals and quote decimals must be at most {})",
                rwa_math::curve::MAX_TOKEN_DECIMALS
            )
        })?;
    let max_supply = request.max_supply.unwrap_or(match request.side {
        Side::Buy => request
            .supply
            .checked_add(request.amount)
            .ok_or_else(|| anyhow!("supply + amount overflows u64"))?,
        Side::Sell => request.supply,
    });
    market
        .validate(max_supply.max(1))
        .map_err(|e| anyhow!("curve rejected: {e}"))?;
    if request.amount == 0 {
        bail!("--amount must be greater than zero");
    }
    let (quote_amount, supply_after) = match request.side {
        Side::Buy => {
            let after = request
                .supply
                .checked_add(request.amount)
                .ok_or_else(|| anyhow!("supply + amount overflows u64"))?;
            if after > max_supply {
                bail!(
                    "buying {} would take supply to {after}, above max supply {max_supply}",
                    request.amount
                );
            }
            (
                market
                    .buy_cost(request.supply, request.amount)
                    .map_err(|e| anyhow!("cannot price the buy: {e}"))?,
                after,
            )
        }
        Side::Sell => {
            if request.amount > request.supply {
                bail!(
                    "cannot sell {} base units: supply is only {}",
                    request.amount,
                    request.supply
                );
            }
            (
                market
                    .sell_proceeds(request.supply, request.amount)
                    .map_err(|e| anyhow!("cannot price the sale: {e}"))?,
                request.supply - request.amount,
            )
        }
    };
    let fee = fee_on(quote_amount, request.fee_bps).map_err(|e| anyhow!("--fee-bps: {e}"))?;
    let trader_total = match request.side {
        Side::Buy => quote_amount
            .checked_add(fee)
            .ok_or_else(|| anyhow!("total overflows u64"))?,
        Side::Sell => quote_amount - fee,
    };
    let tokens =
        Decimal::from_base_units(request.amount, request.decimals).map_err(|e| anyhow!("{e}"))?;
    let quote_tokens = Decimal::from_base_units(quote_amount, request.quote_decimals)
        .map_err(|e| anyhow!("{e}"))?;
    let average = quote_tokens
        .div(tokens, rwa_math::Rounding::Down)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(QuoteOutput {
        side: match request.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        },
        quote_amount,
        fee_bps: request.fee_bps,
        fee,
        trader_total,
        supply_before: request.supply,
        supply_after,
        price_before: market
            .spot_price(request.supply)
            .map_err(|e| anyhow!("{e}"))?
            .to_string(),
        price_after: market
            .spot_price(supply_after)
            .map_err(|e| anyhow!("{e}"))?
            .to_string(),
        average_price: average.to_string(),
        rounding: match request.side {
            Side::Buy => "ceil (pool-favouring)",
            Side::Sell => "floor (pool-favouring)",
        },
    })
}

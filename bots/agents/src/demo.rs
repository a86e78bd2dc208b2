//! `rwa-agents demo`: the programs running in the in-process Solana runtime. Creates one market per
//! curve kind, lets three traders trade across a few dozen slots, and prints each trade with the
//! price it moved to, the oracle TWAP and the reserve, then a solvency summary per market.

use anyhow::{anyhow, Result};
use rwa_harness::market::{market_args, trade_ix, update_oracle_ix, MarketAddresses, TradeKind, TraderAccounts};
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::TestEnv;
use rwa_market::events::{TradeExecuted, TradeSide};
use rwa_math::{Curve, Decimal};

const USDC: u64 = 1_000_000;
const TOKEN: u64 = 1_000_000;

struct DemoMarket {
    symbol: &'static str,
    addresses: MarketAddresses,
}

fn d(text: &str) -> Decimal {
    text.parse().expect("demo constants are valid decimals")
}

fn fmt_units(units: u64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals);
    format!("{}.{:0width$}", units / scale, units % scale, width = decimals as usize)
}

fn fmt_price(raw: u128) -> String {
    format!("{:.6}", Decimal::from_raw(raw).to_f64())
}

pub fn run() -> Result<()> {
    let mut env = TestEnv::new();
    let usdc = env.create_mint(6);
    let specs: [(&str, &str, Curve, u64); 3] = [
        ("TBILL27", "US Treasury Bill 2027", Curve::Linear { slope: d("0.00001"), intercept: d("98.5") }, 1_000_000 * TOKEN),
        ("SOLAR", "Solar Farm Revenue Note", Curve::Exponential { a: d("10"), k: d("0.0001") }, 100_000 * TOKEN),
        ("NYREIT", "Manhattan Office REIT", Curve::Sigmoid { max_price: d("250"), k: d("0.0002"), midpoint: d("20000") }, 200_000 * TOKEN),
    ];
    println!("rwa-agents demo: rwa_market running natively inside the Solana runtime (LiteSVM + Agave 4.2)\n");
    let mut markets = Vec::new();
    for (symbol, name, curve, max_supply) in specs {
        let mut args = market_args(curve, 6, max_supply);
        args.name = name.to_string();
        args.symbol = symbol.to_string();
        args.twap_window_slots = 20;
        let (fixture, _) = env.create_market(Some(usdc), args).map_err(|e| anyhow!("create market {symbol}: {e}"))?;
        let price = env.market_state(&fixture.addresses).spot_price().map_err(|e| anyhow!("{e:?}"))?;
        println!("created {symbol:<7} {name:<26} {:<12} start price {:>10} USDC  market {}", kind_name(&curve), fmt_price(price.raw()), fixture.addresses.market);
        markets.push(DemoMarket { symbol, addresses: fixture.addresses });
    }

    let names = ["alice", "bob", "carol"];
    let mut traders: Vec<(Keypair, Vec<TraderAccounts>)> = Vec::new();
    for _ in names {
        let keypair = env.new_funded_keypair(10_000_000_000);
        let quote = env.create_token_account(&usdc, &rwa_harness::solana_signer::Signer::pubkey(&keypair));
        env.mint_to(&usdc, &quote, 1_000_000 * USDC);
        let mut per_market = Vec::new();
        for market in &markets {
            let rwa = env.create_token_account(&market.addresses.rwa_mint, &rwa_harness::solana_signer::Signer::pubkey(&keypair));
            per_market.push(TraderAccounts { trader: rwa_harness::solana_signer::Signer::pubkey(&keypair), rwa_account: rwa, quote_account: quote });
        }
        traders.push((keypair, per_market));
    }

    // (slots to advance, trader, market, trade)
    let script: Vec<(u64, usize, usize, TradeKind)> = vec![
        (1, 0, 0, TradeKind::BuyExactOut { amount: 1_000 * TOKEN, max_quote_in: 110_000 * USDC }),
        (0, 1, 1, TradeKind::BuyExactIn { quote_in: 20_000 * USDC, min_amount_out: 1_000 * TOKEN }),
        (3, 2, 2, TradeKind::BuyExactOut { amount: 500 * TOKEN, max_quote_in: 10_000 * USDC }),
        (2, 0, 1, TradeKind::BuyExactOut { amount: 2_000 * TOKEN, max_quote_in: 50_000 * USDC }),
        (4, 1, 0, TradeKind::BuyExactIn { quote_in: 250_000 * USDC, min_amount_out: 2_000 * TOKEN }),
        (2, 2, 2, TradeKind::BuyExactIn { quote_in: 100_000 * USDC, min_amount_out: 1_000 * TOKEN }),
        (5, 0, 0, TradeKind::SellExactIn { amount: 400 * TOKEN, min_quote_out: 35_000 * USDC }),
        (1, 1, 1, TradeKind::SellExactOut { quote_out: 5_000 * USDC, max_amount_in: 1_000 * TOKEN }),
        (3, 2, 2, TradeKind::SellExactIn { amount: 200 * TOKEN, min_quote_out: 1 }),
        (2, 0, 2, TradeKind::BuyExactOut { amount: 300 * TOKEN, max_quote_in: 50_000 * USDC }),
    ];
    println!("\n{:>10}  {:<6} {:<7} {:<4} {:>14} {:>16} {:>11} {:>12} {:>12} {:>18}", "slot", "trader", "market", "side", "amount", "quote", "fee", "price", "twap", "reserve");
    for (advance, trader, market, kind) in script {
        env.advance_slots(advance);
        let (keypair, accounts) = &traders[trader];
        let addresses = markets[market].addresses;
        let result = env.send(&[trade_ix(&addresses, &accounts[market], kind)], &[keypair]).map_err(|e| anyhow!("trade failed: {e}"))?;
        let event = result
            .events::<TradeExecuted>(&rwa_market::ID)
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("trade emitted no TradeExecuted event"))?;
        let twap = env.oracle_state(&addresses).twap(env.slot()).map_err(|e| anyhow!("{e:?}"))?.map(|p| p.raw()).unwrap_or(0);
        println!(
            "{:>10}  {:<6} {:<7} {:<4} {:>14} {:>16} {:>11} {:>12} {:>12} {:>18}",
            event.slot,
            names[trader],
            markets[market].symbol,
            if event.side == TradeSide::Buy { "buy" } else { "sell" },
            fmt_units(event.amount, 6),
            fmt_units(event.quote_amount, 6),
            fmt_units(event.fee, 6),
            fmt_price(event.price_after),
            fmt_price(twap),
            fmt_units(event.reserve, 6),
        );
    }
    env.advance_slots(10);
    for market in &markets {
        env.send(&[update_oracle_ix(&market.addresses)], &[]).map_err(|e| anyhow!("update_oracle: {e}"))?;
    }

    println!("\n{:<7} {:>14} {:>18} {:>18} {:>9} {:>12} {:>12} {:>12}", "market", "supply", "reserve", "sell-back value", "covered", "spot", "twap", "vol/slot");
    for market in &markets {
        let state = env.market_state(&market.addresses);
        let oracle = env.oracle_state(&market.addresses);
        let curve = state.curve_market().map_err(|e| anyhow!("{e:?}"))?;
        let sell_back = curve.sell_proceeds(state.supply, state.supply).map_err(|e| anyhow!("{e}"))?;
        let coverage = if sell_back == 0 { f64::INFINITY } else { state.reserve as f64 / sell_back as f64 };
        println!(
            "{:<7} {:>14} {:>18} {:>18} {:>8.6}x {:>12} {:>12} {:>12.6}",
            market.symbol,
            fmt_units(state.supply, 6),
            fmt_units(state.reserve, 6),
            fmt_units(sell_back, 6),
            coverage,
            fmt_price(state.spot_price().map_err(|e| anyhow!("{e:?}"))?.raw()),
            fmt_price(oracle.twap(env.slot()).map_err(|e| anyhow!("{e:?}"))?.map(|p| p.raw()).unwrap_or(0)),
            oracle.volatility_per_slot().map_err(|e| anyhow!("{e:?}"))?.to_f64(),
        );
        if state.reserve < sell_back {
            return Err(anyhow!("{}: reserve below the sell-back value", market.symbol));
        }
    }
    println!("\nEvery reserve covers selling its whole supply back down the curve (rounding favours the pool).");
    Ok(())
}

fn kind_name(curve: &Curve) -> &'static str {
    match curve {
        Curve::Linear { .. } => "linear",
        Curve::Exponential { .. } => "exponential",
        Curve::Sigmoid { .. } => "sigmoid",
    }
}

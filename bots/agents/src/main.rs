//! `rwa-agents`: operator CLI and (as the project grows) the agent daemon.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod curve_spec;
mod demo;
mod quote;

#[derive(Parser)]
#[command(name = "rwa-agents", version, about = "Agents and operator tools for the RWA agent economy on Solana")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bonding-curve tools.
    Curve {
        #[command(subcommand)]
        command: CurveCommand,
    },
    /// Run the programs in the in-process Solana runtime: markets for each curve kind and a few trades.
    Demo,
}

#[derive(Subcommand)]
enum CurveCommand {
    /// Price a buy or sell exactly as rwa_market would (same rwa-math code), as JSON.
    Quote {
        /// Curve JSON, numbers as decimal strings, e.g. '{"kind":"linear","slope":"0.000001","intercept":"1"}'.
        #[arg(long)]
        curve: String,
        /// Current supply in RWA base units.
        #[arg(long)]
        supply: u64,
        /// Amount to buy or sell in RWA base units.
        #[arg(long)]
        amount: u64,
        #[arg(long, value_enum)]
        side: quote::Side,
        /// Decimals of the RWA mint (0..=9).
        #[arg(long)]
        decimals: u8,
        /// Decimals of the quote mint (0..=9).
        #[arg(long)]
        quote_decimals: u8,
        /// Trading fee in basis points (reported separately; `quote_amount` excludes it).
        #[arg(long, default_value_t = 0)]
        fee_bps: u16,
        /// Market max supply in base units (defaults to the supply the trade reaches).
        #[arg(long)]
        max_supply: Option<u64>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Curve { command: CurveCommand::Quote { curve, supply, amount, side, decimals, quote_decimals, fee_bps, max_supply } } => {
            let output = quote::quote(&quote::QuoteRequest {
                curve_json: &curve,
                supply,
                amount,
                side,
                decimals,
                quote_decimals,
                fee_bps,
                max_supply,
            })?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(())
        }
        Command::Demo => demo::run(),
    }
}

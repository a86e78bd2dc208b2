// Checks that clients we did not write can use our programs: the standard Anchor TypeScript
// client (@anchor-lang/core, anchor-lang 1.x IDL format) loads the committed IDLs, fetches and
// decodes a market, a maker quote, a lending market and obligation and a RuleSet, and sends a buy
// through `program.methods`. Usage: tsx check.ts <fixture.json>; prints a JSON summary; exits
// non-zero on any mismatch.
import * as anchor from "@anchor-lang/core";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import BN from "bn.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

type Fixture = {
  rpc: string;
  ws: string;
  trader_keypair: number[];
  market: Record<string, string>;
  trader: { rwa_account: string; quote_account: string };
  maker: string;
  lending_market: string;
  obligation: string;
  rule_set: string;
  buy_amount: number;
  expected: { symbol: string; supply: number; ask_size: number; total_shares: number; obligation_collateral: number; max_trade_amount: number };
};

function fail(message: string): never {
  console.error(`ts-client check failed: ${message}`);
  process.exit(1);
}

function expectEqual(what: string, actual: unknown, expected: unknown) {
  if (String(actual) !== String(expected)) fail(`${what}: got ${actual}, expected ${expected}`);
}

const here = dirname(fileURLToPath(import.meta.url));
const idl = (name: string) => JSON.parse(readFileSync(join(here, "..", "..", "idl", `${name}.json`), "utf8"));

async function main() {
  const fixture: Fixture = JSON.parse(readFileSync(process.argv[2] ?? fail("fixture path missing"), "utf8"));
  const connection = new Connection(fixture.rpc, { commitment: "confirmed", wsEndpoint: fixture.ws });
  const trader = Keypair.fromSecretKey(Uint8Array.from(fixture.trader_keypair));
  const provider = new anchor.AnchorProvider(connection, new anchor.Wallet(trader), { commitment: "confirmed" });
  const market = new anchor.Program(idl("rwa_market"), provider);
  const lending = new anchor.Program(idl("rwa_lending"), provider);
  const dao = new anchor.Program(idl("rule_dao"), provider);
  const m = fixture.market;
  const pk = (text: string) => new PublicKey(text);

  const before: any = await (market.account as any).market.fetch(pk(m.market));
  expectEqual("market.symbol", before.symbol, fixture.expected.symbol);
  expectEqual("market.supply", before.supply.toString(), fixture.expected.supply);
  const maker: any = await (market.account as any).maker.fetch(pk(fixture.maker));
  expectEqual("maker.askSize", maker.askSize.toString(), fixture.expected.ask_size);
  const lendingMarket: any = await (lending.account as any).lendingMarket.fetch(pk(fixture.lending_market));
  expectEqual("lendingMarket.totalShares", lendingMarket.totalShares.toString(), fixture.expected.total_shares);
  const obligation: any = await (lending.account as any).obligation.fetch(pk(fixture.obligation));
  expectEqual("obligation.collaterals[0].amount", obligation.collaterals[0].amount.toString(), fixture.expected.obligation_collateral);
  const ruleSet: any = await (dao.account as any).ruleSet.fetch(pk(fixture.rule_set));
  expectEqual("ruleSet.rules.maxTradeAmount", ruleSet.rules.maxTradeAmount.toString(), fixture.expected.max_trade_amount);

  const [eventAuthority] = PublicKey.findProgramAddressSync([Buffer.from("__event_authority")], market.programId);
  const signature = await market.methods
    .buyExactOut(new BN(fixture.buy_amount), new BN("18446744073709551615"))
    .accountsStrict({
      trader: trader.publicKey,
      market: pk(m.market),
      rwaMint: pk(m.rwa_mint),
      quoteMint: pk(m.quote_mint),
      traderRwaAccount: pk(fixture.trader.rwa_account),
      traderQuoteAccount: pk(fixture.trader.quote_account),
      reserveVault: pk(m.reserve_vault),
      feeVault: pk(m.fee_vault),
      oracle: pk(m.oracle),
      tokenProgram: new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
      ruleSet: null,
      referrerQuoteAccount: null,
      eventAuthority,
      program: market.programId,
    } as any)
    .rpc();
  const after: any = await (market.account as any).market.fetch(pk(m.market));
  expectEqual("supply after the buy", after.supply.toString(), BigInt(fixture.expected.supply) + BigInt(fixture.buy_amount));
  console.log(JSON.stringify({ ok: true, signature, supply_before: before.supply.toString(), supply_after: after.supply.toString(), symbol: after.symbol }));
}

main().catch((error) => fail(error?.stack ?? String(error)));

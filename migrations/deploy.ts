// `anchor migrate` runs this after `anchor deploy`: it bootstraps the markets, the lending market
// and the rule DAO described in migrations/bootstrap.toml (same format as
// `rwa-agents bootstrap --config`), with the standard Anchor TypeScript client. Idempotent: what
// exists is skipped, and the keypairs a step needs are saved in the state file before the step is
// sent, so an interrupted run resumes without duplicating anything.
import * as anchor from "@anchor-lang/core";
import { Keypair, PublicKey, SystemProgram, Connection } from "@solana/web3.js";
import { createMint, getOrCreateAssociatedTokenAccount, mintTo, TOKEN_PROGRAM_ID } from "@solana/spl-token";
import BN from "bn.js";
import toml from "toml";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// CommonJS (migrations/package.json): `anchor migrate` compiles a host with ts-node that
// `require()`s this file and calls the export with a provider; `npm run migrate` (tsx) runs it
// directly. Both give __dirname.
const here = __dirname;
const repo = join(here, "..");
const idl = (name: string) => JSON.parse(readFileSync(join(repo, "idl", `${name}.json`), "utf8"));
const SCALE = 10n ** 18n;

/** Decimal string to 18-digit fixed point (exact, as rwa-math parses it). */
export function decimalRaw(text: string): BN {
  const match = /^(\d*)(?:\.(\d{0,18}))?$/.exec(text.trim());
  if (!match || (match[1] === "" && (match[2] ?? "") === "")) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const whole = BigInt(match[1] || "0");
  const fraction = BigInt((match[2] ?? "").padEnd(18, "0") || "0");
  return new BN((whole * SCALE + fraction).toString());
}

function curveParams(curve: any): { kind: number; params: BN[] } {
  switch (curve.kind) {
    case "linear": return { kind: 0, params: [decimalRaw(curve.slope), decimalRaw(curve.intercept), new BN(0)] };
    case "exponential": return { kind: 1, params: [decimalRaw(curve.a), decimalRaw(curve.k), new BN(0)] };
    case "sigmoid": return { kind: 2, params: [decimalRaw(curve.max_price), decimalRaw(curve.k), decimalRaw(curve.midpoint)] };
    default: throw new Error(`unknown curve kind ${JSON.stringify(curve.kind)}`);
  }
}

const pda = (seeds: (Buffer | Uint8Array)[], program: PublicKey) => PublicKey.findProgramAddressSync(seeds, program)[0];
const u64 = (value: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); return b; };

type State = { genesis_hash?: string; quote_mint?: string; quote_mint_keypair?: number[]; markets: Record<string, { market: string; rwa_mint: string; oracle: string; rwa_mint_keypair: number[]; authority_keypair: number[]; attached: boolean }>; lending_market?: string; dao?: string; rule_set?: string };

export async function bootstrap(provider: anchor.AnchorProvider, configPath: string, statePath: string): Promise<State> {
  const config = toml.parse(readFileSync(configPath, "utf8"));
  const state: State = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { markets: {} };
  // Holds keypairs: owner-only, like rwa-agents bootstrap writes it.
  const save = () => { writeFileSync(statePath + ".tmp", JSON.stringify(state, null, 2), { mode: 0o600 }); renameSync(statePath + ".tmp", statePath); };
  const connection: Connection = provider.connection;
  // The same state file format as `rwa-agents bootstrap`: it records the cluster it belongs to.
  const genesis = await connection.getGenesisHash();
  if (state.genesis_hash && state.genesis_hash !== genesis) {
    throw new Error(`${statePath} was written for another cluster (genesis ${state.genesis_hash}; this cluster's genesis is ${genesis}): its accounts do not exist here. Move it away or set RWA_BOOTSTRAP_STATE, then rerun.`);
  }
  state.genesis_hash = genesis;
  const payer: Keypair = (provider.wallet as any).payer;
  const exists = async (address: PublicKey) => (await connection.getAccountInfo(address)) !== null;
  const market = new anchor.Program(idl("rwa_market"), provider);
  const lending = new anchor.Program(idl("rwa_lending"), provider);
  const dao = new anchor.Program(idl("rule_dao"), provider);
  const eventAuthority = (program: PublicKey) => pda([Buffer.from("__event_authority")], program);

  // quote mint
  let quoteMint: PublicKey;
  let payerQuote: PublicKey | undefined;
  if (config.quote.mint) {
    quoteMint = new PublicKey(config.quote.mint);
  } else {
    if (!state.quote_mint_keypair) { const k = Keypair.generate(); state.quote_mint_keypair = Array.from(k.secretKey); state.quote_mint = k.publicKey.toBase58(); save(); }
    const mintKeypair = Keypair.fromSecretKey(Uint8Array.from(state.quote_mint_keypair));
    quoteMint = mintKeypair.publicKey;
    if (!(await exists(quoteMint))) {
      await createMint(connection, payer, payer.publicKey, null, config.quote.decimals ?? 6, mintKeypair);
      console.log(`created quote mint ${quoteMint.toBase58()}`);
    }
    if (config.quote.mint_to_payer) {
      payerQuote = (await getOrCreateAssociatedTokenAccount(connection, payer, quoteMint, payer.publicKey)).address;
      await mintTo(connection, payer, quoteMint, payerQuote, payer, BigInt(config.quote.mint_to_payer));
    }
  }
  state.quote_mint = quoteMint.toBase58();
  save();

  // markets
  const marketAddresses: Record<string, { market: PublicKey; rwaMint: PublicKey; oracle: PublicKey }> = {};
  for (const m of config.market ?? []) {
    if (!state.markets[m.symbol]) {
      const rwaMint = Keypair.generate(); const authority = Keypair.generate();
      const marketKey = pda([Buffer.from("market"), rwaMint.publicKey.toBuffer()], market.programId);
      state.markets[m.symbol] = { market: marketKey.toBase58(), rwa_mint: rwaMint.publicKey.toBase58(), oracle: pda([Buffer.from("oracle"), marketKey.toBuffer()], market.programId).toBase58(), rwa_mint_keypair: Array.from(rwaMint.secretKey), authority_keypair: Array.from(authority.secretKey), attached: false };
      save();
    }
    const entry = state.markets[m.symbol];
    const rwaMint = Keypair.fromSecretKey(Uint8Array.from(entry.rwa_mint_keypair));
    const authority = Keypair.fromSecretKey(Uint8Array.from(entry.authority_keypair));
    const marketKey = new PublicKey(entry.market);
    const oracle = new PublicKey(entry.oracle);
    if (!(await exists(marketKey))) {
      const { kind, params } = curveParams(m.curve);
      await market.methods
        .initializeMarket({ curveKind: kind, curveParams: params, rwaDecimals: m.rwa_decimals ?? 6, feeBps: m.fee_bps ?? 0, maxSupply: new BN(String(m.max_supply)), twapWindowSlots: new BN(m.twap_window_slots ?? 150), ewmaLambdaBps: m.ewma_lambda_bps ?? 9400, name: m.name, symbol: m.symbol, uri: m.uri ?? "" })
        .accountsStrict({
          payer: payer.publicKey, authority: authority.publicKey, market: marketKey, rwaMint: rwaMint.publicKey, quoteMint,
          reserveVault: pda([Buffer.from("reserve"), marketKey.toBuffer()], market.programId),
          feeVault: pda([Buffer.from("fee_vault"), marketKey.toBuffer()], market.programId),
          oracle, tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
          eventAuthority: eventAuthority(market.programId), program: market.programId,
        } as any)
        .signers([rwaMint, authority])
        .rpc();
      console.log(`created market ${m.symbol} ${marketKey.toBase58()}`);
    } else {
      console.log(`market ${m.symbol} exists: ${marketKey.toBase58()}`);
    }
    marketAddresses[m.symbol] = { market: marketKey, rwaMint: rwaMint.publicKey, oracle };
    if (m.seed_buy && payerQuote && (await (market.account as any).market.fetch(marketKey)).supply.isZero()) {
      const rwaAccount = (await getOrCreateAssociatedTokenAccount(connection, payer, rwaMint.publicKey, payer.publicKey)).address;
      await market.methods.buyExactOut(new BN(String(m.seed_buy)), new BN("18446744073709551615"))
        .accountsStrict({
          trader: payer.publicKey, market: marketKey, rwaMint: rwaMint.publicKey, quoteMint, traderRwaAccount: rwaAccount, traderQuoteAccount: payerQuote,
          reserveVault: pda([Buffer.from("reserve"), marketKey.toBuffer()], market.programId), feeVault: pda([Buffer.from("fee_vault"), marketKey.toBuffer()], market.programId),
          oracle, tokenProgram: TOKEN_PROGRAM_ID, ruleSet: null, referrerQuoteAccount: null, eventAuthority: eventAuthority(market.programId), program: market.programId,
        } as any)
        .rpc();
    }
  }

  // lending
  if (config.lending) {
    const l = config.lending;
    const lendingMarket = pda([Buffer.from("lending_market"), quoteMint.toBuffer(), u64(l.id)], lending.programId);
    if (!(await exists(lendingMarket))) {
      await lending.methods
        .initLendingMarket(new BN(l.id), { reserveFactorBps: l.reserve_factor_bps, sigmaPCap: decimalRaw(l.sigma_p_cap), slotsPerYear: new BN(78_840_000), riskAuthority: payer.publicKey })
        .accountsStrict({
          admin: payer.publicKey, quoteMint, lendingMarket,
          liquidityVault: pda([Buffer.from("liquidity"), lendingMarket.toBuffer()], lending.programId),
          shareMint: pda([Buffer.from("shares"), lendingMarket.toBuffer()], lending.programId),
          risk: pda([Buffer.from("risk"), lendingMarket.toBuffer()], lending.programId),
          tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
          eventAuthority: eventAuthority(lending.programId), program: lending.programId,
        } as any)
        .rpc();
      console.log(`created lending market ${lendingMarket.toBase58()}`);
      if (l.initial_liquidity && payerQuote) {
        const shareMint = pda([Buffer.from("shares"), lendingMarket.toBuffer()], lending.programId);
        const shares = (await getOrCreateAssociatedTokenAccount(connection, payer, shareMint, payer.publicKey)).address;
        await lending.methods.depositLiquidity(new BN(String(l.initial_liquidity)))
          .accountsStrict({
            owner: payer.publicKey, lendingMarket, liquidityVault: pda([Buffer.from("liquidity"), lendingMarket.toBuffer()], lending.programId), shareMint,
            ownerQuoteAccount: payerQuote, ownerShareAccount: shares, tokenProgram: TOKEN_PROGRAM_ID,
            eventAuthority: eventAuthority(lending.programId), program: lending.programId,
          } as any)
          .rpc();
      }
    }
    const c = l.collateral;
    const params = {
      r0: decimalRaw(c.r0), beta: decimalRaw(c.beta), gamma: decimalRaw(c.gamma), crMinBps: c.cr_min_bps, liquidationCrBps: c.liquidation_cr_bps,
      liquidationBonusBps: c.liquidation_bonus_bps, closeFactorBps: c.close_factor_bps, maxStalenessSlots: new BN(c.max_staleness_slots),
      maxConfidenceBps: c.max_confidence_bps, pythFeedId: Array(32).fill(0), pythMaxAgeSecs: new BN(c.pyth_max_age_secs ?? 60), maxDivergenceBps: c.max_divergence_bps ?? 500,
      maxSigma: decimalRaw(c.max_sigma ?? "5"), maxRate: decimalRaw(c.max_rate ?? "3"),
    };
    for (const [symbol, m] of Object.entries(marketAddresses)) {
      const collateral = pda([Buffer.from("collateral"), lendingMarket.toBuffer(), m.market.toBuffer()], lending.programId);
      if (await exists(collateral)) continue;
      await lending.methods.addCollateral(params)
        .accountsStrict({
          admin: payer.publicKey, lendingMarket, rwaMarket: m.market, oracle: m.oracle, rwaMint: m.rwaMint, collateral,
          vault: pda([Buffer.from("collateral_vault"), collateral.toBuffer()], lending.programId),
          tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
          eventAuthority: eventAuthority(lending.programId), program: lending.programId,
        } as any)
        .rpc();
      console.log(`accepted ${symbol} as collateral`);
    }
    state.lending_market = lendingMarket.toBase58();
    save();
  }

  // rule DAO
  if (config.dao) {
    const d = config.dao;
    const stake = marketAddresses[d.stake_market];
    if (!stake) throw new Error(`dao.stake_market ${d.stake_market} is not one of the markets`);
    const daoKey = pda([Buffer.from("dao"), stake.rwaMint.toBuffer(), u64(d.id)], dao.programId);
    const ruleSet = pda([Buffer.from("rule_set"), daoKey.toBuffer()], dao.programId);
    if (!(await exists(daoKey))) {
      const r = d.rules ?? {};
      const rules = {
        maxTradeAmount: new BN(String(r.max_trade_amount ?? 0)), circuitBreakerBps: r.circuit_breaker_bps ?? 0,
        circuitBreakerWindowSlots: new BN(r.circuit_breaker_window_slots ?? 0), circuitBreakerHaltSlots: new BN(r.circuit_breaker_halt_slots ?? 0),
        volatilityLimit: r.volatility_limit ? decimalRaw(r.volatility_limit) : new BN(0), minCollateralRatioBps: r.min_collateral_ratio_bps ?? 0,
        maxQuoteLifetimeSlots: new BN(r.max_quote_lifetime_slots ?? 0), covarianceAuthority: r.covariance_authority ? new PublicKey(r.covariance_authority) : payer.publicKey,
        updateCadenceSlots: new BN(r.update_cadence_slots ?? 0),
        circuitBreakerMinNotional: new BN(String(r.circuit_breaker_min_notional ?? 0)), maxQuoteBandBps: r.max_quote_band_bps ?? 0,
        guardian: r.guardian ? new PublicKey(r.guardian) : PublicKey.default,
      };
      const daoConfig = {
        votingPeriodSlots: new BN(d.voting_period_slots), holdUpSlots: new BN(d.hold_up_slots), unstakeCooldownSlots: new BN(d.unstake_cooldown_slots),
        quorumBps: d.quorum_bps, thresholdBps: d.threshold_bps, minProposalStake: new BN(String(d.min_proposal_stake)),
      };
      await dao.methods.createDao(new BN(d.id), daoConfig, rules, d.veto_authority ? new PublicKey(d.veto_authority) : payer.publicKey)
        .accountsStrict({
          creator: payer.publicKey, stakeMint: stake.rwaMint, dao: daoKey,
          authority: pda([Buffer.from("authority"), daoKey.toBuffer()], dao.programId),
          stakeVault: pda([Buffer.from("stake_vault"), daoKey.toBuffer()], dao.programId),
          ruleSet, tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
          eventAuthority: eventAuthority(dao.programId), program: dao.programId,
        } as any)
        .rpc();
      console.log(`created rule DAO ${daoKey.toBase58()} (RuleSet ${ruleSet.toBase58()})`);
    }
    state.dao = daoKey.toBase58();
    state.rule_set = ruleSet.toBase58();
    save();
    if (d.attach_markets) {
      for (const [symbol, m] of Object.entries(marketAddresses)) {
        const account: any = await (market.account as any).market.fetch(m.market);
        if (account.ruleSet.equals(PublicKey.default)) {
          const authority = Keypair.fromSecretKey(Uint8Array.from(state.markets[symbol].authority_keypair));
          await market.methods.attachRuleSet()
            .accountsStrict({ authority: authority.publicKey, market: m.market, ruleSet, eventAuthority: eventAuthority(market.programId), program: market.programId } as any)
            .signers([authority])
            .rpc();
          console.log(`market ${symbol} now obeys the DAO`);
        }
        state.markets[symbol].attached = true;
        save();
      }
    }
    if (d.attach_lending && state.lending_market) {
      const lendingMarket = new PublicKey(state.lending_market);
      const account: any = await (lending.account as any).lendingMarket.fetch(lendingMarket);
      if (account.ruleSet.equals(PublicKey.default)) {
        await lending.methods.attachRuleSet().accountsStrict({ admin: payer.publicKey, lendingMarket, ruleSet } as any).rpc();
        console.log("lending market now obeys the DAO");
      }
    }
  }
  return state;
}

// `anchor migrate` entry point: its host does `require(".../migrations/deploy.ts")(provider)`.
async function migrate(hostProvider: anchor.AnchorProvider) {
  // Anchor's host builds its provider at `processed`. surfpool (what `anchor test` starts) reports
  // no status for a transaction until it is confirmed, so a confirmation at `processed` that
  // subscribes after the transaction was processed never hears of it and waits for the blockhash
  // to expire. Confirm at `confirmed`, as a bootstrap that later steps depend on should anyway.
  const connection = new Connection(hostProvider.connection.rpcEndpoint, { commitment: "confirmed", wsEndpoint: process.env.ANCHOR_WS_URL });
  const provider = new anchor.AnchorProvider(connection, hostProvider.wallet, { commitment: "confirmed", preflightCommitment: "confirmed" });
  anchor.setProvider(provider);
  const state = await bootstrap(provider, process.env.RWA_BOOTSTRAP_CONFIG ?? join(here, "bootstrap.toml"), process.env.RWA_BOOTSTRAP_STATE ?? join(repo, "bootstrap-state.json"));
  console.log(JSON.stringify({ ok: true, markets: Object.keys(state.markets).length, lending_market: state.lending_market, rule_set: state.rule_set }));
  return state;
}
export default migrate;
// The module itself is the function, as Anchor's host expects; named exports stay on it.
module.exports = Object.assign(migrate, module.exports);

// Direct run (tsx migrations/deploy.ts): provider from ANCHOR_PROVIDER_URL and ANCHOR_WALLET.
if (require.main === module) {
  const url = process.env.ANCHOR_PROVIDER_URL ?? "http://127.0.0.1:8899";
  const wallet = process.env.ANCHOR_WALLET ?? join(process.env.HOME ?? ".", ".config/solana/id.json");
  const keypair = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(wallet, "utf8"))));
  const connection = new Connection(url, { commitment: "confirmed", wsEndpoint: process.env.ANCHOR_WS_URL });
  const provider = new anchor.AnchorProvider(connection, new anchor.Wallet(keypair), { commitment: "confirmed" });
  const configPath = process.argv[2] ?? join(here, "bootstrap.toml");
  const statePath = process.argv[3] ?? join(repo, "bootstrap-state.json");
  bootstrap(provider, configPath, statePath)
    .then((state) => console.log(JSON.stringify({ ok: true, markets: Object.keys(state.markets).length, lending_market: state.lending_market, rule_set: state.rule_set })))
    .catch((error) => { console.error(`bootstrap failed: ${error?.stack ?? error}`); process.exit(1); });
}

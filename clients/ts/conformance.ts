// Conformance of a cluster running this project's programs against the standard TypeScript
// clients users reach for: @solana/web3.js, @solana/spl-token and the Anchor client
// (@anchor-lang/core). It sets up its own fixtures (a quote mint, a market, a trader) through
// those clients, then checks every call's *result*, not just that it did not throw.
//
// Usage: tsx clients/ts/conformance.ts <rpc-url> [ws-url]
// The payer is funded with requestAirdrop, so the cluster needs a faucet (the embedded localnet,
// `surfpool start`, solana-test-validator). Prints one JSON line per check and a summary; exits 1
// on the first mismatch, naming it.
import * as anchor from "@anchor-lang/core";
import {
  Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction, TransactionMessage,
  VersionedTransaction, sendAndConfirmTransaction,
} from "@solana/web3.js";
import {
  TOKEN_PROGRAM_ID, createMint, getAccount, getMint, getOrCreateAssociatedTokenAccount, mintTo,
} from "@solana/spl-token";
import BN from "bn.js";
import bs58 from "bs58";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const idl = (name: string) => JSON.parse(readFileSync(join(here, "..", "..", "idl", `${name}.json`), "utf8"));
const TOKEN = 1_000_000;
const SCALE = 10n ** 18n;

const passed: string[] = [];
function fail(check: string, message: string): never {
  console.error(`conformance check failed: ${check}: ${message}`);
  process.exit(1);
}
function expect(check: string, condition: boolean, message: string) {
  if (!condition) fail(check, message);
}
function pass(check: string, detail: Record<string, unknown>) {
  passed.push(check);
  console.log(JSON.stringify({ check, ...detail }));
}
/** Resolves with the first value `subscribe` hands its callback, or fails `check` after `ms`. */
function nextEvent<T>(check: string, ms: number, subscribe: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${check}: no notification within ${ms} ms`)), ms);
    subscribe((value) => { clearTimeout(timer); resolve(value); });
  });
}
const pda = (seeds: (Buffer | Uint8Array)[], program: PublicKey) => PublicKey.findProgramAddressSync(seeds, program)[0];
const decimal = (text: string) => {
  const [whole, fraction = ""] = text.split(".");
  return new BN((BigInt(whole) * SCALE + BigInt(fraction.padEnd(18, "0"))).toString());
};

async function main() {
  const rpcUrl = process.argv[2] ?? fail("usage", "tsx conformance.ts <rpc-url> [ws-url]");
  const wsUrl = process.argv[3];
  const connection = new Connection(rpcUrl, { commitment: "confirmed", wsEndpoint: wsUrl });
  const payer = Keypair.generate();
  const provider = new anchor.AnchorProvider(connection, new anchor.Wallet(payer), { commitment: "confirmed", preflightCommitment: "confirmed" });
  const market = new anchor.Program(idl("rwa_market"), provider);

  // --- cluster basics -------------------------------------------------------------------------
  const version = await connection.getVersion();
  expect("getVersion", typeof version["solana-core"] === "string" && version["solana-core"].length > 0, JSON.stringify(version));
  const genesis = await connection.getGenesisHash();
  expect("getGenesisHash", bs58.decode(genesis).length === 32, genesis);
  const epoch = await connection.getEpochInfo();
  expect("getEpochInfo", epoch.absoluteSlot > 0 && epoch.slotsInEpoch > 0, JSON.stringify(epoch));
  const rent = await connection.getMinimumBalanceForRentExemption(165);
  expect("getMinimumBalanceForRentExemption", rent === 2_039_280, `165 bytes: ${rent}`);
  pass("cluster basics", { solanaCore: version["solana-core"], genesis, slot: epoch.absoluteSlot, rent165: rent });

  // --- airdrop and confirmation ---------------------------------------------------------------
  const airdrop = await connection.requestAirdrop(payer.publicKey, 100 * LAMPORTS_PER_SOL);
  const latest = await connection.getLatestBlockhash();
  const confirmed = await connection.confirmTransaction({ signature: airdrop, ...latest }, "confirmed");
  expect("confirmTransaction", confirmed.value.err === null, JSON.stringify(confirmed));
  const balance = await connection.getBalance(payer.publicKey);
  expect("getBalance", balance === 100 * LAMPORTS_PER_SOL, `${balance}`);
  expect("isBlockhashValid", (await connection.isBlockhashValid(latest.blockhash)).value === true, latest.blockhash);
  expect("lastValidBlockHeight", latest.lastValidBlockHeight > (await connection.getBlockHeight()), `${latest.lastValidBlockHeight}`);
  pass("airdrop and confirmTransaction", { signature: airdrop, balance });

  // --- commitment levels ----------------------------------------------------------------------
  const [processed, confirmedSlot, finalized] = await Promise.all([
    connection.getSlot("processed"), connection.getSlot("confirmed"), connection.getSlot("finalized"),
  ]);
  expect("getSlot by commitment", processed >= confirmedSlot && confirmedSlot > finalized, `processed ${processed}, confirmed ${confirmedSlot}, finalized ${finalized}`);
  pass("commitment levels", { processed, confirmed: confirmedSlot, finalized });

  // --- spl-token ------------------------------------------------------------------------------
  const quoteMint = await createMint(connection, payer, payer.publicKey, null, 6);
  const payerQuote = await getOrCreateAssociatedTokenAccount(connection, payer, quoteMint, payer.publicKey);
  await mintTo(connection, payer, quoteMint, payerQuote.address, payer, 1_000_000n * BigInt(TOKEN));
  const mintInfo = await getMint(connection, quoteMint);
  expect("getMint", mintInfo.decimals === 6 && mintInfo.supply === 1_000_000n * BigInt(TOKEN), `${mintInfo.decimals} ${mintInfo.supply}`);
  const quoteAccount = await getAccount(connection, payerQuote.address);
  expect("getAccount", quoteAccount.amount === 1_000_000n * BigInt(TOKEN) && quoteAccount.owner.equals(payer.publicKey), `${quoteAccount.amount}`);
  const tokenBalance = await connection.getTokenAccountBalance(payerQuote.address);
  expect("getTokenAccountBalance", tokenBalance.value.amount === String(1_000_000 * TOKEN) && tokenBalance.value.uiAmount === 1_000_000, JSON.stringify(tokenBalance.value));
  const byOwner = await connection.getTokenAccountsByOwner(payer.publicKey, { mint: quoteMint });
  expect("getTokenAccountsByOwner", byOwner.value.length === 1 && byOwner.value[0].pubkey.equals(payerQuote.address), `${byOwner.value.length}`);
  const parsedByOwner = await connection.getParsedTokenAccountsByOwner(payer.publicKey, { programId: TOKEN_PROGRAM_ID });
  const parsedAmount = parsedByOwner.value.find((a) => a.pubkey.equals(payerQuote.address))?.account.data.parsed.info.tokenAmount.amount;
  expect("getParsedTokenAccountsByOwner (jsonParsed)", parsedAmount === String(1_000_000 * TOKEN), `${parsedAmount}`);
  const parsedMint: any = (await connection.getParsedAccountInfo(quoteMint)).value?.data;
  expect("getParsedAccountInfo (jsonParsed mint)", parsedMint?.parsed?.type === "mint" && parsedMint.parsed.info.decimals === 6, JSON.stringify(parsedMint));
  pass("spl-token", { mint: quoteMint.toBase58(), account: payerQuote.address.toBase58(), amount: tokenBalance.value.uiAmountString });

  // --- Anchor: a market through program.methods .rpc() ----------------------------------------
  const rwaMint = Keypair.generate();
  const authority = Keypair.generate();
  const marketKey = pda([Buffer.from("market"), rwaMint.publicKey.toBuffer()], market.programId);
  const oracle = pda([Buffer.from("oracle"), marketKey.toBuffer()], market.programId);
  const reserveVault = pda([Buffer.from("reserve"), marketKey.toBuffer()], market.programId);
  const feeVault = pda([Buffer.from("fee_vault"), marketKey.toBuffer()], market.programId);
  const eventAuthority = pda([Buffer.from("__event_authority")], market.programId);
  await market.methods
    .initializeMarket({ curveKind: 0, curveParams: [decimal("0.001"), decimal("1"), new BN(0)], rwaDecimals: 6, feeBps: 30, maxSupply: new BN(1_000_000 * TOKEN), twapWindowSlots: new BN(150), ewmaLambdaBps: 9400, name: "Conformance", symbol: "CONF", uri: "" })
    .accountsStrict({ payer: payer.publicKey, authority: authority.publicKey, market: marketKey, rwaMint: rwaMint.publicKey, quoteMint, reserveVault, feeVault, oracle, tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId, eventAuthority, program: market.programId } as any)
    .signers([rwaMint, authority])
    .rpc();
  const traderRwa = await getOrCreateAssociatedTokenAccount(connection, payer, rwaMint.publicKey, payer.publicKey);
  const buyAccounts = { trader: payer.publicKey, market: marketKey, rwaMint: rwaMint.publicKey, quoteMint, traderRwaAccount: traderRwa.address, traderQuoteAccount: payerQuote.address, reserveVault, feeVault, oracle, tokenProgram: TOKEN_PROGRAM_ID, ruleSet: null, referrerQuoteAccount: null, eventAuthority, program: market.programId };
  const fetched: any = await (market.account as any).market.fetch(marketKey);
  expect("account.market.fetch", fetched.symbol === "CONF" && fetched.supply.isZero(), `${fetched.symbol} ${fetched.supply}`);

  // --- subscriptions armed before the buy --------------------------------------------------------
  const accountChange = nextEvent<any>("onAccountChange", 10_000, (resolve) => {
    connection.onAccountChange(traderRwa.address, (info) => resolve(info), { commitment: "confirmed" });
  });
  const logs = nextEvent<any>("onLogs", 10_000, (resolve) => {
    connection.onLogs(market.programId, (entry) => { if (!entry.err) resolve(entry); }, "confirmed");
  });
  const programChange = nextEvent<any>("onProgramAccountChange", 10_000, (resolve) => {
    connection.onProgramAccountChange(TOKEN_PROGRAM_ID, (keyed) => { if (keyed.accountId.equals(traderRwa.address)) resolve(keyed); }, {
      commitment: "confirmed",
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: rwaMint.publicKey.toBase58() } }],
    });
  });
  const slotChange = nextEvent<any>("onSlotChange", 10_000, (resolve) => { connection.onSlotChange((info) => resolve(info)); });

  // --- .simulate(): the program runs, nothing changes ------------------------------------------
  const simulated = await market.methods.buyExactOut(new BN(5 * TOKEN), new BN("18446744073709551615")).accountsStrict(buyAccounts as any).simulate();
  const invoked = simulated.raw.some((line: string) => line.startsWith(`Program ${market.programId.toBase58()} invoke`));
  const succeeded = simulated.raw.some((line: string) => line === `Program ${market.programId.toBase58()} success`);
  expect("methods.simulate", invoked && succeeded, simulated.raw.join("\n"));
  expect("simulate leaves state", ((await (market.account as any).market.fetch(marketKey)) as any).supply.isZero(), "supply changed by a simulation");
  pass("anchor methods.simulate", { logLines: simulated.raw.length });

  // --- .rpc(): a buy; then its transaction, balances, logs and the emit_cpi! event ---------------
  const buySignature = await market.methods.buyExactOut(new BN(5 * TOKEN), new BN("18446744073709551615")).accountsStrict(buyAccounts as any).rpc();
  const tx = await connection.getTransaction(buySignature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  expect("getTransaction", tx !== null && tx.meta !== null && tx.meta.err === null, JSON.stringify(tx?.meta?.err));
  const meta = tx!.meta!;
  expect("getTransaction version", tx!.version === "legacy" || tx!.version === 0, `${tx!.version}`);
  expect("getTransaction fee", meta.fee === 5_000, `${meta.fee}`);
  const keys = tx!.transaction.message.getAccountKeys().staticAccountKeys;
  expect("getTransaction balances", meta.preBalances.length === keys.length && meta.postBalances.length === keys.length && meta.preBalances[0] - meta.postBalances[0] === meta.fee, `${meta.preBalances[0]} -> ${meta.postBalances[0]}`);
  const rwaIndex = keys.findIndex((k) => k.equals(traderRwa.address));
  const rwaAfter = meta.postTokenBalances?.find((b) => b.accountIndex === rwaIndex)?.uiTokenAmount.amount;
  const rwaBefore = meta.preTokenBalances?.find((b) => b.accountIndex === rwaIndex)?.uiTokenAmount.amount ?? "0";
  expect("getTransaction token balances", BigInt(rwaAfter ?? "0") - BigInt(rwaBefore) === BigInt(5 * TOKEN), `${rwaBefore} -> ${rwaAfter}`);
  expect("getTransaction logs", meta.logMessages?.includes(`Program ${market.programId.toBase58()} success`) === true, (meta.logMessages ?? []).join("\n"));
  const now = Math.floor(Date.now() / 1000);
  expect("getTransaction blockTime", tx!.blockTime !== null && tx!.blockTime !== undefined && Math.abs(tx!.blockTime - now) < 60, `${tx!.blockTime} vs ${now}`);
  // emit_cpi!: the event is the data of a self-invocation (inner instruction), after an 8-byte tag
  const events = (meta.innerInstructions ?? []).flatMap((inner) => inner.instructions)
    .filter((ix) => keys[ix.programIdIndex]?.equals(market.programId))
    .map((ix) => market.coder.events.decode(Buffer.from(bs58.decode(ix.data).subarray(8)).toString("base64")))
    .filter((event): event is NonNullable<typeof event> => event !== null);
  const trade: any = events.find((event) => event.name === "tradeExecuted")?.data;
  expect("emit_cpi event (tradeExecuted)", trade !== undefined && trade.amount.toString() === String(5 * TOKEN) && trade.market.equals(marketKey), JSON.stringify(events.map((e) => e.name)));
  const parsedTx = await connection.getParsedTransaction(buySignature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  const parsedTransfer = parsedTx?.meta?.innerInstructions?.flatMap((i) => i.instructions).find((ix: any) => ix.parsed?.type === "transfer" || ix.parsed?.type === "transferChecked");
  expect("getParsedTransaction (jsonParsed inner transfer)", parsedTransfer !== undefined, JSON.stringify(parsedTx?.meta?.innerInstructions));
  pass("anchor methods.rpc and getTransaction", { signature: buySignature, fee: meta.fee, rwaDelta: 5 * TOKEN, events: events.map((e) => e.name), quoteIn: trade.quoteAmount.toString() });

  // --- the subscriptions saw it -----------------------------------------------------------------
  const changed = await accountChange;
  expect("onAccountChange", changed.owner.equals(TOKEN_PROGRAM_ID) && changed.data.length === 165, `${changed.owner}`);
  const logged = await logs;
  expect("onLogs", logged.signature === buySignature, `${logged.signature} != ${buySignature}`);
  const keyed = await programChange;
  expect("onProgramAccountChange (filters)", keyed.accountId.equals(traderRwa.address), `${keyed.accountId}`);
  const slotInfo = await slotChange;
  expect("onSlotChange", slotInfo.slot > slotInfo.parent, JSON.stringify(slotInfo));
  pass("websocket subscriptions", { account: traderRwa.address.toBase58(), logs: logged.signature, slot: slotInfo.slot });

  // --- history and program accounts --------------------------------------------------------------
  const history = await connection.getSignaturesForAddress(marketKey);
  expect("getSignaturesForAddress", history.length >= 2 && history[0].signature === buySignature && history.every((h) => h.err === null), JSON.stringify(history.map((h) => h.signature)));
  const discriminator = (idl("rwa_market").accounts as any[]).find((a) => a.name === "Market").discriminator as number[];
  const markets = await connection.getProgramAccounts(market.programId, { filters: [{ memcmp: { offset: 0, bytes: bs58.encode(Buffer.from(discriminator)) } }] });
  expect("getProgramAccounts (memcmp)", markets.some((m) => m.pubkey.equals(marketKey)), `${markets.length} markets`);
  const sameMint = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: rwaMint.publicKey.toBase58() } }] });
  expect("getProgramAccounts (dataSize + memcmp)", sameMint.length === 1 && sameMint[0].pubkey.equals(traderRwa.address), `${sameMint.length}`);
  const all = await (market.account as any).market.all([{ memcmp: { offset: 0, bytes: bs58.encode(Buffer.from(discriminator)) } }]);
  expect("account.market.all (filters)", all.some((m: any) => m.publicKey.equals(marketKey) && m.account.supply.toString() === String(5 * TOKEN)), `${all.length}`);
  const several = await connection.getMultipleAccountsInfo([marketKey, oracle, Keypair.generate().publicKey]);
  expect("getMultipleAccountsInfo", several[0]?.owner.equals(market.programId) === true && several[1]?.owner.equals(market.programId) === true && several[2] === null, "owners");
  pass("history and program accounts", { signatures: history.length, markets: markets.length });

  // --- fees ---------------------------------------------------------------------------------------
  const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: (await connection.getLatestBlockhash()).blockhash, instructions: [SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: authority.publicKey, lamports: LAMPORTS_PER_SOL / 100 })] }).compileToV0Message();
  const fee = await connection.getFeeForMessage(message, "confirmed");
  expect("getFeeForMessage", fee.value === 5_000, `${fee.value}`);
  const v0 = new VersionedTransaction(message);
  v0.sign([payer]);
  const v0Signature = await connection.sendTransaction(v0);
  await connection.confirmTransaction({ signature: v0Signature, blockhash: message.recentBlockhash, lastValidBlockHeight: (await connection.getLatestBlockhash()).lastValidBlockHeight }, "confirmed");
  const v0Tx = await connection.getTransaction(v0Signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  expect("v0 transaction", v0Tx?.version === 0 && v0Tx.meta?.err === null, `${v0Tx?.version}`);
  // a failing transaction is refused at preflight with the program's error
  const failing = new Transaction().add(SystemProgram.transfer({ fromPubkey: authority.publicKey, toPubkey: payer.publicKey, lamports: LAMPORTS_PER_SOL }));  // authority holds 0.01 SOL
  const refused = await sendAndConfirmTransaction(connection, failing, [payer, authority]).then(() => null, (error: Error) => error.message);
  expect("preflight refusal", refused !== null && /simulation failed/i.test(refused), `${refused}`);
  pass("fees, v0 and preflight", { fee: fee.value, v0: v0Signature });

  console.log(JSON.stringify({ ok: true, checks: passed.length, names: passed }));
  process.exit(0);
}

main().catch((error) => { console.error(`conformance run failed: ${error?.stack ?? error}`); process.exit(1); });

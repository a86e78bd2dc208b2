//! rwa_market's primary market at NAV in a real runtime: NAV attestation, the participant
//! allow-list, subscriptions and redemptions, and every refusal, each checked to change nothing.

use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure, TxSuccess};
use rwa_market::errors::MarketError;
use rwa_market::events::*;
use rwa_market::instructions::{MarketParamsUpdate, PrimaryMarketArgs};
use rwa_market::state::NavAttestation;
use rwa_math::{Curve, Decimal};

const TOKEN: u64 = 1_000_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn code(error: MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

struct Setup {
    env: TestEnv,
    market: MarketFixture,
    publisher: Keypair,
    participant: Keypair,
    accounts: TraderAccounts,
    /// The issuer's own quote account (funds the redemption vault).
    issuer_quote: Address,
}

impl Setup {
    fn primary(&self) -> PrimaryAddresses {
        PrimaryAddresses::derive(&self.market.addresses.market)
    }

    fn nav_state(&self) -> NavAttestation {
        self.env.anchor_account(&self.primary().nav)
    }

    fn publish(&mut self, nav: &str, confidence_bps: u16) -> Result<TxSuccess, TxFailure> {
        let ix = publish_nav_ix(
            &self.publisher.pubkey(),
            &self.market.addresses,
            d(nav).raw(),
            confidence_bps,
        );
        let publisher = self.publisher.insecure_clone();
        self.env.send(&[ix], &[&publisher])
    }

    fn subscribe(&mut self, quote_in: u64, min_out: u64) -> Result<TxSuccess, TxFailure> {
        let ix = subscribe_ix(&self.market.addresses, &self.accounts, quote_in, min_out);
        let participant = self.participant.insecure_clone();
        self.env.send(&[ix], &[&participant])
    }

    fn redeem(&mut self, amount: u64, min_out: u64) -> Result<TxSuccess, TxFailure> {
        let ix = redeem_ix(&self.market.addresses, &self.accounts, amount, min_out);
        let participant = self.participant.insecure_clone();
        self.env.send(&[ix], &[&participant])
    }

    /// The issuer funds the redemption vault with a plain token transfer.
    fn fund_redemptions(&mut self, amount: u64) {
        let transfer = anchor_spl::token::spl_token::instruction::transfer(
            &anchor_spl::token::spl_token::ID,
            &self.issuer_quote,
            &self.primary().redemption_vault,
            &self.env.payer.pubkey(),
            &[],
            amount,
        )
        .unwrap();
        self.env.send(&[transfer], &[]).unwrap();
    }

    /// Everything a refused primary-market transaction must leave untouched.
    fn snapshot(&self) -> Vec<Vec<u8>> {
        let a = &self.market.addresses;
        let p = self.primary();
        [
            a.market,
            a.rwa_mint,
            a.reserve_vault,
            p.nav,
            p.subscription_vault,
            p.redemption_vault,
            self.accounts.rwa_account,
            self.accounts.quote_account,
        ]
        .iter()
        .map(|address| {
            self.env
                .account(address)
                .map(|account| account.data)
                .unwrap_or_default()
        })
        .collect()
    }

    #[track_caller]
    fn refused(&mut self, result: Result<TxSuccess, TxFailure>, before: &[Vec<u8>], error: u32) {
        match result {
            Ok(_) => panic!("succeeded, expected error {error}"),
            Err(failure) => assert_eq!(failure.custom_code(), Some(error), "{failure}"),
        }
        assert_eq!(self.snapshot(), before, "a refusal changed state");
    }
}

/// A linear market (spot 1.0 at supply 0), a primary market with default terms, a published NAV
/// of 1.0 and one authorised participant holding 100,000 quote tokens.
fn setup() -> Setup {
    setup_with(primary_args)
}

/// `setup` with the primary market's terms from `terms(publisher)`.
fn setup_with(terms: impl FnOnce(Address) -> PrimaryMarketArgs) -> Setup {
    let mut env = TestEnv::new();
    let curve = Curve::Linear {
        slope: d("0.000001"),
        intercept: d("1"),
    };
    let (market, _) = env
        .create_market(None, market_args(curve, 6, 1_000_000 * TOKEN))
        .unwrap();
    let a = market.addresses;
    let publisher = Keypair::new();
    let opened = env
        .send(
            &[init_primary_market_ix(
                &env.payer.pubkey(),
                &market.authority.pubkey(),
                &a,
                terms(publisher.pubkey()),
            )],
            &[&market.authority],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let event = &opened.events::<PrimaryMarketOpened>(&rwa_market::ID)[0];
    assert_eq!(event.publisher, publisher.pubkey());
    let (participant, trader) = env.create_trader(&a, 100_000 * TOKEN);
    env.send(
        &[add_participant_ix(
            &env.payer.pubkey(),
            &market.authority.pubkey(),
            &a,
            &participant.pubkey(),
        )],
        &[&market.authority],
    )
    .unwrap();
    let issuer_quote = env.create_token_account(&a.quote_mint, &env.payer.pubkey());
    env.mint_to(&a.quote_mint, &issuer_quote, 1_000_000 * TOKEN);
    let mut setup = Setup {
        env,
        market,
        publisher,
        participant,
        accounts: trader,
        issuer_quote,
    };
    setup.publish("1", 10).unwrap();
    setup
}

#[test]
fn subscribe_and_redeem_at_nav_leave_the_curve_alone() {
    let mut s = setup();
    let a = s.market.addresses;
    let curve_before = s.env.market_state(&a);
    // 1,001 quote at NAV 1.0 with a 0.1% fee: 1,000 tokens, fee 1
    let subscribed = s.subscribe(1_001 * TOKEN, 1_000 * TOKEN).unwrap();
    let event = &subscribed.events::<Subscribed>(&rwa_market::ID)[0];
    assert_eq!(
        (event.amount, event.value, event.fee),
        (1_000 * TOKEN, 1_000 * TOKEN, TOKEN)
    );
    assert_eq!(s.env.token_balance(&s.accounts.rwa_account), 1_000 * TOKEN);
    assert_eq!(
        s.env.token_balance(&s.accounts.quote_account),
        (100_000 - 1_001) * TOKEN
    );
    assert_eq!(
        s.env.token_balance(&s.primary().subscription_vault),
        1_001 * TOKEN
    );
    assert_eq!(s.nav_state().primary_minted, 1_000 * TOKEN);
    let curve_after = s.env.market_state(&a);
    assert_eq!(
        (curve_after.supply, curve_after.reserve),
        (curve_before.supply, curve_before.reserve),
        "the curve's supply and reserve track only what the curve issued"
    );
    assert_eq!(s.env.mint_supply(&a.rwa_mint), 1_000 * TOKEN);

    // NAV rises 5%; the issuer funds redemptions; 400 tokens redeem for 420 less 0.1%
    s.env.advance_slots(10);
    s.publish("1.05", 10).unwrap();
    s.fund_redemptions(10_000 * TOKEN);
    let redeemed = s.redeem(400 * TOKEN, 419 * TOKEN).unwrap();
    let event = &redeemed.events::<Redeemed>(&rwa_market::ID)[0];
    assert_eq!((event.value, event.fee), (420 * TOKEN, 420_000));
    assert_eq!(s.env.token_balance(&s.accounts.rwa_account), 600 * TOKEN);
    assert_eq!(
        s.env.token_balance(&s.accounts.quote_account),
        (100_000 - 1_001 + 420) * TOKEN - 420_000
    );
    assert_eq!(s.env.mint_supply(&a.rwa_mint), 600 * TOKEN);
    let nav = s.nav_state();
    assert_eq!(
        (nav.primary_burned, nav.redeemed_in_window),
        (400 * TOKEN, 400 * TOKEN)
    );
    assert!(
        nav.nav_variance_per_slot > 0,
        "a 5% NAV move registers as volatility"
    );

    // the issuer takes the subscription proceeds
    let issuer_before = s.env.token_balance(&s.issuer_quote);
    let authority = s.market.authority.insecure_clone();
    let withdrawn = s
        .env
        .send(
            &[withdraw_subscriptions_ix(
                &authority.pubkey(),
                &a,
                &s.issuer_quote,
                1_001 * TOKEN,
            )],
            &[&authority],
        )
        .unwrap();
    assert_eq!(
        withdrawn.events::<SubscriptionsWithdrawn>(&rwa_market::ID)[0].amount,
        1_001 * TOKEN
    );
    assert_eq!(
        s.env.token_balance(&s.issuer_quote),
        issuer_before + 1_001 * TOKEN
    );
}

#[test]
fn primary_tokens_sold_to_the_curve_never_draw_more_than_its_reserve() {
    let mut s = setup();
    let a = s.market.addresses;
    // someone buys 100 tokens from the curve; the participant subscribes 1,000 more
    let (buyer, buyer_accounts) = s.env.create_trader(&a, 10_000 * TOKEN);
    s.env
        .send(
            &[trade_ix(
                &a,
                &buyer_accounts,
                TradeKind::BuyExactOut {
                    amount: 100 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&buyer],
        )
        .unwrap();
    s.subscribe(1_001 * TOKEN, 0).unwrap();
    let trader = s.accounts;
    let participant = s.participant.insecure_clone();
    // selling more than the curve issued is refused: the curve only buys back its own supply
    let too_many = s.env.send(
        &[trade_ix(
            &a,
            &trader,
            TradeKind::SellExactIn {
                amount: 101 * TOKEN,
                min_quote_out: 0,
            },
        )],
        &[&participant],
    );
    assert_eq!(
        too_many.unwrap_err().custom_code(),
        Some(code(MarketError::InsufficientSupply))
    );
    // up to the curve's supply sells at the curve's own price, out of its reserve
    s.env.advance_slots(1);
    s.env
        .send(
            &[trade_ix(
                &a,
                &trader,
                TradeKind::SellExactIn {
                    amount: 100 * TOKEN,
                    min_quote_out: 0,
                },
            )],
            &[&participant],
        )
        .unwrap();
    let market = s.env.market_state(&a);
    assert_eq!(market.supply, 0);
    assert_eq!(s.env.token_balance(&a.reserve_vault), market.reserve);
    // the buyer's 100 curve tokens are still redeemable at NAV through the primary market only
    assert_eq!(s.env.mint_supply(&a.rwa_mint), 1_000 * TOKEN);
}

#[test]
fn nav_publication_is_the_publishers_and_bounded() {
    let mut s = setup();
    let before = s.snapshot();
    let a = s.market.addresses;
    let stranger = s.env.new_funded_keypair(1_000_000_000);
    let forged = publish_nav_ix(&stranger.pubkey(), &a, d("2").raw(), 0);
    let result = s.env.send(&[forged], &[&stranger]);
    s.refused(result, &before, code(MarketError::NotNavPublisher));
    for (nav, confidence) in [("0", 0), ("1000000000001", 0), ("1", 10_001)] {
        let result = s.publish(nav, confidence);
        s.refused(result, &before, code(MarketError::InvalidNav));
    }
    // the authority (or the DAO) hands publishing to a new key; the old one is refused
    let next = Keypair::new();
    let authority = s.market.authority.insecure_clone();
    s.env
        .send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    nav_publisher: Some(next.pubkey()),
                    ..Default::default()
                },
            )],
            &[&authority],
        )
        .unwrap();
    let before = s.snapshot();
    let result = s.publish("1.01", 0);
    s.refused(result, &before, code(MarketError::NotNavPublisher));
    s.publisher = next;
    let published = s.publish("1.01", 5).unwrap();
    let event = &published.events::<NavPublished>(&rwa_market::ID)[0];
    assert_eq!((event.nav, event.confidence_bps), (d("1.01").raw(), 5));
    assert_eq!(s.nav_state().publications, 2);
    // the default key cannot be made publisher
    let before = s.snapshot();
    let result = s.env.send(
        &[set_market_params_ix(
            &a,
            &authority.pubkey(),
            MarketParamsUpdate {
                nav_publisher: Some(Address::default()),
                ..Default::default()
            },
        )],
        &[&authority],
    );
    s.refused(result, &before, code(MarketError::InvalidPrimaryConfig));
}

#[test]
fn stale_or_uncertain_nav_and_strangers_are_refused() {
    let mut s = setup();
    // stale: older than max_staleness_slots (150)
    s.env.advance_slots(151);
    let before = s.snapshot();
    let result = s.subscribe(100 * TOKEN, 0);
    s.refused(result, &before, code(MarketError::NavStale));
    let result = s.redeem(TOKEN, 0);
    s.refused(result, &before, code(MarketError::NavStale));
    // too uncertain: 2% against a 1% limit
    s.publish("1", 200).unwrap();
    let before = s.snapshot();
    let result = s.subscribe(100 * TOKEN, 0);
    s.refused(result, &before, code(MarketError::NavTooUncertain));
    s.publish("1", 50).unwrap();
    // a wallet off the allow-list, even with its own token accounts
    let a = s.market.addresses;
    let (stranger, stranger_accounts) = s.env.create_trader(&a, 1_000 * TOKEN);
    let before = s.snapshot();
    let result = s.env.send(
        &[subscribe_ix(&a, &stranger_accounts, 100 * TOKEN, 0)],
        &[&stranger],
    );
    s.refused(result, &before, code(MarketError::NotParticipant));
    // ... or one that was removed
    s.subscribe(101 * TOKEN, 0).unwrap();
    let authority = s.market.authority.insecure_clone();
    let removed = s
        .env
        .send(
            &[remove_participant_ix(
                &authority.pubkey(),
                &a,
                &s.participant.pubkey(),
                &authority.pubkey(),
            )],
            &[&authority],
        )
        .unwrap();
    assert!(!removed.events::<ParticipantChanged>(&rwa_market::ID)[0].allowed);
    s.fund_redemptions(1_000 * TOKEN);
    let before = s.snapshot();
    let result = s.redeem(TOKEN, 0);
    s.refused(result, &before, code(MarketError::NotParticipant));
    // a vault that is not the market's
    s.env
        .send(
            &[add_participant_ix(
                &s.env.payer.pubkey(),
                &authority.pubkey(),
                &a,
                &s.participant.pubkey(),
            )],
            &[&authority],
        )
        .unwrap();
    let mut wrong = redeem_ix(&a, &s.accounts, TOKEN, 0);
    let vault_index = wrong
        .accounts
        .iter()
        .position(|meta| meta.pubkey == s.primary().redemption_vault)
        .unwrap();
    wrong.accounts[vault_index].pubkey = s.primary().subscription_vault;
    let before = s.snapshot();
    let participant = s.participant.insecure_clone();
    let result = s.env.send(&[wrong], &[&participant]);
    s.refused(result, &before, code(MarketError::InvalidNavAccount));
}

#[test]
fn redemptions_stop_at_the_cap_and_the_vault_with_nothing_changed() {
    let mut s = setup();
    s.subscribe(10_010 * TOKEN, 0).unwrap();
    // an empty vault: a clear refusal, tokens kept
    let before = s.snapshot();
    let result = s.redeem(100 * TOKEN, 0);
    s.refused(result, &before, code(MarketError::RedemptionVaultShort));
    s.fund_redemptions(50 * TOKEN);
    let before = s.snapshot();
    let result = s.redeem(100 * TOKEN, 0);
    s.refused(result, &before, code(MarketError::RedemptionVaultShort));
    // slippage: the participant asked for more than NAV pays
    s.fund_redemptions(100_000 * TOKEN);
    let before = s.snapshot();
    let result = s.redeem(100 * TOKEN, 100 * TOKEN);
    s.refused(result, &before, code(MarketError::SlippageExceeded));
    let result = s.redeem(0, 0);
    s.refused(result, &before, code(MarketError::ZeroAmount));
    let result = s.subscribe(0, 0);
    s.refused(result, &before, code(MarketError::ZeroAmount));
    let result = s.subscribe(TOKEN, 2 * TOKEN);
    s.refused(result, &before, code(MarketError::SlippageExceeded));
}

#[test]
fn the_redemption_window_caps_and_then_resets() {
    let mut s = setup_with(|publisher| PrimaryMarketArgs {
        redemption_window_slots: 100,
        redemption_cap_per_window: 500 * TOKEN,
        ..primary_args(publisher)
    });
    s.publish("1", 0).unwrap();
    s.subscribe(2_000 * TOKEN, 0).unwrap();
    s.fund_redemptions(100_000 * TOKEN);
    s.redeem(300 * TOKEN, 0).unwrap();
    s.redeem(200 * TOKEN, 0).unwrap();
    let before = s.snapshot();
    let result = s.redeem(TOKEN, 0);
    s.refused(result, &before, code(MarketError::RedemptionCapExceeded));
    // the next window opens 100 slots after this one started
    s.env.advance_slots(100);
    s.publish("1", 0).unwrap();
    s.redeem(500 * TOKEN, 0).unwrap();
    assert_eq!(s.nav_state().redeemed_in_window, 500 * TOKEN);
}

#[test]
fn primary_market_terms_are_bounded_and_the_authoritys() {
    let mut env = TestEnv::new();
    let curve = Curve::Linear {
        slope: d("0.000001"),
        intercept: d("1"),
    };
    let (market, _) = env
        .create_market(None, market_args(curve, 6, 1_000_000 * TOKEN))
        .unwrap();
    let a = market.addresses;
    let publisher = Address::new_unique();
    let base = primary_args(publisher);
    let bad = [
        PrimaryMarketArgs {
            publisher: Address::default(),
            ..base.clone()
        },
        PrimaryMarketArgs {
            max_staleness_slots: 0,
            ..base.clone()
        },
        PrimaryMarketArgs {
            max_staleness_slots: 216_001,
            ..base.clone()
        },
        PrimaryMarketArgs {
            max_confidence_bps: 5_001,
            ..base.clone()
        },
        PrimaryMarketArgs {
            subscribe_fee_bps: 501,
            ..base.clone()
        },
        PrimaryMarketArgs {
            redeem_fee_bps: 501,
            ..base.clone()
        },
        PrimaryMarketArgs {
            redemption_window_slots: 0,
            ..base.clone()
        },
        PrimaryMarketArgs {
            redemption_cap_per_window: 0,
            ..base.clone()
        },
    ];
    for args in bad {
        let result = env.send(
            &[init_primary_market_ix(
                &env.payer.pubkey(),
                &market.authority.pubkey(),
                &a,
                args.clone(),
            )],
            &[&market.authority],
        );
        assert_eq!(
            result.unwrap_err().custom_code(),
            Some(code(MarketError::InvalidPrimaryConfig)),
            "{args:?}"
        );
        assert!(env
            .account(&PrimaryAddresses::derive(&a.market).nav)
            .is_none());
    }
    let stranger = env.new_funded_keypair(1_000_000_000);
    let result = env.send(
        &[init_primary_market_ix(
            &env.payer.pubkey(),
            &stranger.pubkey(),
            &a,
            base.clone(),
        )],
        &[&stranger],
    );
    assert_eq!(
        result.unwrap_err().custom_code(),
        Some(code(MarketError::Unauthorized))
    );
    assert!(env
        .account(&PrimaryAddresses::derive(&a.market).nav)
        .is_none());
    // participants are the authority's to add
    env.send(
        &[init_primary_market_ix(
            &env.payer.pubkey(),
            &market.authority.pubkey(),
            &a,
            base,
        )],
        &[&market.authority],
    )
    .unwrap();
    let result = env.send(
        &[add_participant_ix(
            &env.payer.pubkey(),
            &stranger.pubkey(),
            &a,
            &stranger.pubkey(),
        )],
        &[&stranger],
    );
    assert_eq!(
        result.unwrap_err().custom_code(),
        Some(code(MarketError::Unauthorized))
    );
    assert!(env
        .account(&participant_address(&a.market, &stranger.pubkey()))
        .is_none());
}

//! `rwa-agents learn`: trains a learning agent in the simulator on the real programs (tabular
//! Q-learning or REINFORCE, `rwa_sim::learning`), evaluates its greedy policy on held-out seeds
//! against the rule-based traders in the same seat, and writes policy.json (what the daemon's
//! `kind = "learned"` strategy runs), learning-curve.csv/svg, evaluation.json and report.json.

use anyhow::Result;
use rwa_sim::learning::{evaluate, train, write_outputs, Algo, LearnConfig, LearnReport};

#[derive(clap::Args, Debug)]
pub struct LearnArgs {
    /// q (tabular Q-learning, softmax exploration) or reinforce (linear-softmax policy gradient).
    #[arg(long, default_value = "q")]
    algo: String,
    /// Training episodes (each a run of the scenario on its own seed: seed, seed + 1, ...).
    #[arg(long, default_value_t = 40)]
    episodes: u64,
    /// First training seed; the held-out evaluation seeds follow the training ones.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Held-out evaluation seeds per seat (0: no evaluation).
    #[arg(long, default_value_t = 8)]
    eval_seeds: u64,
    /// Built-in scenario or TOML path (NAV shocks only: no failures, herding or council rule changes).
    #[arg(long, default_value = "baseline")]
    scenario: String,
    /// Agents in the population (the learning seat comes on top).
    #[arg(long, default_value_t = 26)]
    agents: usize,
    /// Markets (the seat trades market 0).
    #[arg(long, default_value_t = 1)]
    assets: usize,
    /// Steps per episode.
    #[arg(long, default_value_t = 150)]
    steps: u64,
    /// Tokens per action as a share of the seat's capital at the starting NAV.
    #[arg(long, default_value_t = 0.02)]
    clip_share: f64,
    /// The seat's starting tokens as a share of its capital (default 0: it starts in cash).
    #[arg(long)]
    token_share: Option<f64>,
    /// Q-learning: first-episode softmax temperature and its decay per episode.
    #[arg(long)]
    temperature: Option<f64>,
    #[arg(long)]
    temperature_decay: Option<f64>,
    /// Learning rate (Q: the constant step after the sample-average phase; REINFORCE: the
    /// gradient step per episode).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Discount gamma of the returns (both algorithms).
    #[arg(long)]
    discount: Option<f64>,
    /// Skip the holding seat run on every training seed (halves training time; the learning curve
    /// then has no excess-over-holding series).
    #[arg(long)]
    no_hold_baseline: bool,
    /// Output directory.
    #[arg(long, default_value = "learn-out")]
    out: std::path::PathBuf,
    /// No per-episode lines on stderr.
    #[arg(long)]
    quiet: bool,
}

pub fn learn(args: LearnArgs) -> Result<()> {
    let algo = Algo::parse(&args.algo)?;
    if args.episodes == 0 {
        anyhow::bail!("--episodes must be at least 1");
    }
    if !(args.clip_share > 0.0 && args.clip_share <= 1.0) {
        anyhow::bail!("--clip-share must be in (0, 1]");
    }
    let scenario =
        rwa_sim::scenario::Scenario::load(&args.scenario)?.with(rwa_sim::scenario::Overrides {
            agents: Some(args.agents),
            assets: Some(args.assets),
            steps: Some(args.steps),
            seed: Some(args.seed),
        })?;
    let mut config = LearnConfig::new(scenario, algo, args.episodes, args.seed, args.eval_seeds);
    config.clip_share = args.clip_share;
    config.hold_baseline = !args.no_hold_baseline;
    if let Some(share) = args.token_share {
        if !(0.0..=10.0).contains(&share) {
            anyhow::bail!("--token-share must be in [0, 10]");
        }
        config.token_share = share;
    }
    if let Some(t) = args.temperature {
        config.q.temperature = t;
    }
    if let Some(d) = args.temperature_decay {
        config.q.temperature_decay = d;
    }
    if let Some(gamma) = args.discount {
        if !(0.0..1.0).contains(&gamma) {
            anyhow::bail!("--discount must be in [0, 1)");
        }
        config.q.discount = gamma;
        config.reinforce.discount = gamma;
    }
    if let Some(lr) = args.learning_rate {
        config.q.learning_rate = lr;
        config.reinforce.learning_rate = lr;
    }
    let config = config.with_initial_q();
    // The programs' msg! logs go to stdout off SBF: silence them while the episodes run.
    let silence = crate::StdoutSilenced::new();
    let started = std::time::Instant::now();
    let quiet = args.quiet;
    let (policy, curve) = train(&config, |p| {
        if !quiet {
            let r = &p.result;
            eprintln!(
                "episode {:>4} seed {:>4} T {:.4}: mean reward {:.4} (over holding {:+.4}, stability {:.3}), PnL {:>9.1}, buys {:>3} sells {:>3}",
                p.episode, r.seed, p.temperature, r.mean_reward, p.excess().unwrap_or(f64::NAN), r.mean_stability, r.pnl, r.buys, r.sells
            );
        }
    })?;
    let mut report = LearnReport::new(&config, curve);
    report.seconds_training = started.elapsed().as_secs_f64();
    if !config.eval_seeds.is_empty() {
        let started = std::time::Instant::now();
        report.evaluation = Some(evaluate(&config, &policy)?);
        report.seconds_evaluation = started.elapsed().as_secs_f64();
    }
    write_outputs(&args.out, &policy, &report)?;
    drop(silence);
    print!("{}", report.table());
    println!(
        "wrote {}/policy.json, learning-curve.csv, learning-curve.svg, report.json{}",
        args.out.display(),
        if report.evaluation.is_some() {
            ", evaluation.json"
        } else {
            ""
        }
    );
    Ok(())
}

//! Outputs of a run: CSV files, SVG plots (no plotting dependency: a few hundred bytes of
//! markup per chart) and the summary table printed on stdout.

use std::fmt::Write as _;
use std::path::Path;

use crate::{RunOutput, SimError};

fn write(path: &Path, text: &str) -> Result<(), SimError> {
    std::fs::write(path, text).map_err(|e| SimError::Output(format!("{}: {e}", path.display())))
}

/// Writes steps.csv, agents.csv, summary.json and the plots into `dir` (created if missing).
pub fn write_run(dir: &Path, out: &RunOutput) -> Result<(), SimError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SimError::Output(format!("{}: {e}", dir.display())))?;
    let m = out.summary.assets;
    let mut csv = String::from("step,slot");
    for i in 0..m {
        let _ = write!(csv, ",nav_{i},spot_{i},twap_{i}");
    }
    csv.push_str(",halted,breaker_trips,circuit_breaker_bps,rule_changes,landed,refused,utilisation,debt,bad_debt,liquidations,min_cr,min_cr_nav,gini\n");
    for r in &out.steps {
        let _ = write!(csv, "{},{}", r.step, r.slot);
        for i in 0..m {
            let _ = write!(csv, ",{:.6},{:.6},{:.6}", r.nav[i], r.spot[i], r.twap[i]);
        }
        let _ = writeln!(
            csv,
            ",{},{},{},{},{},{},{:.6},{:.2},{:.2},{},{},{},{:.6}",
            r.halted,
            r.breaker_trips,
            r.circuit_breaker_bps,
            r.rule_changes,
            r.landed,
            r.refused,
            r.utilisation,
            r.debt,
            r.bad_debt,
            r.liquidations,
            r.min_cr.map(|c| format!("{c:.6}")).unwrap_or_default(),
            r.min_cr_nav.map(|c| format!("{c:.6}")).unwrap_or_default(),
            r.gini
        );
    }
    write(&dir.join("steps.csv"), &csv)?;
    let mut agents =
        String::from("id,kind,market,status,start_wealth,end_wealth,pnl,landed,refused\n");
    for a in &out.agents {
        let _ = writeln!(
            agents,
            "{},{},{},{},{:.2},{:.2},{:.2},{},{}",
            a.id,
            a.kind,
            a.market,
            a.status,
            a.start_wealth,
            a.end_wealth,
            a.pnl,
            a.landed,
            a.refused
        );
    }
    write(&dir.join("agents.csv"), &agents)?;
    let json =
        serde_json::to_string_pretty(&out.summary).map_err(|e| SimError::Output(e.to_string()))?;
    write(&dir.join("summary.json"), &json)?;
    write(&dir.join("prices.svg"), &price_chart(out))?;
    write(&dir.join("volatility.svg"), &volatility_chart(out))?;
    write(&dir.join("wealth.svg"), &wealth_chart(out))?;
    Ok(())
}

pub(crate) const PALETTE: [&str; 9] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22",
];
pub(crate) const W: f64 = 800.0;
pub(crate) const H: f64 = 400.0;
pub(crate) const PAD: f64 = 70.0;

/// An axis label with about four significant digits.
fn tick(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude >= 1_000.0 {
        format!("{v:.0}")
    } else if magnitude >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.5}")
    }
}

/// The title, wrapped onto two lines when long.
fn title_lines(title: &str) -> String {
    let line = |y: f64, text: &str| {
        format!(
            r#"<text x="{}" y="{y}" text-anchor="middle" font-size="14">{text}</text>"#,
            W / 2.0
        )
    };
    if title.len() <= 90 {
        return line(20.0, title);
    }
    let cut = title[..90].rfind([' ', ';', ',']).unwrap_or(90);
    format!(
        "{}\n{}",
        line(18.0, &title[..cut]),
        line(36.0, title[cut..].trim_start_matches([' ', ';', ',']))
    )
}

pub(crate) fn frame(title: &str, y_min: f64, y_max: f64, x_label: &str) -> String {
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
{}
<line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">{x_label}</text>
"#,
        title_lines(title),
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD,
        W / 2.0,
        H - 15.0
    );
    for k in 0..=4 {
        let v = y_min + (y_max - y_min) * k as f64 / 4.0;
        let y = H - PAD - (H - 2.0 * PAD) * k as f64 / 4.0;
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{PAD}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/>"##,
            PAD - 4.0,
            y + 4.0,
            tick(v),
            W - PAD
        );
    }
    svg
}

pub(crate) fn polyline(
    points: &[(f64, f64)],
    x_max: f64,
    y_min: f64,
    y_max: f64,
    colour: &str,
    dashed: bool,
) -> String {
    let span = (y_max - y_min).max(1e-12);
    let coords: Vec<String> = points
        .iter()
        .map(|(x, y)| {
            format!(
                "{:.1},{:.1}",
                PAD + (W - 2.0 * PAD) * x / x_max.max(1.0),
                H - PAD - (H - 2.0 * PAD) * (y - y_min) / span
            )
        })
        .collect();
    format!(
        r#"<polyline fill="none" stroke="{colour}" stroke-width="1.2"{} points="{}"/>
"#,
        if dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        },
        coords.join(" ")
    )
}

/// Market price (solid) and NAV (dashed) of up to 8 assets.
pub fn price_chart(out: &RunOutput) -> String {
    let shown = out.summary.assets.min(PALETTE.len());
    let values = out
        .steps
        .iter()
        .flat_map(|r| r.spot[..shown].iter().chain(&r.nav[..shown]).copied());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let x_max = out.steps.len().saturating_sub(1) as f64;
    let mut svg = frame(
        &format!("{}: price (solid) vs NAV (dashed)", out.summary.scenario),
        lo,
        hi,
        "step",
    );
    for i in 0..shown {
        let spot: Vec<(f64, f64)> = out
            .steps
            .iter()
            .map(|r| (r.step as f64, r.spot[i]))
            .collect();
        let nav: Vec<(f64, f64)> = out
            .steps
            .iter()
            .map(|r| (r.step as f64, r.nav[i]))
            .collect();
        svg.push_str(&polyline(&spot, x_max, lo, hi, PALETTE[i], false));
        svg.push_str(&polyline(&nav, x_max, lo, hi, PALETTE[i], true));
    }
    svg.push_str("</svg>\n");
    svg
}

/// Per-asset volatility of the price next to that of the NAV.
pub fn volatility_chart(out: &RunOutput) -> String {
    let assets = &out.summary.per_asset;
    let hi = assets
        .iter()
        .map(|a| a.price_volatility.max(a.nav_volatility))
        .fold(0.0, f64::max)
        .max(1e-9);
    let mut svg = frame(
        &format!(
            "{}: volatility per step, price (blue) vs NAV (orange)",
            out.summary.scenario
        ),
        0.0,
        hi,
        "asset",
    );
    let groups: Vec<(String, [f64; 2])> = assets
        .iter()
        .map(|a| (a.asset.to_string(), [a.price_volatility, a.nav_volatility]))
        .collect();
    svg.push_str(&paired_bars(&groups, hi));
    svg.push_str("</svg>\n");
    svg
}

/// Two bars per group (blue, orange) scaled to `hi`, with the group's label under them.
pub(crate) fn paired_bars(groups: &[(String, [f64; 2])], hi: f64) -> String {
    let mut svg = String::new();
    let slot = (W - 2.0 * PAD) / groups.len().max(1) as f64;
    for (k, (label, values)) in groups.iter().enumerate() {
        for (j, v) in values.iter().enumerate() {
            let height = (H - 2.0 * PAD) * v / hi.max(1e-12);
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="{}"/>"#,
                PAD + slot * k as f64 + slot * (0.1 + 0.4 * j as f64),
                H - PAD - height,
                slot * 0.38,
                PALETTE[j]
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            PAD + slot * (k as f64 + 0.5),
            H - PAD + 14.0
        );
    }
    svg
}

/// Final wealth of every agent, sorted, coloured by kind.
pub fn wealth_chart(out: &RunOutput) -> String {
    let mut agents: Vec<&crate::metrics::AgentRecord> = out.agents.iter().collect();
    agents.sort_by(|a, b| a.end_wealth.total_cmp(&b.end_wealth));
    let hi = agents
        .iter()
        .map(|a| a.end_wealth)
        .fold(0.0, f64::max)
        .max(1e-9);
    let lo = agents.iter().map(|a| a.end_wealth).fold(0.0, f64::min);
    let mut svg = frame(
        &format!(
            "{}: final wealth by agent (Gini {:.3})",
            out.summary.scenario, out.summary.gini_end
        ),
        lo,
        hi,
        "agents, sorted",
    );
    let kinds: Vec<&str> = crate::agents::Kind::ALL.iter().map(|k| k.name()).collect();
    let width = (W - 2.0 * PAD) / agents.len().max(1) as f64;
    let zero = H - PAD - (H - 2.0 * PAD) * (0.0 - lo) / (hi - lo).max(1e-12);
    for (k, a) in agents.iter().enumerate() {
        let y = H - PAD - (H - 2.0 * PAD) * (a.end_wealth - lo) / (hi - lo).max(1e-12);
        let colour = PALETTE[kinds.iter().position(|n| *n == a.kind).unwrap_or(0) % PALETTE.len()];
        let _ = writeln!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} #{}: {:.0}</title></rect>"#,
            PAD + width * k as f64,
            y.min(zero),
            (width * 0.9).max(0.5),
            (zero - y).abs(),
            a.kind,
            a.id,
            a.end_wealth
        );
    }
    for (k, name) in kinds.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11" fill="{}">{name}</text>"#,
            PAD + 130.0 * (k % 5) as f64,
            44.0 + 13.0 * (k / 5) as f64,
            PALETTE[k % PALETTE.len()]
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The summary table printed after a run.
pub fn table(out: &RunOutput) -> String {
    let s = &out.summary;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "scenario {} seed {}: {} agents x {} assets x {} steps (dao {}, lending {})",
        s.scenario, s.seed, s.agents, s.assets, s.steps, s.dao, s.lending
    );
    let _ = writeln!(
        t,
        "{:<6} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "asset", "price vol", "NAV vol", "mean gap", "max gap", "end gap"
    );
    for a in &s.per_asset {
        let _ = writeln!(
            t,
            "{:<6} {:>12.5} {:>12.5} {:>9.2}% {:>9.2}% {:>9.2}%",
            a.asset,
            a.price_volatility,
            a.nav_volatility,
            a.mean_gap * 100.0,
            a.max_gap * 100.0,
            a.final_gap * 100.0
        );
    }
    let _ = writeln!(
        t,
        "sigma_system {:.5} per step (NAV {:.5}); Gini {:.3} -> {:.3}",
        s.sigma_system, s.sigma_system_nav, s.gini_start, s.gini_end
    );
    let _ = writeln!(
        t,
        "breaker trips {}, halted market-steps {}, proposals {}, rule changes {}",
        s.breaker_trips, s.halted_market_steps, s.proposals, s.rule_changes
    );
    if s.lending {
        let _ = writeln!(
            t,
            "lending: utilisation mean {:.1}% max {:.1}%, liquidations {}, bad debt {:.2}, min CR {} (at NAV {}), underwater steps {} (at NAV {})",
            s.mean_utilisation * 100.0,
            s.max_utilisation * 100.0,
            s.liquidations,
            s.bad_debt,
            s.min_cr.map(|c| format!("{:.1}%", c * 100.0)).unwrap_or_else(|| "-".into()),
            s.min_cr_nav.map(|c| format!("{:.1}%", c * 100.0)).unwrap_or_else(|| "-".into()),
            s.underwater_steps,
            s.underwater_steps_nav
        );
    }
    let _ = writeln!(
        t,
        "{:<14} {:>6} {:>14} {:>12} {:>8} {:>8}",
        "agent type", "count", "total PnL", "mean PnL", "landed", "refused"
    );
    for (kind, k) in &s.pnl_by_kind {
        let _ = writeln!(
            t,
            "{:<14} {:>6} {:>14.2} {:>12.2} {:>8} {:>8}",
            kind, k.agents, k.total_pnl, k.mean_pnl, k.landed, k.refused
        );
    }
    if !s.refusals.is_empty() {
        let reasons: Vec<String> = s
            .refusals
            .iter()
            .map(|(k, v)| format!("{k} x{v}"))
            .collect();
        let _ = writeln!(t, "refused: {}", reasons.join(", "));
    }
    let _ = writeln!(
        t,
        "{} tx landed, {} refused; {:.1} steps/s, {:.0} tx/s; time {:.2}s (setup {:.2}s, runtime {:.2}s, shell {:.2}s, checks {:.2}s)",
        s.landed, s.refused, s.steps_per_second, s.transactions_per_second, s.timing.total, s.timing.setup, s.timing.runtime, s.timing.shell, s.timing.checks
    );
    t
}

//! The `rwa-agents` binary as users run it.

use std::process::Command;

fn rwa_agents(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .args(args)
        .output()
        .expect("run rwa-agents")
}

fn quote(curve: &str, supply: &str, amount: &str, side: &str) -> std::process::Output {
    rwa_agents(&[
        "curve",
        "quote",
        "--curve",
        curve,
        "--supply",
        supply,
        "--amount",
        amount,
        "--side",
        side,
        "--decimals",
        "6",
        "--quote-decimals",
        "6",
    ])
}

#[test]
fn curve_quote_prints_exact_linear_cost() {
    let output = quote(
        r#"{"kind":"linear","slope":"0.000001","intercept":"1"}"#,
        "0",
        "1000000000",
        "buy",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // 1000 tokens from 0: 1e-6/2 * 1000^2 + 1000 = 1000.5 quote tokens
    assert_eq!(json["quote_amount"], 1_000_500_000u64);
    assert_eq!(json["price_after"], "1.001");
}

#[test]
fn curve_quote_matches_rwa_math_for_each_kind() {
    let curves = [
        r#"{"kind":"exponential","a":"0.5","k":"0.00001"}"#,
        r#"{"kind":"sigmoid","max_price":"100","k":"0.0005","midpoint":"10000"}"#,
    ];
    for curve_json in curves {
        let curve = rwa_math_curve(curve_json);
        for side in ["buy", "sell"] {
            let output = quote(curve_json, "5000000000", "123456789", side);
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let expected = if side == "buy" {
                curve.buy_cost(5_000_000_000, 123_456_789)
            } else {
                curve.sell_proceeds(5_000_000_000, 123_456_789)
            };
            assert_eq!(json["quote_amount"], expected.unwrap());
        }
    }
}

fn rwa_math_curve(json: &str) -> rwa_math::CurveMarket {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let d = |k: &str| {
        value[k]
            .as_str()
            .unwrap()
            .parse::<rwa_math::Decimal>()
            .unwrap()
    };
    let curve = match value["kind"].as_str().unwrap() {
        "exponential" => rwa_math::Curve::Exponential {
            a: d("a"),
            k: d("k"),
        },
        _ => rwa_math::Curve::Sigmoid {
            max_price: d("max_price"),
            k: d("k"),
            midpoint: d("midpoint"),
        },
    };
    rwa_math::CurveMarket::new(curve, 6, 6).unwrap()
}

#[test]
fn bad_input_exits_non_zero_with_a_reason() {
    let cases = [
        (r#"{"kind":"cubic"}"#, "0", "1", "buy", "invalid curve JSON"),
        (
            r#"{"kind":"linear","slope":"abc","intercept":"1"}"#,
            "0",
            "1",
            "buy",
            "`slope`",
        ),
        (
            r#"{"kind":"linear","slope":"0","intercept":"0"}"#,
            "0",
            "1",
            "buy",
            "slope and intercept are both zero",
        ),
        (
            r#"{"kind":"linear","slope":"1","intercept":"1"}"#,
            "10",
            "11",
            "sell",
            "supply is only 10",
        ),
        (
            r#"{"kind":"linear","slope":"1","intercept":"1"}"#,
            "0",
            "0",
            "buy",
            "greater than zero",
        ),
    ];
    for (curve, supply, amount, side, reason) in cases {
        let output = quote(curve, supply, amount, side);
        assert!(!output.status.success(), "accepted {curve}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(reason),
            "stderr {stderr:?} lacks {reason:?}"
        );
    }
    let output = rwa_agents(&[
        "curve",
        "quote",
        "--curve",
        "{}",
        "--supply",
        "-5",
        "--amount",
        "1",
        "--side",
        "buy",
        "--decimals",
        "6",
        "--quote-decimals",
        "6",
    ]);
    assert!(!output.status.success());
}

#[test]
fn demo_runs_the_agent_economy() {
    let output = rwa_agents(&["demo", "--ticks", "12"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for agent in [
        "market_maker-TBILL27",
        "noise-SOLAR",
        "arbitrage-NYREIT",
        "keeper-TBILL27",
    ] {
        assert!(stdout.contains(agent), "{agent} missing from\n{stdout}");
    }
    let landed: u64 = stdout
        .lines()
        .find_map(|l| {
            l.split(" transactions landed")
                .next()
                .filter(|_| l.contains("transactions landed"))
        })
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        landed > 12,
        "agents landed only {landed} transactions:\n{stdout}"
    );
    assert!(stdout.contains("every resting quote was cancelled"));
}

#[test]
fn risk_erc_equalises_risk_contributions() {
    let directory = std::env::temp_dir().join(format!("rwa-erc-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let cov = directory.join("cov.csv");
    std::fs::write(
        &cov,
        "# three RWAs\n0.04, 0.006, -0.002\n0.006, 0.01, 0.001\n-0.002, 0.001, 0.02\n",
    )
    .unwrap();
    let output = rwa_agents(&[
        "risk",
        "erc",
        "--cov",
        cov.to_str().unwrap(),
        "--repeat",
        "5",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rc: Vec<f64> = json["risk_contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let weights: Vec<f64> = json["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(rc.iter().all(|r| (r - rc[0]).abs() < 1e-9 * rc[0]));
    // coordinate-descent sweeps, then Newton iterations if it switched: some work was done
    assert!(
        json["sweeps"].as_u64().unwrap() + json["iterations"].as_u64().unwrap() > 0
            && json["converged"].as_bool().unwrap()
            && json["solve_us"].as_f64().unwrap() >= 0.0
    );
    // budgets 2:1:1
    let budgets = directory.join("budgets.csv");
    std::fs::write(&budgets, "2 1 1\n").unwrap();
    let output = rwa_agents(&[
        "risk",
        "erc",
        "--cov",
        cov.to_str().unwrap(),
        "--budgets",
        budgets.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rc: Vec<f64> = json["risk_contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!((rc[0] / rc[1] - 2.0).abs() < 1e-8);
    // an asymmetric matrix is refused with a reason
    std::fs::write(&cov, "0.04 0.01\n0.02 0.01\n").unwrap();
    let output = rwa_agents(&["risk", "erc", "--cov", cov.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("symmetric"));
    let _ = std::fs::remove_dir_all(&directory);
}

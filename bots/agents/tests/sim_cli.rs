//! `rwa-agents sim` as users run it: files written, stdout holding only the summary (the
//! programs' host logs silenced), bad input refused with a message naming it.

use std::process::Command;

fn sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .arg("sim")
        .args(args)
        .output()
        .expect("run rwa-agents sim")
}

#[test]
fn a_run_writes_csv_plots_and_summary_and_prints_only_the_table() {
    let dir = std::env::temp_dir().join(format!("rwa-sim-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = sim(&[
        "--scenario",
        "crash",
        "--agents",
        "24",
        "--assets",
        "3",
        "--steps",
        "30",
        "--seed",
        "5",
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("scenario crash seed 5: 24 agents x 3 assets x 30 steps"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Program log") && !stdout.contains("AnchorError"),
        "{stdout}"
    );
    for file in [
        "steps.csv",
        "agents.csv",
        "summary.json",
        "prices.svg",
        "volatility.svg",
        "wealth.svg",
    ] {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!text.is_empty(), "{file}");
    }
    let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1 + 31, "header plus steps 0..=30");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 5);
    assert_eq!(summary["per_asset"].as_array().unwrap().len(), 3);
    assert!(std::fs::read_to_string(dir.join("prices.svg"))
        .unwrap()
        .contains("<polyline"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_refused_naming_it() {
    let out = sim(&["--scenario", "no-such-thing", "--quiet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a built-in scenario"));
    let out = sim(&["--scenario", "baseline", "--agents", "3", "--quiet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("agents.count = 3"));
    let out = sim(&[
        "--experiment",
        "astrology",
        "--steps",
        "5",
        "--seeds",
        "1",
        "--quiet",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--experiment astrology"));
}

#[test]
fn the_airdrop_experiment_writes_its_report_and_plot() {
    let dir = std::env::temp_dir().join(format!("rwa-sim-airdrop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = sim(&[
        "--scenario",
        "incentives",
        "--experiment",
        "airdrop",
        "--steps",
        "30",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("experiment airdrop on incentives: 2 seeds"),
        "{stdout}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("experiment-airdrop.json")).unwrap(),
    )
    .unwrap();
    let arms: Vec<&str> = report["arms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arm"].as_str().unwrap())
        .collect();
    assert_eq!(arms, ["none", "planner", "uniform", "pro_rata"]);
    assert_eq!(report["runs"].as_array().unwrap().len(), 8);
    assert!(std::fs::read_to_string(dir.join("experiment-airdrop.svg"))
        .unwrap()
        .contains("<rect"));
    let _ = std::fs::remove_dir_all(&dir);
}

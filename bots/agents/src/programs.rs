//! Which program addresses the bots talk to: the compiled ones (`declare_id!`) unless the
//! operator says otherwise, so a deployment under new addresses (`anchor keys sync`, then
//! `anchor deploy`) needs no rebuild of the bots. Sources, strongest first: the command-line flags
//! (or their environment variables), agents.toml's `[programs]` table, an Anchor.toml's
//! `[programs.<cluster>]` section, the compiled addresses.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rwa_client::solana_address::Address;
use rwa_client::ProgramIds;
use serde::Deserialize;

/// Program addresses from the command line (global flags of every command).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ProgramArgs {
    /// Read program addresses from this Anchor.toml's `[programs.<anchor-cluster>]` section.
    #[arg(long, global = true, env = "RWA_ANCHOR_TOML")]
    pub anchor_toml: Option<PathBuf>,
    /// The Anchor.toml cluster section to read (localnet, devnet, mainnet ...).
    #[arg(long, global = true, env = "RWA_ANCHOR_CLUSTER")]
    pub anchor_cluster: Option<String>,
    /// The rwa_market program's address (default: the compiled one).
    #[arg(long, global = true, env = "RWA_MARKET_PROGRAM_ID")]
    pub rwa_market_program: Option<String>,
    /// The rwa_lending program's address (default: the compiled one).
    #[arg(long, global = true, env = "RWA_LENDING_PROGRAM_ID")]
    pub rwa_lending_program: Option<String>,
    /// The rule_dao program's address (default: the compiled one).
    #[arg(long, global = true, env = "RULE_DAO_PROGRAM_ID")]
    pub rule_dao_program: Option<String>,
}

/// agents.toml's `[programs]` table: the same choices as the flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramsConfig {
    pub anchor_toml: Option<PathBuf>,
    pub anchor_cluster: Option<String>,
    pub rwa_market: Option<String>,
    pub rwa_lending: Option<String>,
    pub rule_dao: Option<String>,
}

/// One program's address from each source, weakest first; `None` where a source says nothing.
#[derive(Default)]
struct Layer {
    rwa_market: Option<Address>,
    rwa_lending: Option<Address>,
    rule_dao: Option<Address>,
}

impl Layer {
    fn over(self, base: ProgramIds) -> ProgramIds {
        ProgramIds {
            rwa_market: self.rwa_market.unwrap_or(base.rwa_market),
            rwa_lending: self.rwa_lending.unwrap_or(base.rwa_lending),
            rule_dao: self.rule_dao.unwrap_or(base.rule_dao),
        }
    }
}

fn parse(text: Option<&String>, what: &str) -> Result<Option<Address>> {
    text.map(|text| {
        text.trim()
            .parse::<Address>()
            .with_context(|| format!("{what} program address {text:?} is not a base58 address"))
    })
    .transpose()
}

/// `[programs.<cluster>]` of an Anchor.toml (anchor writes it; `anchor keys sync` updates it).
fn from_anchor_toml(path: &Path, cluster: &str) -> Result<Layer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading Anchor.toml {}", path.display()))?;
    let document: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let Some(section) = document
        .get("programs")
        .and_then(|programs| programs.get(cluster))
        .and_then(|section| section.as_table())
    else {
        bail!("{} has no [programs.{cluster}] section", path.display());
    };
    let get = |name: &str| -> Result<Option<Address>> {
        match section.get(name) {
            None => Ok(None),
            Some(value) => {
                // `name = "address"` or `name = { address = "...", idl = "..." }`
                let text = value
                    .as_str()
                    .or_else(|| value.get("address").and_then(|a| a.as_str()))
                    .with_context(|| {
                        format!(
                            "{}: [programs.{cluster}] {name} is not an address",
                            path.display()
                        )
                    })?;
                parse(Some(&text.to_string()), name)
            }
        }
    };
    Ok(Layer {
        rwa_market: get("rwa_market")?,
        rwa_lending: get("rwa_lending")?,
        rule_dao: get("rule_dao")?,
    })
}

fn layer(
    anchor_toml: Option<&PathBuf>,
    anchor_cluster: Option<&String>,
    rwa_market: Option<&String>,
    rwa_lending: Option<&String>,
    rule_dao: Option<&String>,
    base: ProgramIds,
) -> Result<ProgramIds> {
    let base = match anchor_toml {
        Some(path) => {
            from_anchor_toml(path, anchor_cluster.map_or("localnet", |c| c.as_str()))?.over(base)
        }
        None => base,
    };
    Ok(Layer {
        rwa_market: parse(rwa_market, "rwa_market")?,
        rwa_lending: parse(rwa_lending, "rwa_lending")?,
        rule_dao: parse(rule_dao, "rule_dao")?,
    }
    .over(base))
}

/// The addresses to use: `flags` over `config` over the compiled ones.
pub fn resolve(flags: &ProgramArgs, config: Option<&ProgramsConfig>) -> Result<ProgramIds> {
    let mut ids = ProgramIds::COMPILED;
    if let Some(config) = config {
        ids = layer(
            config.anchor_toml.as_ref(),
            config.anchor_cluster.as_ref(),
            config.rwa_market.as_ref(),
            config.rwa_lending.as_ref(),
            config.rule_dao.as_ref(),
            ids,
        )
        .context("agents.toml [programs]")?;
    }
    layer(
        flags.anchor_toml.as_ref(),
        flags.anchor_cluster.as_ref(),
        flags.rwa_market_program.as_ref(),
        flags.rwa_lending_program.as_ref(),
        flags.rule_dao_program.as_ref(),
        ids,
    )
}

/// Resolves and installs the addresses for this process (see `rwa_client::use_program_ids`).
pub fn install(flags: &ProgramArgs, config: Option<&ProgramsConfig>) -> Result<ProgramIds> {
    let ids = resolve(flags, config)?;
    if let Err(current) = rwa_client::use_program_ids(ids) {
        bail!("program addresses already set to {current:?}, cannot switch to {ids:?}");
    }
    Ok(ids)
}

/// The embedded localnet hosts the programs at their compiled addresses only (each program checks
/// its own `declare_id!`): other addresses there are a configuration mistake, named as such.
pub fn require_compiled(ids: ProgramIds, command: &str) -> Result<()> {
    if ids != ProgramIds::COMPILED {
        bail!(
            "`{command}` runs the programs built into this binary, at their compiled addresses \
             ({:?}); drop the program address flags/config, or point the bots at a cluster where \
             the programs are deployed under {ids:?}",
            ProgramIds::COMPILED
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("rwa-programs-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn flags_beat_config_beat_anchor_toml_beat_compiled() {
        let a = Address::new_unique();
        let b = Address::new_unique();
        let c = Address::new_unique();
        let anchor = write(
            "Anchor.toml",
            &format!(
                "[programs.devnet]\nrwa_market = \"{a}\"\nrule_dao = {{ address = \"{c}\", idl = \"idl/rule_dao.json\" }}\n"
            ),
        );
        let config = ProgramsConfig {
            anchor_toml: Some(anchor.clone()),
            anchor_cluster: Some("devnet".into()),
            rwa_lending: Some(b.to_string()),
            ..ProgramsConfig::default()
        };
        let ids = resolve(&ProgramArgs::default(), Some(&config)).unwrap();
        assert_eq!(ids.rwa_market, a, "from Anchor.toml");
        assert_eq!(ids.rule_dao, c, "the table form of Anchor.toml");
        assert_eq!(ids.rwa_lending, b, "from agents.toml");
        let flag = Address::new_unique();
        let flags = ProgramArgs {
            rwa_market_program: Some(flag.to_string()),
            ..ProgramArgs::default()
        };
        assert_eq!(resolve(&flags, Some(&config)).unwrap().rwa_market, flag);
        assert_eq!(
            resolve(&ProgramArgs::default(), None).unwrap(),
            ProgramIds::COMPILED
        );
        let _ = std::fs::remove_file(anchor);
    }

    #[test]
    fn the_repository_anchor_toml_names_the_compiled_addresses() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Anchor.toml");
        for cluster in ["localnet", "devnet"] {
            let flags = ProgramArgs {
                anchor_toml: Some(path.clone()),
                anchor_cluster: Some(cluster.into()),
                ..ProgramArgs::default()
            };
            assert_eq!(
                resolve(&flags, None).unwrap(),
                ProgramIds::COMPILED,
                "{cluster}"
            );
        }
    }

    #[test]
    fn bad_sources_are_refused_by_name() {
        let flags = ProgramArgs {
            rule_dao_program: Some("not-an-address".into()),
            ..ProgramArgs::default()
        };
        let error = resolve(&flags, None).unwrap_err().to_string();
        assert!(
            error.contains("rule_dao") && error.contains("not-an-address"),
            "{error}"
        );
        let anchor = write(
            "NoSection.toml",
            "[programs.localnet]\nrwa_market = \"x\"\n",
        );
        let flags = ProgramArgs {
            anchor_toml: Some(anchor.clone()),
            anchor_cluster: Some("mainnet".into()),
            ..ProgramArgs::default()
        };
        let error = format!("{:#}", resolve(&flags, None).unwrap_err());
        assert!(error.contains("[programs.mainnet]"), "{error}");
        let _ = std::fs::remove_file(anchor);
        assert!(require_compiled(ProgramIds::COMPILED, "demo").is_ok());
        let other = ProgramIds {
            rwa_market: Address::new_unique(),
            ..ProgramIds::COMPILED
        };
        assert!(require_compiled(other, "demo")
            .unwrap_err()
            .to_string()
            .contains("demo"));
    }
}

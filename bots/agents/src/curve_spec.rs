//! The curve JSON operators pass on the command line and in config files. Numbers are decimal
//! strings so no value is ever rounded through a float:
//! {"kind":"linear","slope":"0.000001","intercept":"1"}
//! {"kind":"exponential","a":"0.5","k":"0.00001"}
//! {"kind":"sigmoid","max_price":"100","k":"0.0005","midpoint":"10000"}

use anyhow::{anyhow, Context, Result};
use rwa_math::{Curve, Decimal};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum CurveSpec {
    Linear {
        slope: String,
        intercept: String,
    },
    Exponential {
        a: String,
        k: String,
    },
    Sigmoid {
        max_price: String,
        k: String,
        midpoint: String,
    },
}

fn decimal(field: &str, text: &str) -> Result<Decimal> {
    text.parse::<Decimal>()
        .map_err(|e| anyhow!("curve field `{field}` = {text:?}: {e}"))
}

/// Parses and validates a curve JSON document.
pub fn parse_curve(json: &str) -> Result<Curve> {
    let spec: CurveSpec = serde_json::from_str(json).with_context(|| {
        format!(
            "invalid curve JSON {json:?}; expected e.g. {{\"kind\":\"linear\",\"slope\":\"0.000001\",\"intercept\":\"1\"}}, \
             {{\"kind\":\"exponential\",\"a\":\"0.5\",\"k\":\"0.00001\"}} or \
             {{\"kind\":\"sigmoid\",\"max_price\":\"100\",\"k\":\"0.0005\",\"midpoint\":\"10000\"}} (numbers as strings)"
        )
    })?;
    Ok(match spec {
        CurveSpec::Linear { slope, intercept } => Curve::Linear {
            slope: decimal("slope", &slope)?,
            intercept: decimal("intercept", &intercept)?,
        },
        CurveSpec::Exponential { a, k } => Curve::Exponential {
            a: decimal("a", &a)?,
            k: decimal("k", &k)?,
        },
        CurveSpec::Sigmoid {
            max_price,
            k,
            midpoint,
        } => Curve::Sigmoid {
            max_price: decimal("max_price", &max_price)?,
            k: decimal("k", &k)?,
            midpoint: decimal("midpoint", &midpoint)?,
        },
    })
}

/// The JSON form of a curve (inverse of [`parse_curve`]).
#[cfg(test)]
pub fn curve_json(curve: &Curve) -> serde_json::Value {
    match *curve {
        Curve::Linear { slope, intercept } => {
            serde_json::json!({"kind": "linear", "slope": slope.to_string(), "intercept": intercept.to_string()})
        }
        Curve::Exponential { a, k } => {
            serde_json::json!({"kind": "exponential", "a": a.to_string(), "k": k.to_string()})
        }
        Curve::Sigmoid {
            max_price,
            k,
            midpoint,
        } => serde_json::json!({
            "kind": "sigmoid", "max_price": max_price.to_string(), "k": k.to_string(), "midpoint": midpoint.to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_round_trips() {
        for json in [
            r#"{"kind":"linear","slope":"0.000001","intercept":"1"}"#,
            r#"{"kind":"exponential","a":"0.5","k":"0.00001"}"#,
            r#"{"kind":"sigmoid","max_price":"100","k":"0.0005","midpoint":"10000"}"#,
        ] {
            let curve = parse_curve(json).unwrap();
            assert_eq!(parse_curve(&curve_json(&curve).to_string()).unwrap(), curve);
        }
    }

    #[test]
    fn refuses_bad_documents_with_a_reason() {
        let message = |json: &str| format!("{:#}", parse_curve(json).unwrap_err());
        assert!(message(r#"{"kind":"cubic"}"#).contains("invalid curve JSON"));
        assert!(message(r#"{"kind":"linear","slope":"1"}"#).contains("intercept"));
        assert!(message(r#"{"kind":"linear","slope":"-1","intercept":"1"}"#).contains("`slope`"));
        assert!(message(r#"{"kind":"linear","slope":1,"intercept":"1"}"#)
            .contains("invalid curve JSON"));
        assert!(
            message(r#"{"kind":"linear","slope":"1","intercept":"1","extra":"2"}"#)
                .contains("invalid curve JSON")
        );
        assert!(message("not json").contains("invalid curve JSON"));
    }
}

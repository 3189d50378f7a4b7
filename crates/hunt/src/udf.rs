//! `cidr_contains(cidr, ip)`: the one scalar function hunts need that SQL lacks.

use datafusion::arrow;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::Int32Type;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;

/// Parses a network (`10.0.0.0/8`, `2001:db8::/32`) or a bare address (as /32 or /128).
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    s.parse::<IpNet>().ok().map(|n| n.trunc())
}

/// Whether `ip` (text) is inside `net`; `None` when the text is not an address.
fn contains(net: &IpNet, ip: &str) -> Option<bool> {
    ip.trim().parse::<IpAddr>().ok().map(|a| net.contains(&a))
}

/// The scalar UDF, ready to register.
pub(crate) fn cidr_contains() -> ScalarUDF {
    ScalarUDF::new_from_impl(CidrContains {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CidrContains {
    signature: Signature,
}

/// Text values of an argument as a `StringArray` (dictionaries and other string types cast).
fn as_strings(a: &ArrayRef) -> DfResult<StringArray> {
    let cast = arrow::compute::cast(a, &DataType::Utf8)?;
    Ok(cast.as_string::<i32>().clone())
}

impl ScalarUDFImpl for CidrContains {
    fn name(&self) -> &str {
        "cidr_contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let [cidr, ip] = args.args.as_slice() else {
            return Err(datafusion::error::DataFusionError::Plan(
                "cidr_contains takes two arguments: (cidr, ip)".into(),
            ));
        };
        // The common case: a constant network against a column. Parse the network once and,
        // for dictionary columns, test each distinct address once.
        if let ColumnarValue::Scalar(c) = cidr {
            let net = scalar_text(c).as_deref().and_then(parse_net);
            let Some(net) = net else {
                return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
            };
            return match ip {
                ColumnarValue::Scalar(s) => Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                    scalar_text(s).and_then(|t| contains(&net, &t)),
                ))),
                ColumnarValue::Array(a) => {
                    if let Some(dict) = a.as_dictionary_opt::<Int32Type>() {
                        let values = as_strings(dict.values())?;
                        let hits: BooleanArray = values
                            .iter()
                            .map(|v| v.and_then(|t| contains(&net, t)))
                            .collect();
                        let out = arrow::compute::take(&hits, dict.keys(), None)?;
                        return Ok(ColumnarValue::Array(out));
                    }
                    let values = as_strings(a)?;
                    let out: BooleanArray = values
                        .iter()
                        .map(|v| v.and_then(|t| contains(&net, t)))
                        .collect();
                    Ok(ColumnarValue::Array(Arc::new(out)))
                }
            };
        }
        let cidrs = as_strings(&cidr.to_array(n)?)?;
        let ips = as_strings(&ip.to_array(n)?)?;
        let out: BooleanArray = cidrs
            .iter()
            .zip(ips.iter())
            .map(|(c, i)| match (c.and_then(parse_net), i) {
                (Some(net), Some(i)) => contains(&net, i),
                _ => None,
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

fn scalar_text(s: &ScalarValue) -> Option<String> {
    if s.is_null() {
        return None;
    }
    match s {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => v.clone(),
        ScalarValue::Dictionary(_, inner) => scalar_text(inner),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_net_accepts_addresses_and_networks() {
        assert_eq!(parse_net("10.1.2.3").unwrap().to_string(), "10.1.2.3/32");
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_net("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert!(parse_net("10.0.0.0/33").is_none());
        assert!(parse_net("nope").is_none());
    }

    #[test]
    fn contains_v4_and_v6_and_rejects_garbage() {
        let v4 = parse_net("10.20.0.0/16").unwrap();
        assert_eq!(contains(&v4, "10.20.3.4"), Some(true));
        assert_eq!(contains(&v4, "10.21.3.4"), Some(false));
        assert_eq!(contains(&v4, "::1"), Some(false));
        assert_eq!(contains(&v4, "x"), None);
        let v6 = parse_net("2001:db8::/32").unwrap();
        assert_eq!(contains(&v6, "2001:db8:1::5"), Some(true));
    }
}

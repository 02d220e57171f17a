//! The `Condition` element: operators of every family, the `IfExists` suffix, the
//! `ForAnyValue:` / `ForAllValues:` set prefixes, and their evaluation against a [`Context`].
//!
//! Semantics (AWS "Condition operators"): the keys of one operator, and the operators of one
//! block, must all match (AND); the values of one key match if any does (OR). A key absent from
//! the request makes the condition false, except `...IfExists` (true), `Null`, the negated
//! operators (`StringNotEquals`, `NotIpAddress`, ...: true, as AWS documents), and the set
//! prefixes (`ForAllValues:` true, `ForAnyValue:` false on an absent or empty key).

use std::net::IpAddr;

use crate::date;
use crate::eval::Context;
use crate::pattern::{matches, Piece, Template};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String {
        ignore_case: bool,
        like: bool,
    },
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
    /// An operator IAM does not know, accepted only with an empty block; it checks nothing.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    AnyValue,
    AllValues,
}

/// A parsed operator name such as `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    family: Family,
    negated: bool,
    if_exists: bool,
    set: SetOp,
}

impl Operator {
    /// Reads an operator name; `None` when IAM does not know it.
    pub(crate) fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (SetOp::AnyValue, r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (SetOp::AllValues, r)
        } else {
            (SetOp::Single, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        use Cmp::*;
        let s = |ignore_case, like| Family::String { ignore_case, like };
        let (family, negated) = match base {
            "StringEquals" => (s(false, false), false),
            "StringNotEquals" => (s(false, false), true),
            "StringEqualsIgnoreCase" => (s(true, false), false),
            "StringNotEqualsIgnoreCase" => (s(true, false), true),
            "StringLike" => (s(false, true), false),
            "StringNotLike" => (s(false, true), true),
            "NumericEquals" => (Family::Numeric(Eq), false),
            "NumericNotEquals" => (Family::Numeric(Eq), true),
            "NumericLessThan" => (Family::Numeric(Lt), false),
            "NumericLessThanEquals" => (Family::Numeric(Le), false),
            "NumericGreaterThan" => (Family::Numeric(Gt), false),
            "NumericGreaterThanEquals" => (Family::Numeric(Ge), false),
            "DateEquals" => (Family::Date(Eq), false),
            "DateNotEquals" => (Family::Date(Eq), true),
            "DateLessThan" => (Family::Date(Lt), false),
            "DateLessThanEquals" => (Family::Date(Le), false),
            "DateGreaterThan" => (Family::Date(Gt), false),
            "DateGreaterThanEquals" => (Family::Date(Ge), false),
            "Bool" => (Family::Bool, false),
            "BinaryEquals" => (Family::Binary, false),
            "IpAddress" => (Family::Ip, false),
            "NotIpAddress" => (Family::Ip, true),
            "ArnEquals" | "ArnLike" => (Family::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Family::Arn, true),
            "Null" => (Family::Null, false),
            _ => return None,
        };
        Some(Operator {
            family,
            negated,
            if_exists,
            set,
        })
    }

    pub(crate) fn unknown() -> Operator {
        Operator {
            family: Family::Unknown,
            negated: false,
            if_exists: false,
            set: SetOp::Single,
        }
    }

    pub(crate) fn is_date(&self) -> bool {
        matches!(self.family, Family::Date(_))
    }
}

/// One value of a condition key, with what can be read ahead of time read.
#[derive(Debug, Clone)]
struct Value {
    template: Template,
    /// The number, date (epoch seconds) or network, when the value has no variables.
    number: Option<f64>,
    net: Option<(IpAddr, u8)>,
    /// The six parts of an `Arn*` value, compiled, when the value has no variables.
    arn: Option<Vec<Vec<Piece>>>,
}

/// One key under one operator: `"StringEquals": {"aws:username": ["a", "b"]}`.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    op: Operator,
    /// The key as written (reported in `missing_context`).
    key: String,
    key_lower: String,
    values: Vec<Value>,
}

impl Condition {
    /// Compiles one key's values; `variables` when the document is version 2012-10-17.
    pub(crate) fn new(op: Operator, key: &str, values: &[String], variables: bool) -> Condition {
        let like = matches!(op.family, Family::String { like: true, .. } | Family::Arn);
        let values = values
            .iter()
            .map(|v| {
                let template = Template::compile(v, variables, like);
                let fixed = template.resolve_text(&Context::new());
                let fixed = fixed.as_deref();
                let number = match op.family {
                    Family::Numeric(_) => fixed.and_then(number),
                    Family::Date(_) => fixed.and_then(date::parse),
                    _ => None,
                };
                let net = match op.family {
                    Family::Ip => fixed.and_then(cidr),
                    _ => None,
                };
                let arn = match op.family {
                    Family::Arn => fixed.and_then(arn_parts),
                    _ => None,
                };
                Value {
                    template,
                    number,
                    net,
                    arn,
                }
            })
            .collect();
        Condition {
            op,
            key: key.to_owned(),
            key_lower: key.to_ascii_lowercase(),
            values,
        }
    }

    /// Whether the request satisfies this condition; an absent key is pushed on `missing`.
    pub(crate) fn holds(&self, ctx: &Context, missing: &mut Vec<String>) -> bool {
        let found = ctx.get_lower(&self.key_lower);
        for v in &self.values {
            for k in v.template.variable_keys() {
                if ctx.get_lower(k).is_none() {
                    missing.push(k.to_owned());
                }
            }
        }
        if self.op.family == Family::Unknown {
            return true;
        }
        if self.op.family == Family::Null {
            let present = found.is_some_and(|v| !v.is_empty());
            return self.values.iter().any(|v| {
                match v
                    .template
                    .resolve_text(ctx)
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                {
                    Some(t) if t == "true" => !present,
                    Some(t) if t == "false" => present,
                    _ => false,
                }
            });
        }
        let request = match found {
            Some(v) if !v.is_empty() => v,
            other => {
                if other.is_none() {
                    missing.push(self.key.clone());
                }
                return match self.op.set {
                    SetOp::AllValues => true,
                    SetOp::AnyValue => self.op.if_exists,
                    SetOp::Single => self.op.if_exists || self.op.negated,
                };
            }
        };
        let hit = |r: &String| self.values.iter().any(|v| self.value_matches(v, r, ctx));
        match (self.op.set, self.op.negated) {
            (SetOp::Single, false) => request.iter().any(hit),
            (SetOp::Single, true) => !request.iter().any(hit),
            (SetOp::AnyValue, false) => request.iter().any(hit),
            (SetOp::AnyValue, true) => request.iter().any(|r| !hit(r)),
            (SetOp::AllValues, false) => request.iter().all(hit),
            (SetOp::AllValues, true) => request.iter().all(|r| !hit(r)),
        }
    }

    /// The positive form of the operator (negation is applied by the caller).
    fn value_matches(&self, v: &Value, request: &str, ctx: &Context) -> bool {
        match self.op.family {
            Family::String { like: true, .. } => match v.template.resolve(ctx) {
                Some(p) => matches(&p, request, false),
                None => false,
            },
            Family::String {
                ignore_case: true, ..
            } => v.template.resolve_text(ctx).is_some_and(|t| {
                t.chars()
                    .flat_map(char::to_lowercase)
                    .eq(request.chars().flat_map(char::to_lowercase))
            }),
            Family::String { .. } | Family::Binary => {
                v.template.resolve_text(ctx).is_some_and(|t| t == request)
            }
            Family::Bool => v
                .template
                .resolve_text(ctx)
                .is_some_and(|t| t.eq_ignore_ascii_case(request)),
            Family::Numeric(cmp) => {
                let want = v
                    .number
                    .or_else(|| v.template.resolve_text(ctx).as_deref().and_then(number));
                compare(number(request), want, cmp)
            }
            Family::Date(cmp) => {
                let want = v.number.or_else(|| {
                    v.template
                        .resolve_text(ctx)
                        .as_deref()
                        .and_then(date::parse)
                });
                compare(date::parse(request), want, cmp)
            }
            Family::Ip => {
                let net = v
                    .net
                    .or_else(|| v.template.resolve_text(ctx).as_deref().and_then(cidr));
                match (net, request.trim().parse::<IpAddr>()) {
                    (Some(net), Ok(ip)) => in_network(ip, net),
                    _ => false,
                }
            }
            Family::Arn => match &v.arn {
                Some(parts) => arn_like(parts, request),
                None => v
                    .template
                    .resolve_text(ctx)
                    .and_then(|t| arn_parts(&t))
                    .is_some_and(|parts| arn_like(&parts, request)),
            },
            Family::Null | Family::Unknown => false,
        }
    }
}

fn compare(have: Option<f64>, want: Option<f64>, cmp: Cmp) -> bool {
    let (Some(h), Some(w)) = (have, want) else {
        return false;
    };
    match cmp {
        Cmp::Eq => h == w,
        Cmp::Lt => h < w,
        Cmp::Le => h <= w,
        Cmp::Gt => h > w,
        Cmp::Ge => h >= w,
    }
}

/// Integers and decimals (`10`, `-3`, `2.5`); nothing else (no exponents, no `inf`).
fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if ok {
        t.parse().ok()
    } else {
        None
    }
}

/// `203.0.113.0/24`, `2001:db8::/32`, or a single address.
fn cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_network(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An `Arn*` value split into its six parts, each compiled with wildcards.
fn arn_parts(pattern: &str) -> Option<Vec<Vec<Piece>>> {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() != 6 {
        return None;
    }
    parts
        .iter()
        .map(|p| {
            Template::compile(p, false, true)
                .resolve(&Context::new())
                .map(|c| c.into_owned())
        })
        .collect()
}

/// `ArnLike`: the ARN split into its six parts, each matched against the value's part.
fn arn_like(pattern: &[Vec<Piece>], arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let matched = pattern
        .iter()
        .all(|p| parts.next().is_some_and(|a| matches(p, a, false)));
    matched && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse() {
        assert!(Operator::parse("ForAnyValue:StringEqualsIfExists").is_some());
        assert!(Operator::parse("ForAnyValue::StringEqualsIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("NullIfExists").is_some());
    }

    #[test]
    fn networks() {
        let v4 = cidr("203.0.113.0/24").expect("cidr");
        assert!(in_network("203.0.113.9".parse().expect("ip"), v4));
        assert!(!in_network("203.0.114.9".parse().expect("ip"), v4));
        let v6 = cidr("2001:db8::/32").expect("cidr");
        assert!(in_network("2001:db8:1::1".parse().expect("ip"), v6));
        assert!(!in_network("203.0.113.9".parse().expect("ip"), v6));
        assert!(cidr("1.2.3.4/33").is_none());
        assert!(in_network(
            "0.0.0.1".parse().expect("ip"),
            cidr("0.0.0.0/0").expect("any")
        ));
    }

    #[test]
    fn numbers_and_arns() {
        assert_eq!(number("10"), Some(10.0));
        assert_eq!(number("-2.5"), Some(-2.5));
        assert_eq!(number("1e3"), None);
        assert_eq!(number("inf"), None);
        let p = arn_parts("arn:aws:iam::*:role/S3*").expect("six parts");
        assert!(arn_like(&p, "arn:aws:iam::123456789012:role/S3Access"));
        assert!(!arn_like(&p, "arn:aws:iam::1:user/S3"));
        assert!(!arn_like(&p, "arn:aws:iam"));
        assert!(arn_parts("arn:aws:iam").is_none());
    }

    fn holds(op: &str, values: &[&str], request: Option<&[&str]>) -> bool {
        let op = Operator::parse(op).expect("known operator");
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let c = Condition::new(op, "K:Key", &values, true);
        let mut ctx = Context::new();
        if let Some(r) = request {
            ctx.set_multi("k:key", r.iter().map(|v| v.to_string()).collect());
        }
        c.holds(&ctx, &mut Vec::new())
    }

    #[test]
    fn absent_keys() {
        assert!(!holds("StringEquals", &["a"], None));
        assert!(holds("StringEqualsIfExists", &["a"], None));
        assert!(holds("StringNotEquals", &["a"], None));
        assert!(holds("ForAllValues:StringEquals", &["a"], None));
        assert!(holds("ForAllValues:StringEquals", &["a"], Some(&[])));
        assert!(!holds("ForAnyValue:StringEquals", &["a"], None));
        assert!(holds("ForAnyValue:StringEqualsIfExists", &["a"], None));
        assert!(holds("Null", &["true"], None));
        assert!(!holds("Null", &["false"], None));
        assert!(holds("Null", &["false"], Some(&["x"])));
    }

    #[test]
    fn negated_operators_on_several_values() {
        assert!(!holds("StringNotEquals", &["a", "b"], Some(&["b"])));
        assert!(holds("StringNotEquals", &["a", "b"], Some(&["c"])));
        assert!(holds(
            "ForAnyValue:StringNotEquals",
            &["a"],
            Some(&["a", "c"])
        ));
        assert!(!holds(
            "ForAllValues:StringNotEquals",
            &["a"],
            Some(&["a", "c"])
        ));
        assert!(holds("NumericGreaterThanEquals", &["5"], Some(&["5.0"])));
        assert!(holds(
            "DateEquals",
            &["2020-01-01T00:00:00Z"],
            Some(&["1577836800"])
        ));
        assert!(holds("Bool", &["True"], Some(&["true"])));
    }
}

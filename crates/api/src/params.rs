//! Request parameters of the AWS Query protocol: `Action=DescribeDBClusters&Version=2014-10-31
//! &Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mariadb...`.
//!
//! The AWS CLI POSTs them as an `application/x-www-form-urlencoded` body; other clients may put
//! them in the URL query string. [`Params`] merges both (the body wins), refuses what cannot be
//! read (bodies over [`MAX_BODY_BYTES`], bytes that are not UTF-8 after decoding, a name given
//! twice) and offers typed accessors that fail with the AWS error code and message a client of
//! the real service sees ([`ParamError`]).
//!
//! Lists and structures use botocore's flattened names, built from the list's `locationName`
//! in the service model: `VpcSecurityGroupIds.VpcSecurityGroupId.1`, `Tags.Tag.1.Key`,
//! `Filters.Filter.1.Values.Value.1`, `EnableCloudwatchLogsExports.member.1`. Indexes start at
//! 1 and are contiguous; an empty list is sent as the bare name with an empty value.

use std::collections::BTreeMap;

use percent_encoding::percent_decode;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

/// The largest request body (and query string) ferry reads. The biggest real request, a
/// `RestoreDBClusterFromS3` with 50 tags, is a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest client value echoed back in an error message.
const ECHO_MAX_CHARS: usize = 100;

/// A request parameter that is missing or cannot be used. `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    /// The AWS error code: `MissingParameter`, `InvalidParameterValue`,
    /// `InvalidParameterCombination`, `MalformedQueryString`, `MissingAction`, ...
    pub code: &'static str,
    pub message: String,
}

impl ParamError {
    /// `MissingParameter`: "The request must contain the parameter {name}".
    pub fn missing(name: &str) -> ParamError {
        ParamError {
            code: "MissingParameter",
            message: format!("The request must contain the parameter {name}"),
        }
    }

    /// `InvalidParameterValue` with the given message.
    pub fn invalid_value(message: impl Into<String>) -> ParamError {
        ParamError {
            code: "InvalidParameterValue",
            message: message.into(),
        }
    }

    /// `InvalidParameterCombination` with the given message.
    pub fn invalid_combination(message: impl Into<String>) -> ParamError {
        ParamError {
            code: "InvalidParameterCombination",
            message: message.into(),
        }
    }

    /// `MalformedQueryString`: the body or query string itself cannot be read.
    pub fn malformed(message: impl Into<String>) -> ParamError {
        ParamError {
            code: "MalformedQueryString",
            message: message.into(),
        }
    }

    /// `RequestEntityTooLarge` (413): a body or query string over [`MAX_BODY_BYTES`].
    pub fn too_large() -> ParamError {
        ParamError {
            code: "RequestEntityTooLarge",
            message: format!(
                "The request is larger than the {MAX_BODY_BYTES} bytes this service accepts."
            ),
        }
    }

    /// The HTTP status of the error response: 413 for an oversized request, else 400.
    pub fn status(&self) -> u16 {
        match self.code {
            "RequestEntityTooLarge" => 413,
            _ => 400,
        }
    }
}

/// The parameters of one Query-protocol request, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Reads the parameters from a raw URL query string (without `?`, may be empty) and a
    /// form-urlencoded body (may be empty). A name present in both takes the body's value.
    pub fn parse(query: &str, body: &[u8]) -> Result<Params, ParamError> {
        if body.len() > MAX_BODY_BYTES || query.len() > MAX_BODY_BYTES {
            return Err(ParamError::too_large());
        }
        let mut values = decode_form(query.as_bytes(), "query string")?;
        values.extend(decode_form(body, "request body")?);
        Ok(Params { values })
    }

    /// Builds parameters from name/value pairs (tests and internal callers).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        Params {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// `Action`, if present and not empty.
    pub fn action(&self) -> Option<&str> {
        self.get("Action").filter(|a| !a.is_empty())
    }

    /// `Version`, if present and not empty.
    pub fn version(&self) -> Option<&str> {
        self.get("Version").filter(|v| !v.is_empty())
    }

    /// The value of `name`, if present (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `name`; `MissingParameter` if absent or empty.
    pub fn required(&self, name: &str) -> Result<&str, ParamError> {
        match self.get(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(ParamError::missing(name)),
        }
    }

    /// `name` as a boolean: `true` / `false` (botocore's spelling; case-insensitive here).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        if raw.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if raw.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(ParamError::invalid_value(format!(
                "Invalid value '{}' for parameter {name}: expected 'true' or 'false'.",
                echo(raw)
            )))
        }
    }

    /// `name` as a 32-bit integer (`Port`, `MaxRecords`, `BackupRetentionPeriod`, ...).
    pub fn int(&self, name: &str) -> Result<Option<i32>, ParamError> {
        self.number(name, "an integer")
    }

    /// `name` as a 64-bit integer (`BacktrackWindow`, ...).
    pub fn i64(&self, name: &str) -> Result<Option<i64>, ParamError> {
        self.number(name, "a 64-bit integer")
    }

    fn number<T: std::str::FromStr>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, ParamError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        raw.trim().parse().map(Some).map_err(|_| {
            ParamError::invalid_value(format!(
                "Invalid value '{}' for parameter {name}: expected {what}.",
                echo(raw)
            ))
        })
    }

    /// `name` as a timestamp (`StartTime`, `EndTime`): ISO 8601 as botocore sends it
    /// (`2024-01-02T03:04:05Z`, optional fraction and offset).
    pub fn timestamp(&self, name: &str) -> Result<Option<OffsetDateTime>, ParamError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let text = raw.trim();
        OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
            .map(Some)
            .map_err(|_| {
                ParamError::invalid_value(format!(
                    "Invalid value '{}' for parameter {name}: expected an ISO 8601 timestamp \
                     such as 2024-01-31T12:00:00Z.",
                    echo(raw)
                ))
            })
    }

    /// The members of list `prefix` whose `locationName` is `member`:
    /// `list("VpcSecurityGroupIds", "VpcSecurityGroupId")` reads
    /// `VpcSecurityGroupIds.VpcSecurityGroupId.1`, `.2`, ... up to the first missing index.
    /// An absent list and an empty one (`VpcSecurityGroupIds=`) both give an empty vector.
    pub fn list(&self, prefix: &str, member: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for n in 1usize.. {
            match self.get(&format!("{prefix}.{member}.{n}")) {
                Some(value) => out.push(value),
                None => break,
            }
        }
        out
    }

    /// The members of a list of structures: `structs("Tags", "Tag")` reads `Tags.Tag.1.Key`,
    /// `Tags.Tag.1.Value`, `Tags.Tag.2.Key`, ... and gives one map per index with the field
    /// names after `Tags.Tag.N.` as keys (`Key`, `Value`; nested lists keep their full
    /// remainder, e.g. `Values.Value.1`). Stops at the first index with no field.
    pub fn structs(&self, prefix: &str, member: &str) -> Vec<BTreeMap<String, String>> {
        let mut out = Vec::new();
        for n in 1usize.. {
            let item_prefix = format!("{prefix}.{member}.{n}.");
            let item: BTreeMap<String, String> = self
                .values
                .range(item_prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&item_prefix))
                .map(|(k, v)| (k[item_prefix.len()..].to_owned(), v.clone()))
                .collect();
            if item.is_empty() {
                break;
            }
            out.push(item);
        }
        out
    }

    /// `Tags.Tag.N.Key` / `.Value` as pairs; a tag without `Key` is `MissingParameter`, a
    /// missing `Value` is the empty string (as RDS stores it).
    pub fn tags(&self) -> Result<Vec<(String, String)>, ParamError> {
        self.structs("Tags", "Tag")
            .into_iter()
            .enumerate()
            .map(|(i, mut tag)| {
                let key = tag
                    .remove("Key")
                    .ok_or_else(|| ParamError::missing(&format!("Tags.Tag.{}.Key", i + 1)))?;
                Ok((key, tag.remove("Value").unwrap_or_default()))
            })
            .collect()
    }

    /// `Filters.Filter.N.Name` with `Filters.Filter.N.Values.Value.M` as `(name, values)`
    /// pairs. A filter without a name is `MissingParameter`; one without values is
    /// `InvalidParameterValue`, as in RDS.
    pub fn filters(&self) -> Result<Vec<(String, Vec<String>)>, ParamError> {
        let mut out = Vec::new();
        for n in 1usize.. {
            let base = format!("Filters.Filter.{n}");
            let name = self.get(&format!("{base}.Name"));
            let values: Vec<String> = self
                .list(&format!("{base}.Values"), "Value")
                .into_iter()
                .map(str::to_owned)
                .collect();
            let present = name.is_some()
                || !values.is_empty()
                || self.get(&format!("{base}.Values")).is_some();
            if !present {
                break;
            }
            let name = match name {
                Some(name) if !name.is_empty() => name.to_owned(),
                _ => return Err(ParamError::missing(&format!("{base}.Name"))),
            };
            if values.is_empty() {
                return Err(ParamError::invalid_value(format!(
                    "The filter {name} ({base}) must have at least one value."
                )));
            }
            out.push((name, values));
        }
        Ok(out)
    }

    /// Every parameter name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The names that are not `Action`, `Version` or covered by `known`: a name is covered
    /// when it equals a known name or starts with it followed by `.` (so `Tags` covers
    /// `Tags.Tag.1.Key`). For reporting parameters an action does not take.
    pub fn unknown_names<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.names()
            .filter(|name| *name != "Action" && *name != "Version")
            .filter(|name| {
                !known.iter().any(|k| {
                    name == k
                        || (name.starts_with(k) && name.as_bytes().get(k.len()) == Some(&b'.'))
                })
            })
            .collect()
    }
}

/// Decodes `a=1&b=x+y&c=%2F` into a map. `+` is a space; every name and value must be UTF-8
/// after percent-decoding; a name may appear only once.
fn decode_form(raw: &[u8], source: &str) -> Result<BTreeMap<String, String>, ParamError> {
    let mut out = BTreeMap::new();
    for piece in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        let name = decode_component(name, source)?;
        if name.is_empty() {
            continue;
        }
        let value = decode_component(value, source).map_err(|_| {
            ParamError::malformed(format!(
                "The value of parameter {} in the {source} is not valid UTF-8 after \
                 percent-decoding.",
                echo(&name)
            ))
        })?;
        if out.contains_key(&name) {
            return Err(ParamError::malformed(format!(
                "The parameter {} appears more than once in the {source}.",
                echo(&name)
            )));
        }
        out.insert(name, value);
    }
    Ok(out)
}

fn decode_component(raw: &[u8], source: &str) -> Result<String, ParamError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| {
        ParamError::malformed(format!(
            "A parameter name in the {source} is not valid UTF-8 after percent-decoding."
        ))
    })
}

/// Client input for an error message: at most [`ECHO_MAX_CHARS`] characters, control
/// characters shown as `?`.
fn echo(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(ECHO_MAX_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().nth(ECHO_MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Params {
        Params::parse("", text.as_bytes()).unwrap()
    }

    #[test]
    fn body_and_query_merge_with_the_body_winning() {
        let p = Params::parse(
            "Action=DescribeDBInstances&MaxRecords=20",
            b"Action=DescribeDBClusters&Version=2014-10-31",
        )
        .unwrap();
        assert_eq!(p.action(), Some("DescribeDBClusters"));
        assert_eq!(p.version(), Some("2014-10-31"));
        assert_eq!(p.int("MaxRecords").unwrap(), Some(20));
        assert_eq!(
            p.names().collect::<Vec<_>>(),
            ["Action", "MaxRecords", "Version"]
        );
    }

    #[test]
    fn values_are_form_decoded() {
        let p = body("MasterUserPassword=a%2Bb+c%26d%3D%25&Name=%E2%9C%93&Empty=&Bare");
        assert_eq!(p.get("MasterUserPassword"), Some("a+b c&d=%"));
        assert_eq!(p.get("Name"), Some("\u{2713}"));
        assert_eq!(p.get("Empty"), Some(""));
        assert_eq!(p.get("Bare"), Some(""));
        assert_eq!(p.get("Absent"), None);
        assert_eq!(p.action(), None);
    }

    #[test]
    fn required_reports_the_missing_name_as_rds_does() {
        let p = body("DBClusterIdentifier=&Engine=mariadb");
        assert_eq!(p.required("Engine").unwrap(), "mariadb");
        let e = p.required("DBClusterIdentifier").unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.to_string(),
            "The request must contain the parameter DBClusterIdentifier"
        );
        assert_eq!(
            p.required("S3BucketName").unwrap_err().code,
            "MissingParameter"
        );
    }

    #[test]
    fn booleans_and_integers_are_strict() {
        let p = body("A=true&B=false&C=yes&D=3306&E=33x&F=-1&G=9999999999");
        assert_eq!(p.bool("A").unwrap(), Some(true));
        assert_eq!(p.bool("B").unwrap(), Some(false));
        assert_eq!(p.bool("Z").unwrap(), None);
        let e = p.bool("C").unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(
            e.message.contains("'yes'") && e.message.contains(" C"),
            "{e}"
        );
        assert_eq!(p.int("D").unwrap(), Some(3306));
        assert_eq!(p.int("F").unwrap(), Some(-1));
        let e = p.int("E").unwrap_err();
        assert!(
            e.message.contains("'33x'") && e.message.contains("parameter E"),
            "{e}"
        );
        assert_eq!(p.int("G").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(p.i64("G").unwrap(), Some(9_999_999_999));
    }

    #[test]
    fn timestamps_accept_what_botocore_sends() {
        let p = body("S=2024-01-02T03:04:05Z&T=2024-01-02T03:04:05.250000Z&U=yesterday");
        let s = p.timestamp("S").unwrap().unwrap();
        assert_eq!(s.unix_timestamp(), 1_704_164_645);
        let t = p.timestamp("T").unwrap().unwrap();
        assert_eq!(t.millisecond(), 250);
        assert_eq!(p.timestamp("U").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(p.timestamp("V").unwrap(), None);
    }

    #[test]
    fn lists_use_the_member_location_name() {
        let p = body(
            "VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2\
             &VpcSecurityGroupIds.VpcSecurityGroupId.4=sg-4&AvailabilityZones=\
             &EnableCloudwatchLogsExports.member.1=error",
        );
        assert_eq!(
            p.list("VpcSecurityGroupIds", "VpcSecurityGroupId"),
            ["sg-1", "sg-2"]
        );
        assert!(p.list("AvailabilityZones", "AvailabilityZone").is_empty());
        assert!(p.list("Nothing", "Thing").is_empty());
        assert_eq!(p.list("EnableCloudwatchLogsExports", "member"), ["error"]);
    }

    #[test]
    fn structs_tags_and_filters() {
        let p = body(
            "Tags.Tag.1.Key=env&Tags.Tag.1.Value=prod&Tags.Tag.2.Key=team\
             &Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mariadb\
             &Filters.Filter.1.Values.Value.2=aurora-mysql&Filters.Filter.2.Name=db-cluster-id\
             &Filters.Filter.2.Values.Value.1=c1",
        );
        let tags = p.structs("Tags", "Tag");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0]["Key"], "env");
        assert_eq!(tags[0]["Value"], "prod");
        assert_eq!(
            p.tags().unwrap(),
            [
                ("env".to_owned(), "prod".to_owned()),
                ("team".to_owned(), String::new())
            ]
        );
        assert_eq!(
            p.filters().unwrap(),
            [
                (
                    "engine".to_owned(),
                    vec!["mariadb".to_owned(), "aurora-mysql".to_owned()]
                ),
                ("db-cluster-id".to_owned(), vec!["c1".to_owned()]),
            ]
        );
        let filters = p.structs("Filters", "Filter");
        assert_eq!(filters[0]["Values.Value.2"], "aurora-mysql");
    }

    #[test]
    fn incomplete_filters_and_tags_are_refused() {
        let e = body("Filters.Filter.1.Values.Value.1=x")
            .filters()
            .unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        assert!(e.message.contains("Filters.Filter.1.Name"), "{e}");
        let e = body("Filters.Filter.1.Name=engine").filters().unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let e = body("Tags.Tag.1.Value=v").tags().unwrap_err();
        assert!(e.message.contains("Tags.Tag.1.Key"), "{e}");
        assert!(body("Action=X").filters().unwrap().is_empty());
    }

    #[test]
    fn unknown_names_skip_known_prefixes() {
        let p =
            body("Action=X&Version=1&Tags.Tag.1.Key=a&TagsExtra=1&DBClusterIdentifier=c&Bogus=1");
        assert_eq!(
            p.unknown_names(&["Tags", "DBClusterIdentifier"]),
            ["Bogus", "TagsExtra"]
        );
    }

    #[test]
    fn unreadable_requests_are_refused() {
        let e = Params::parse("", b"A=1&A=2").unwrap_err();
        assert_eq!((e.code, e.status()), ("MalformedQueryString", 400));
        let e = Params::parse("", b"A=%FF%FE").unwrap_err();
        assert!(e.message.contains("parameter A"), "{e}");
        let e = Params::parse("", b"%C3%28=1").unwrap_err();
        assert_eq!(e.code, "MalformedQueryString");
        let big = vec![b'a'; MAX_BODY_BYTES + 1];
        let e = Params::parse("", &big).unwrap_err();
        assert_eq!((e.code, e.status()), ("RequestEntityTooLarge", 413));
    }

    #[test]
    fn echoed_values_are_bounded() {
        let long = "x".repeat(500);
        let p = Params::from_pairs([("Port", long.as_str())]);
        let e = p.int("Port").unwrap_err();
        assert!(e.message.len() < 200, "{}", e.message.len());
    }

    #[test]
    fn random_bodies_never_panic() {
        // A small xorshift generator: deterministic, no extra dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Odd rounds build bodies from the protocol's own pieces so that many of them parse
        // and reach the list, structure and filter readers.
        let tokens: &[&[u8]] = &[
            b"=", b"&", b"%", b"+", b".", b"1", b"2", b"0", b"a", b"Tags", b"Tag", b"Key",
            b"Value", b"Filters", b"Filter", b"Name", b"Values", b"Action", b"%ff", b"%C3%A9",
            b"\xff", b"true", b"-",
        ];
        let mut parsed_ok = 0;
        for round in 0..3000 {
            let len = (next() % 48) as usize;
            let mut bytes: Vec<u8> = Vec::new();
            for _ in 0..len {
                let r = next();
                if round % 2 == 0 {
                    bytes.push(r as u8);
                } else {
                    bytes.extend_from_slice(tokens[(r % tokens.len() as u64) as usize]);
                }
            }
            let query = String::from_utf8_lossy(&bytes).into_owned();
            let parsed = [Params::parse("", &bytes), Params::parse(&query, b"")];
            for p in parsed.into_iter().flatten() {
                parsed_ok += 1;
                let _ = p.action();
                let _ = p.bool("Tags");
                let _ = p.int("Tags");
                let _ = p.i64("a");
                let _ = p.timestamp("a");
                let _ = p.list("Tags", "Tag");
                let _ = p.structs("Filters", "Filter");
                let _ = p.filters();
                let _ = p.tags();
                let _ = p.unknown_names(&["a"]);
            }
        }
        assert!(
            parsed_ok > 500,
            "only {parsed_ok} inputs parsed: the accessors went untested"
        );
    }
}

//! The XML that Query-protocol responses are made of, written by hand.
//!
//! A response is `<{Action}Response xmlns=...><{Action}Result>...</{Action}Result>
//! <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></{Action}Response>` and an
//! error is `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
//! botocore's `QueryParser` reads both and the AWS CLI fails on anything it cannot parse, so
//! the shapes here are checked against botocore in this crate's tests. [`XmlWriter`] escapes all
//! text and replaces characters XML 1.0 cannot carry; element names are the caller's constants.
//!
//! A flat struct that derives serde can be written as members without naming each one
//! ([`members`], [`XmlWriter::members`]) and read back from them ([`from_members`]): ferry's own
//! shapes (the replication status) use that, so a new field needs no edit here or in a client.

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};

use serde::de::DeserializeOwned;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

/// The XML namespace of every RDS response.
pub const RDS_NAMESPACE: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

/// Who is at fault for an error: `<Type>` in the error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// The request is wrong (4xx).
    Sender,
    /// The service failed (5xx).
    Receiver,
}

impl ErrorType {
    /// `Receiver` for a 5xx status, else `Sender`.
    pub fn for_status(status: u16) -> ErrorType {
        if status >= 500 {
            ErrorType::Receiver
        } else {
            ErrorType::Sender
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Sender => "Sender",
            ErrorType::Receiver => "Receiver",
        }
    }
}

impl Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds an XML document element by element; text is always escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    open: Vec<String>,
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter::default()
    }

    /// Opens `<tag>`.
    pub fn start(&mut self, tag: &str) -> &mut Self {
        let tag = name(tag);
        self.out.push('<');
        self.out.push_str(&tag);
        self.out.push('>');
        self.open.push(tag.into_owned());
        self
    }

    /// Closes the innermost open element. Closing when nothing is open is a bug in the caller
    /// and does nothing.
    pub fn end(&mut self) -> &mut Self {
        if let Some(tag) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(&tag);
            self.out.push('>');
        }
        self
    }

    /// `<tag>text</tag>`, with `text` escaped. Written straight into the document, without
    /// an intermediate string per element (a listing of 100 clusters has thousands).
    pub fn elem(&mut self, tag: &str, text: impl Display) -> &mut Self {
        let tag = name(tag);
        self.out.push('<');
        self.out.push_str(&tag);
        self.out.push('>');
        // Writing into a String cannot fail.
        let _ = write!(Escaping(&mut self.out), "{text}");
        self.out.push_str("</");
        self.out.push_str(&tag);
        self.out.push('>');
        self
    }

    /// `<tag>text</tag>` if `text` is `Some`, nothing otherwise (absent members are omitted,
    /// which botocore reads as "not set").
    pub fn opt_elem(&mut self, tag: &str, text: Option<impl Display>) -> &mut Self {
        if let Some(text) = text {
            self.elem(tag, text);
        }
        self
    }

    /// `<tag>true</tag>` / `<tag>false</tag>`.
    pub fn bool_elem(&mut self, tag: &str, value: bool) -> &mut Self {
        self.elem(tag, if value { "true" } else { "false" })
    }

    /// A timestamp element in the format of [`timestamp`].
    pub fn time_elem(&mut self, tag: &str, t: OffsetDateTime) -> &mut Self {
        self.elem(tag, timestamp(t))
    }

    /// A timestamp element if `t` is `Some`.
    pub fn opt_time_elem(&mut self, tag: &str, t: Option<OffsetDateTime>) -> &mut Self {
        if let Some(t) = t {
            self.time_elem(tag, t);
        }
        self
    }

    /// `<name>text</name>` for each member, in order (see [`members`]).
    pub fn members(&mut self, members: &[(String, String)]) -> &mut Self {
        for (name, text) in members {
            self.elem(name, text);
        }
        self
    }

    /// `<tag><member>item</member>...</tag>` for a list of scalars.
    pub fn list<T: Display>(
        &mut self,
        tag: &str,
        member: &str,
        items: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        self.start(tag);
        for item in items {
            self.elem(member, item);
        }
        self.end()
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.end();
        }
        self.out
    }
}

/// The XML namespace of every IAM response.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The XML namespace of every STS response.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// A successful RDS response of `action` whose output has members: `body` writes the inside
/// of `<{action}Result>`.
pub fn response(action: &str, request_id: &str, body: impl FnOnce(&mut XmlWriter)) -> String {
    response_in(RDS_NAMESPACE, action, request_id, body)
}

/// [`response`] for the API whose namespace is `namespace` (IAM, STS).
pub fn response_in(
    namespace: &str,
    action: &str,
    request_id: &str,
    body: impl FnOnce(&mut XmlWriter),
) -> String {
    let mut w = open_response(namespace, action);
    w.start(&format!("{action}Result"));
    body(&mut w);
    w.end();
    close_response(w, request_id)
}

/// A successful RDS response of an action with no output members: no `<{action}Result>`.
pub fn empty_response(action: &str, request_id: &str) -> String {
    empty_response_in(RDS_NAMESPACE, action, request_id)
}

/// [`empty_response`] for the API whose namespace is `namespace` (IAM, STS).
pub fn empty_response_in(namespace: &str, action: &str, request_id: &str) -> String {
    close_response(open_response(namespace, action), request_id)
}

fn open_response(namespace: &str, action: &str) -> XmlWriter {
    let root = name(&format!("{action}Response")).into_owned();
    let mut w = XmlWriter {
        out: String::with_capacity(4096),
        open: Vec::with_capacity(8),
    };
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.out.push_str(&format!("<{root} xmlns=\"{namespace}\">"));
    w.open.push(root);
    w
}

fn close_response(mut w: XmlWriter, request_id: &str) -> String {
    w.start("ResponseMetadata");
    w.elem("RequestId", request_id);
    w.end();
    w.finish()
}

/// The AWS Query error document for `code` / `message`.
pub fn error_response(
    error_type: ErrorType,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::new();
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.out
        .push_str(&format!("<ErrorResponse xmlns=\"{RDS_NAMESPACE}\">"));
    w.open.push("ErrorResponse".to_owned());
    w.start("Error");
    w.elem("Type", error_type);
    w.elem("Code", code);
    w.elem("Message", message);
    w.end();
    w.elem("RequestId", request_id);
    w.finish()
}

/// A value that cannot be written as, or read from, flat members.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// The value is not a flat struct of scalars (a bug in its type).
    #[error("the value is not a flat structure of scalars")]
    Write(#[source] serde_urlencoded::ser::Error),
    /// A member is missing or its text is not of the member's type.
    #[error("the members do not make the expected structure")]
    Read(#[source] serde_urlencoded::de::Error),
}

/// `value`'s members as `(name, text)` pairs, in declaration order: serde's field names,
/// scalars as text (numbers in decimal, `true`/`false`, a unit enum variant by its name),
/// `None` left out. `value` must be a flat struct (or map) of scalars and options of them.
///
/// Query-protocol members of a flat shape are name/value pairs, the data model of a form
/// body, so `serde_urlencoded` does the typing in both directions and the form text in
/// between is only a carrier (encoded and decoded losslessly).
pub fn members<T: Serialize>(value: &T) -> Result<Vec<(String, String)>, MembersError> {
    let form = serde_urlencoded::to_string(value).map_err(MembersError::Write)?;
    Ok(form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect())
}

/// The inverse of [`members`]: a `T` from `(name, text)` pairs; a member that is absent is
/// `None` (or an error, when its field is not an `Option`).
pub fn from_members<T: DeserializeOwned>(members: &[(String, String)]) -> Result<T, MembersError> {
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(members)
        .finish();
    serde_urlencoded::from_str(&form).map_err(MembersError::Read)
}

/// `2024-01-31T12:00:00.123Z`: ISO 8601 in UTC with milliseconds, as RDS writes timestamps.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(24);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    );
    out
}

/// Escapes markup characters and replaces characters XML 1.0 forbids (most C0 controls,
/// U+FFFE, U+FFFF) with U+FFFD. A carriage return is written as `&#xD;` so that it survives
/// the parser's line-end normalisation.
fn escape_into(text: &str, out: &mut String) {
    // Most text needs no escaping: copy it whole.
    if !text
        .bytes()
        .any(|b| b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF))
    {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `tag` as a plain XML name: ASCII letters, digits, `_`, `-` and `.`, not starting with a
/// digit, `-` or `.`. Element names are the caller's constants, but an action name may come
/// from a request, so anything else is replaced by `_` rather than written as markup.
fn name(tag: &str) -> Cow<'_, str> {
    let plain = tag.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && tag
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    if plain {
        return Cow::Borrowed(tag);
    }
    let mut out: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    Cow::Owned(out)
}

/// A `fmt::Write` that escapes what is written through it into the inner string.
struct Escaping<'a>(&'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(s, self.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn response_has_the_query_protocol_envelope() {
        let xml = response("DescribeDBClusters", "req-1", |w| {
            w.start("DBClusters").start("DBCluster");
            w.elem("DBClusterIdentifier", "c1")
                .elem("Port", 3306)
                .bool_elem("StorageEncrypted", false)
                .opt_elem("Endpoint", None::<&str>)
                .opt_elem("PercentProgress", Some(42));
            w.end().end();
        });
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "DescribeDBClustersResponse");
        assert_eq!(root.tag_name().namespace(), Some(RDS_NAMESPACE));
        let result = root.first_element_child().unwrap();
        assert_eq!(result.tag_name().name(), "DescribeDBClustersResult");
        let text = |name: &str| {
            doc.descendants()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
        };
        assert_eq!(text("DBClusterIdentifier"), Some("c1"));
        assert_eq!(text("Port"), Some("3306"));
        assert_eq!(text("StorageEncrypted"), Some("false"));
        assert_eq!(text("PercentProgress"), Some("42"));
        assert_eq!(text("Endpoint"), None);
        assert_eq!(text("RequestId"), Some("req-1"));
    }

    #[test]
    fn empty_response_has_no_result_element() {
        let xml = empty_response("AddTagsToResource", "r");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let children: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name().to_owned())
            .collect();
        assert_eq!(children, ["ResponseMetadata"]);
    }

    #[test]
    fn error_response_has_aws_shape() {
        let xml = error_response(
            ErrorType::Sender,
            "DBClusterNotFoundFault",
            "DBCluster c1 not found.",
            "r2",
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "ErrorResponse");
        let get = |name: &str| {
            doc.descendants()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
        };
        assert_eq!(get("Type"), Some("Sender"));
        assert_eq!(get("Code"), Some("DBClusterNotFoundFault"));
        assert_eq!(get("Message"), Some("DBCluster c1 not found."));
        assert_eq!(get("RequestId"), Some("r2"));
        assert_eq!(ErrorType::for_status(503), ErrorType::Receiver);
        assert_eq!(ErrorType::for_status(404), ErrorType::Sender);
    }

    #[test]
    fn text_is_escaped_and_invalid_characters_replaced() {
        let nasty = "a&b<c>d\"e'f\u{0}g\u{1b}h\ri\tj\nk\u{FFFF}l</Message><x>";
        let xml = response("X", "r", |w| {
            w.elem("Message", nasty);
        });
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let got = doc
            .descendants()
            .find(|n| n.has_tag_name("Message"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(
            got,
            "a&b<c>d\"e'f\u{FFFD}g\u{FFFD}h\ri\tj\nk\u{FFFD}l</Message><x>"
        );
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(
            timestamp(datetime!(2024-01-31 12:00:00.123456 UTC)),
            "2024-01-31T12:00:00.123Z"
        );
        assert_eq!(
            timestamp(datetime!(2024-01-31 14:00:00 +02:00)),
            "2024-01-31T12:00:00.000Z"
        );
    }

    #[test]
    fn element_names_cannot_inject_markup() {
        let xml = response("Bad><x a=\"", "r", |w| {
            w.elem("9<y>", "v");
        });
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "Bad__x_a__Response");
        assert!(doc.descendants().any(|n| n.has_tag_name("_9_y_")));
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Flat {
        name: String,
        port: u16,
        ready: bool,
        lag: Option<u64>,
        note: Option<String>,
    }

    #[test]
    fn flat_structs_are_members_both_ways() {
        let value = Flat {
            name: "a+b &c=d%20 é\n".into(),
            port: 3306,
            ready: true,
            lag: None,
            note: Some(String::new()),
        };
        let m = members(&value).unwrap();
        let pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("Name", "a+b &c=d%20 é\n"),
                ("Port", "3306"),
                ("Ready", "true"),
                ("Note", "")
            ]
        );
        assert_eq!(from_members::<Flat>(&m).unwrap(), value);
        let mut w = XmlWriter::new();
        w.start("Flat").members(&m).end();
        assert_eq!(
            w.finish(),
            "<Flat><Name>a+b &amp;c=d%20 é\n</Name><Port>3306</Port><Ready>true</Ready>\
             <Note></Note></Flat>"
        );
        let wrong = [
            ("Name".to_owned(), "x".to_owned()),
            ("Port".to_owned(), "high".to_owned()),
        ];
        assert!(matches!(
            from_members::<Flat>(&wrong),
            Err(MembersError::Read(_))
        ));
        assert!(matches!(members(&7), Err(MembersError::Write(_))));
    }

    #[test]
    fn unbalanced_writers_are_closed_by_finish() {
        let mut w = XmlWriter::new();
        w.start("A").start("B").elem("C", 1);
        assert_eq!(w.finish(), "<A><B><C>1</C></B></A>");
        let mut w = XmlWriter::new();
        w.list("Ids", "Id", ["a", "b"]);
        assert_eq!(w.finish(), "<Ids><Id>a</Id><Id>b</Id></Ids>");
    }
}

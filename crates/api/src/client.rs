//! A small signed client for ferry's own RDS Query API, for `ferry demo` and Rust tests.
//!
//! It speaks exactly what the AWS CLI speaks (a form-urlencoded POST with `Action` and
//! `Version=2014-10-31`, signed with SigV4 for service `rds`), so driving ferry with it
//! exercises the same path as the real clients. It is not a general AWS SDK: responses are
//! returned as XML with a few accessors ([`Response`]), not as typed shapes, except ferry's own
//! flat shapes, read back through serde ([`Response::members`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ferry_base::aws_files::{self, FileKind};
use ferry_base::Secret;
use time::OffsetDateTime;

use crate::sigv4;

/// The RDS API version every request names.
pub const API_VERSION: &str = "2014-10-31";

/// The SigV4 service name of the RDS API.
pub const SERVICE: &str = "rds";

/// The region used when a credentials file names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long one API call may take before the client gives up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The most of an unparseable response body quoted in an error.
const BODY_EXCERPT_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("read AWS credentials file {}", path.display())]
    ReadCredentials {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("AWS credentials file {} has no {key} in its [default] section", path.display())]
    MissingCredential { path: PathBuf, key: &'static str },

    #[error("invalid API endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },

    #[error("send {action} to {endpoint}")]
    Http {
        action: String,
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },

    /// The API answered with an AWS error document.
    #[error("{action} failed with HTTP {status}: {code}: {message}")]
    Api {
        action: String,
        status: u16,
        code: String,
        message: String,
    },

    /// An element's members do not make the structure ferry expects of it.
    #[error("the response's <{element}> cannot be read")]
    MalformedMembers {
        element: String,
        #[source]
        source: crate::xml::MembersError,
    },

    /// The API answered with something that is not the XML it should send.
    #[error("{action} returned HTTP {status} with a body that is not a Query-protocol response: {excerpt}")]
    MalformedResponse {
        action: String,
        status: u16,
        excerpt: String,
    },
}

/// A client of one ferry API endpoint, holding one access key.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: reqwest::Url,
    access_key_id: String,
    secret_access_key: Secret,
    region: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl Client {
    /// A client of `endpoint` (`http://127.0.0.1:8080`) signing with the given key for
    /// `region`.
    pub fn new(
        endpoint: &str,
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
    ) -> Result<Client, ClientError> {
        let invalid = |reason: String| ClientError::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let url = reqwest::Url::parse(endpoint).map_err(|e| invalid(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(invalid(format!(
                "scheme {:?} is not supported (only http)",
                url.scheme()
            )));
        }
        if url.host_str().is_none() {
            return Err(invalid("no host".to_owned()));
        }
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| invalid(format!("cannot build an HTTP client: {e}")))?;
        Ok(Client {
            endpoint: url,
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.into(),
            region: region.to_owned(),
            http,
            timeout: REQUEST_TIMEOUT,
        })
    }

    /// A client of `endpoint` with the `[default]` key of an AWS shared-credentials file
    /// (`aws_access_key_id`, `aws_secret_access_key`, optional `region`, which defaults to
    /// [`DEFAULT_REGION`]), such as the `admin-credentials` file `ferry serve` writes.
    pub fn from_credentials_file(endpoint: &str, path: &Path) -> Result<Client, ClientError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ClientError::ReadCredentials {
                path: path.to_owned(),
                source,
            })?;
        let profiles = aws_files::Profiles::parse(&text, FileKind::Credentials);
        let section = profiles.get("default");
        let get = |key: &'static str| {
            section
                .and_then(|s| s.get(key))
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ClientError::MissingCredential {
                    path: path.to_owned(),
                    key,
                })
        };
        let access_key_id = get("aws_access_key_id")?;
        let secret = get("aws_secret_access_key")?;
        let region = section
            .and_then(|s| s.region())
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REGION);
        Client::new(endpoint, access_key_id, secret, region)
    }

    /// The same client waiting up to `timeout` for each answer (default 120 s), for actions
    /// that wait on the server, such as `FerryCutover`.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The access key id this client signs with.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region this client signs for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Calls `action` with `params` (besides `Action` and `Version`, which are added) and
    /// returns the XML response; an AWS error document becomes [`ClientError::Api`].
    pub async fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Response, ClientError> {
        self.call_api(SERVICE, API_VERSION, action, params).await
    }

    /// [`Client::call`] for an IAM action (service `iam`, version 2010-05-08).
    pub async fn call_iam(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Response, ClientError> {
        self.call_api("iam", crate::iam::API_VERSION, action, params)
            .await
    }

    async fn call_api(
        &self,
        service: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Response, ClientError> {
        let body = form_body(action, version, params);
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let host = host_header(&self.endpoint);
        let parts = sigv4::SignedRequestParts {
            method: "POST",
            path: self.endpoint.path(),
            query: self.endpoint.query().unwrap_or(""),
            headers: &headers,
            body: body.as_bytes(),
        };
        let credentials = sigv4::Credentials {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
        };
        let signed = sigv4::sign(
            &parts,
            &host,
            &credentials,
            &self.region,
            service,
            OffsetDateTime::now_utc(),
        );
        for (name, value) in signed {
            // The signer only produces ASCII names and values (the host comes from a parsed URL).
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        let http_error = |source| ClientError::Http {
            action: action.to_owned(),
            endpoint: self.endpoint.to_string(),
            source,
        };
        let response = self
            .http
            .post(self.endpoint.clone())
            .timeout(self.timeout)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(http_error)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let malformed = || ClientError::MalformedResponse {
            action: action.to_owned(),
            status,
            excerpt: text.chars().take(BODY_EXCERPT_CHARS).collect(),
        };
        let Ok(doc) = roxmltree::Document::parse(&text) else {
            return Err(malformed());
        };
        if !(200..300).contains(&status) || doc.root_element().has_tag_name("ErrorResponse") {
            let field = |name: &str| first_text(&doc, name);
            return match (field("Code"), field("Message")) {
                (Some(code), message) => Err(ClientError::Api {
                    action: action.to_owned(),
                    status,
                    code,
                    message: message.unwrap_or_default(),
                }),
                (None, _) => Err(malformed()),
            };
        }
        drop(doc);
        Ok(Response { xml: text })
    }
}

/// The form body: `Action`, `Version`, then `params` in order, form-urlencoded.
fn form_body(action: &str, version: &str, params: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action);
    form.append_pair("Version", version);
    for (name, value) in params {
        form.append_pair(name, value);
    }
    form.finish()
}

/// The `Host` header for `url`: the host, plus the port when it is not the scheme's default.
fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The text of the first element named `name` (by local name), anywhere in `doc`.
fn first_text(doc: &roxmltree::Document<'_>, name: &str) -> Option<String> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or_default().to_owned())
}

/// A successful API response: its XML, with accessors by element local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub xml: String,
}

impl Response {
    /// The text of the first element named `name` (empty for an empty element).
    pub fn text(&self, name: &str) -> Option<String> {
        let doc = roxmltree::Document::parse(&self.xml).ok()?;
        first_text(&doc, name)
    }

    /// The texts of every element named `name`, in document order.
    pub fn texts(&self, name: &str) -> Vec<String> {
        let Ok(doc) = roxmltree::Document::parse(&self.xml) else {
            return Vec::new();
        };
        doc.descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    }

    /// For every element named `container` (e.g. each `Event`), its direct child elements
    /// that hold text, as name -> text (`Message`, `Date`, ...). Children that hold further
    /// elements (lists) are left out.
    pub fn all_of(&self, container: &str) -> Vec<BTreeMap<String, String>> {
        let Ok(doc) = roxmltree::Document::parse(&self.xml) else {
            return Vec::new();
        };
        doc.descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == container)
            .map(|n| {
                n.children()
                    .filter(|c| c.is_element() && !c.children().any(|g| g.is_element()))
                    .map(|c| {
                        (
                            c.tag_name().name().to_owned(),
                            c.text().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// The first element named `container`, its text children read into `T` by name (see
    /// [`crate::xml::from_members`]): the inverse of [`crate::xml::XmlWriter::members`].
    /// `None` when the response has no such element.
    pub fn members<T: serde::de::DeserializeOwned>(
        &self,
        container: &str,
    ) -> Result<Option<T>, ClientError> {
        let Some(members) = self.all_of(container).into_iter().next() else {
            return Ok(None);
        };
        let members: Vec<(String, String)> = members.into_iter().collect();
        crate::xml::from_members(&members)
            .map(Some)
            .map_err(|source| ClientError::MalformedMembers {
                element: container.to_owned(),
                source,
            })
    }

    /// The `RequestId` of the response metadata.
    pub fn request_id(&self) -> Option<String> {
        self.text("RequestId")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_and_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds");
        std::fs::write(&path, "[default]\naws_access_key_id = A\n").unwrap();
        let e = Client::from_credentials_file("http://127.0.0.1:1", &path).unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::MissingCredential {
                    key: "aws_secret_access_key",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("creds"), "{e}");
        let e = Client::from_credentials_file("http://127.0.0.1:1", &dir.path().join("nope"))
            .unwrap_err();
        assert!(matches!(e, ClientError::ReadCredentials { .. }), "{e}");

        std::fs::write(
            &path,
            "[default]\naws_access_key_id = A\naws_secret_access_key = S\n",
        )
        .unwrap();
        let c = Client::from_credentials_file("http://127.0.0.1:1", &path).unwrap();
        assert_eq!(c.region(), DEFAULT_REGION);
        assert!(!format!("{c:?}").contains("\"S\""), "{c:?}");
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(matches!(
            Client::new("not a url", "a", "s", "r"),
            Err(ClientError::InvalidEndpoint { .. })
        ));
        assert!(matches!(
            Client::new("https://example.com", "a", "s", "r"),
            Err(ClientError::InvalidEndpoint { .. })
        ));
        let c = Client::new("http://127.0.0.1:8080", "a", "s", "r").unwrap();
        assert_eq!(host_header(&c.endpoint), "127.0.0.1:8080");
        let c = Client::new("http://localhost", "a", "s", "r").unwrap();
        assert_eq!(host_header(&c.endpoint), "localhost");
    }

    #[test]
    fn form_body_starts_with_action_and_version() {
        assert_eq!(
            form_body(
                "DescribeEvents",
                API_VERSION,
                &[("SourceIdentifier", "c 1&x")]
            ),
            "Action=DescribeEvents&Version=2014-10-31&SourceIdentifier=c+1%26x"
        );
    }

    #[test]
    fn response_accessors() {
        let r = Response {
            xml: "<R><Events><Event><Message>m1</Message><Date>d1</Date>\
                  <EventCategories><EventCategory>x</EventCategory></EventCategories></Event>\
                  <Event><Message>m2</Message><Empty/></Event></Events>\
                  <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></R>"
                .into(),
        };
        assert_eq!(r.text("Message").as_deref(), Some("m1"));
        assert_eq!(r.texts("Message"), ["m1", "m2"]);
        assert_eq!(r.text("Nope"), None);
        let events = r.all_of("Event");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["Date"], "d1");
        assert!(!events[0].contains_key("EventCategories"));
        assert_eq!(events[1]["Empty"], "");
        assert_eq!(r.request_id().as_deref(), Some("rid"));
    }
}

//! Why a request failed authentication, with the AWS error code, HTTP status and message a
//! client of the real service would see for the same mistake (texts as AWS Query services
//! return them, so scripts that match on them keep working).

/// A request that ferry refuses to authenticate. [`AuthError::code`] and
/// [`AuthError::status`] give the AWS error code and HTTP status; `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header (and no presigned query parameters).
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The `Authorization` header (or the date header) cannot be parsed; the message says
    /// which part is wrong.
    #[error("{message}")]
    IncompleteSignature { message: String },

    /// The access key id is not one ferry knows, or the request carries a session token
    /// (ferry issues none).
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId { access_key_id: String },

    /// The signature does not match what ferry computes with the key's secret.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details."
    )]
    SignatureMismatch,

    /// The request was signed more than the allowed skew before `now`.
    #[error(
        "Signature expired: {request_time} is now earlier than {earliest} ({now} - {skew_minutes} \
         min.)"
    )]
    SignatureExpired {
        request_time: String,
        earliest: String,
        now: String,
        skew_minutes: i64,
    },

    /// The request was signed more than the allowed skew after `now`.
    #[error(
        "Signature not yet current: {request_time} is still later than {latest} ({now} + \
         {skew_minutes} min.)"
    )]
    SignatureNotYetCurrent {
        request_time: String,
        latest: String,
        now: String,
        skew_minutes: i64,
    },

    /// The credential scope names another region than the one this endpoint serves.
    #[error(
        "Credential should be scoped to a valid region, not '{got}'. This endpoint serves region \
         '{expected}'."
    )]
    WrongRegion { got: String, expected: String },

    /// The credential scope names another service.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService { got: String, expected: String },

    /// The credential scope does not end in `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{got}'. ")]
    WrongTerminator { got: String },

    /// The date in the credential scope is not the day of the request timestamp.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '{scope_date}' != '{request_date}', from '{request_time}'."
    )]
    ScopeDateMismatch {
        scope_date: String,
        request_date: String,
        request_time: String,
    },

    /// `x-amz-content-sha256` is not the SHA-256 of the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
}

impl AuthError {
    /// The AWS error code (`<Code>` in the error response).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationToken",
            AuthError::IncompleteSignature { .. } => "IncompleteSignature",
            AuthError::InvalidClientTokenId { .. } => "InvalidClientTokenId",
            AuthError::SignatureMismatch
            | AuthError::SignatureExpired { .. }
            | AuthError::SignatureNotYetCurrent { .. }
            | AuthError::WrongRegion { .. }
            | AuthError::WrongService { .. }
            | AuthError::WrongTerminator { .. }
            | AuthError::ScopeDateMismatch { .. }
            | AuthError::PayloadHashMismatch => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status of the error response.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::IncompleteSignature { .. } => 400,
            AuthError::MissingAuthenticationToken
            | AuthError::InvalidClientTokenId { .. }
            | AuthError::SignatureMismatch
            | AuthError::SignatureExpired { .. }
            | AuthError::SignatureNotYetCurrent { .. }
            | AuthError::WrongRegion { .. }
            | AuthError::WrongService { .. }
            | AuthError::WrongTerminator { .. }
            | AuthError::ScopeDateMismatch { .. }
            | AuthError::PayloadHashMismatch => 403,
        }
    }

    pub(super) fn incomplete(message: impl Into<String>) -> AuthError {
        AuthError::IncompleteSignature {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_statuses_and_messages_are_what_aws_sends() {
        let e = AuthError::MissingAuthenticationToken;
        assert_eq!((e.code(), e.status()), ("MissingAuthenticationToken", 403));
        assert_eq!(e.to_string(), "Request is missing Authentication Token");

        let e = AuthError::InvalidClientTokenId {
            access_key_id: "AKID".into(),
        };
        assert_eq!((e.code(), e.status()), ("InvalidClientTokenId", 403));
        assert_eq!(
            e.to_string(),
            "The security token included in the request is invalid."
        );

        let e = AuthError::SignatureExpired {
            request_time: "20140428T172145Z".into(),
            earliest: "20140428T172828Z".into(),
            now: "20140428T174328Z".into(),
            skew_minutes: 15,
        };
        assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
        assert_eq!(
            e.to_string(),
            "Signature expired: 20140428T172145Z is now earlier than 20140428T172828Z \
             (20140428T174328Z - 15 min.)"
        );

        let e = AuthError::incomplete("x");
        assert_eq!((e.code(), e.status()), ("IncompleteSignature", 400));
    }
}

//! `ferry-iam`: IAM policy documents, pure logic with no I/O.
//!
//! - [`parse`] reads a policy document in IAM's grammar and refuses what IAM refuses, with
//!   IAM's own `MalformedPolicyDocument` message ([`Malformed`]); [`parse_managed`] adds the
//!   managed-policy rule (version 2012-10-17); [`document_size`] counts what IAM's size quotas
//!   count.
//! - [`evaluate`] decides a request (action, resource, condition keys in a [`Context`])
//!   against a principal's identity-based policies as AWS does: an explicit `Deny` wins, then
//!   an `Allow`, otherwise an implicit deny; the [`Decision`] names the statement that decided
//!   (policy, `Sid`, index, position in the text).
//! - [`trusts`] decides whether a role's trust policy lets a principal (a service such as
//!   `rds.amazonaws.com`, or an IAM ARN) perform an action such as `sts:AssumeRole`.
//!
//! Who holds which policy (users, groups, roles, attachments) is the control plane's business;
//! this crate only reads documents and decides.

mod condition;
mod date;
mod eval;
mod json;
mod pattern;
mod policy;

pub use eval::{
    evaluate, trusts, Context, Deciding, Decision, Effect, NamedPolicy, PrincipalRef, Request,
};
pub use json::Position;
pub use policy::{
    document_size, parse, parse_managed, DocumentKind, Malformed, Policy, Statement, Version,
};

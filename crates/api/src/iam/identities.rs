//! IAM users, groups, group membership, access keys and user tags.

use super::{Handler, Reply};
use crate::error::ApiError;

/// Runs `h.action` if it is one of this module's; `None` otherwise.
#[allow(clippy::match_single_binding)] // until the actions land
pub(super) async fn handle(h: &Handler<'_>) -> Option<Result<Reply, ApiError>> {
    match h.action {
        _ => None,
    }
}

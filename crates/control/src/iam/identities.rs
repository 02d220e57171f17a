//! IAM users, groups, group membership, access keys and user tags: IAM's quotas, its
//! paging (`Marker` / `MaxItems`) and its tag rules. The operations over the store are in
//! `service::iam_identities`.

use super::{IamError, IamErrorKind};

/// Access keys per user (IAM's default quota, not adjustable).
pub const ACCESS_KEYS_PER_USER: usize = 2;
/// Groups a user may be in.
pub const GROUPS_PER_USER: usize = 10;
/// Tags per IAM entity.
pub const TAGS_PER_ENTITY: usize = 50;
/// How often a key's last use is written back: at most once per this many seconds per key
/// (unless the service or region changed), so signing requests does not write the store.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// One page of an IAM listing: `marker` is set when there is more (`IsTruncated`).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

/// `MaxItems` (1..=1000, default 100) and `Marker` of a listing call.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    pub marker: Option<String>,
    pub max_items: Option<i32>,
}

impl Paging {
    /// Pages `items` (already in order): the marker is the position of the next item.
    pub fn page<T>(&self, items: Vec<T>) -> Result<Listing<T>, IamError> {
        let max = match self.max_items {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => usize::try_from(n).unwrap_or(100),
            Some(n) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy \
                     constraint: Member must have value greater than or equal to 1 and less \
                     than or equal to 1000"
                )))
            }
        };
        let start = match &self.marker {
            None => 0,
            Some(m) => m
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    IamError::new(IamErrorKind::InvalidInput, "Invalid Marker.".to_string())
                })?,
        };
        let total = items.len();
        let items: Vec<T> = items.into_iter().skip(start).take(max).collect();
        let next = start + items.len();
        Ok(Listing {
            items,
            marker: (next < total).then(|| next.to_string()),
        })
    }
}

pub(crate) fn validation(message: String) -> IamError {
    IamError::new(IamErrorKind::Validation, message)
}

/// Checks tags as IAM does: at most 50 in a request, keys 1..=128, values 0..=256
/// characters, no key twice (regardless of case).
pub fn validate_tags(tags: &[(String, String)]) -> Result<(), IamError> {
    if tags.len() > TAGS_PER_ENTITY {
        return Err(validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
             Member must have length less than or equal to {TAGS_PER_ENTITY}"
        )));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        let n = i + 1;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(validation(format!(
                "1 validation error detected: Value '{key}' at 'tags.{n}.member.key' failed to \
                 satisfy constraint: Member must have length {}",
                if key.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 128"
                }
            )));
        }
        if value.chars().count() > 256 {
            return Err(validation(format!(
                "1 validation error detected: Value '{value}' at 'tags.{n}.member.value' failed \
                 to satisfy constraint: Member must have length less than or equal to 256"
            )));
        }
    }
    let mut keys: Vec<String> = tags.iter().map(|(k, _)| k.to_lowercase()).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(IamError::new(
            IamErrorKind::InvalidInput,
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    Ok(())
}

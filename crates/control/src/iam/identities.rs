//! IAM users, groups, group membership, access keys and user tags: the control plane's
//! operations behind the IAM API.

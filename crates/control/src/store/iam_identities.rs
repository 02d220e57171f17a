//! IAM users, groups, group membership and tags of users in the store.

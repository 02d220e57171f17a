//! IAM roles, managed policies and versions, attachments and inline policies in the store.

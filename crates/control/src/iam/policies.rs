//! IAM roles, managed policies and their versions, attachments, inline policies and role
//! tags: the control plane's operations behind the IAM API.

//! Secrets kept per cluster, in private (0600) files under the cluster's directory:
//! the master password between the API request and the job that sets it, and ferry's own
//! administrative account on the cluster's server.

use ferry_base::fs::write_private_file;
use ferry_engine::accounts::AdminAccount;

use crate::error::ControlError;
use crate::layout::Layout;
use crate::model::ClusterId;

pub(crate) fn write_pending_master_password(
    layout: &Layout,
    id: &ClusterId,
    password: &str,
) -> Result<(), ControlError> {
    let path = layout.pending_master_password(id);
    write_private_file(&path, password.as_bytes()).map_err(ControlError::io("write", path))
}

pub(crate) fn read_pending_master_password(
    layout: &Layout,
    id: &ClusterId,
) -> Result<Option<String>, ControlError> {
    let path = layout.pending_master_password(id);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ControlError::io("read", path)(e)),
    }
}

pub(crate) fn remove_pending_master_password(layout: &Layout, id: &ClusterId) {
    let _ = std::fs::remove_file(layout.pending_master_password(id));
}

pub(crate) fn write_admin(
    layout: &Layout,
    id: &ClusterId,
    admin: &AdminAccount,
) -> Result<(), ControlError> {
    let path = layout.cluster_admin_cnf(id);
    write_private_file(&path, admin.to_client_cnf().as_bytes())
        .map_err(ControlError::io("write", path))
}

/// Reads back what [`write_admin`] wrote.
pub(crate) fn read_admin(layout: &Layout, id: &ClusterId) -> Result<AdminAccount, ControlError> {
    let path = layout.cluster_admin_cnf(id);
    let text = std::fs::read_to_string(&path).map_err(ControlError::io("read", &path))?;
    let mut user = None;
    let mut password = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
        match k.trim() {
            "user" => user = Some(v),
            "password" => password = Some(v),
            _ => {}
        }
    }
    match (user, password) {
        (Some(user), Some(password)) => Ok(AdminAccount {
            user,
            password: password.into(),
        }),
        _ => Err(ControlError::Damaged {
            path,
            problem: "does not name ferry's admin account (user and password)".into(),
        }),
    }
}

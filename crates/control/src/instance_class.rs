//! What a `DBInstanceClass` means on a machine ferry runs on.
//!
//! RDS classes name virtual machines (`db.r6g.large` has 16 GiB). ferry's instances share one
//! host, so a class maps to the server settings that matter for sizing, scaled for a shared
//! host rather than copied from AWS's memory sizes. The family (`t3`, `r6g`, ...) is accepted
//! and ignored; the size decides:
//!
//! | size            | innodb_buffer_pool_size | innodb_log_file_size | max_connections |
//! |-----------------|-------------------------|----------------------|-----------------|
//! | `micro`         | 64 MiB                  | 16 MiB               | 30              |
//! | `small`         | 128 MiB                 | 32 MiB               | 45              |
//! | `medium`        | 256 MiB                 | 64 MiB               | 90              |
//! | `large`         | 1 GiB                   | 256 MiB              | 1000            |
//! | `xlarge`        | 2 GiB                   | 512 MiB              | 2000            |
//! | `2xlarge`       | 4 GiB                   | 1 GiB                | 3000            |
//! | `4xlarge` and up| 8 GiB                   | 2 GiB                | 4000            |
//! | `db.serverless` | 256 MiB                 | 64 MiB               | 90              |
//!
//! The redo log is a quarter of the buffer pool (MariaDB's default, 96 MiB whatever the pool,
//! was most of an empty cluster's disk). A new volume is initialised with the smallest log,
//! [`INITIAL_REDO_LOG_BYTES`]; MariaDB resizes the log to the instance's size when the instance
//! starts (10.11 does this at start-up, logging "Resizing redo log").
//!
//! The table is repeated in the control crate's README; keep both in step.

/// The settings a class maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceResources {
    pub buffer_pool_bytes: u64,
    /// `innodb_log_file_size`: a quarter of the buffer pool.
    pub redo_log_bytes: u64,
    pub max_connections: u32,
}

const MIB: u64 = 1 << 20;

/// The redo log a new volume is initialised with: the smallest class's, so an empty cluster
/// without instances costs as little disk as it can.
pub const INITIAL_REDO_LOG_BYTES: u64 = 16 * MIB;

/// Resources for `class` (`db.<family>.<size>` or `db.serverless`), or `None` for a size
/// ferry does not know.
pub fn resources(class: &str) -> Option<InstanceResources> {
    let r = |mib: u64, conns: u32| InstanceResources {
        buffer_pool_bytes: mib * MIB,
        redo_log_bytes: mib * MIB / 4,
        max_connections: conns,
    };
    if class == "db.serverless" {
        return Some(r(256, 90));
    }
    let mut parts = class.split('.');
    let (Some("db"), Some(family), Some(size), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if family.is_empty()
        || !family
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    match size {
        "micro" => Some(r(64, 30)),
        "small" => Some(r(128, 45)),
        "medium" => Some(r(256, 90)),
        "large" => Some(r(1024, 1000)),
        "xlarge" => Some(r(2048, 2000)),
        "2xlarge" => Some(r(4096, 3000)),
        other => {
            let n: u32 = other.strip_suffix("xlarge")?.parse().ok()?;
            (n >= 4).then(|| r(8192, 4000))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sizes() {
        assert_eq!(
            resources("db.t3.medium").unwrap().buffer_pool_bytes,
            256 * MIB
        );
        assert_eq!(resources("db.r6g.large").unwrap().max_connections, 1000);
        assert_eq!(
            resources("db.r5.24xlarge").unwrap().buffer_pool_bytes,
            8192 * MIB
        );
        assert!(resources("db.serverless").is_some());
        let micro = resources("db.t3.micro").unwrap();
        assert_eq!(micro.redo_log_bytes, INITIAL_REDO_LOG_BYTES);
        assert_eq!(resources("db.r6g.large").unwrap().redo_log_bytes, 256 * MIB);
        for bad in [
            "db.t3",
            "t3.medium",
            "db.t3.huge",
            "db..small",
            "db.r5.3xlarge",
            "db.t3.small.x",
        ] {
            assert_eq!(resources(bad), None, "{bad}");
        }
    }
}

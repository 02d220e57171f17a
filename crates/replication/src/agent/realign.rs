//! Crash-safe resume for a replica positioned by binary log file and position.
//!
//! By file and position MariaDB keeps the executed coordinates in `relay-log.info`, written
//! (and, with `sync-relay-log-info = 1`, synced) after each transaction commits, not with it:
//! a server killed between the two restarts one transaction behind what it committed, and
//! replays it (a duplicate key, error 1062, or worse, a silent double update). The GTID of
//! every applied transaction, though, is recorded in `mysql.gtid_slave_pos` inside the
//! transaction itself, in this mode too, whenever the source sends MariaDB GTIDs (a MariaDB
//! source always does).
//!
//! So before resuming, [`find`] reads the source's binary log from the recorded coordinates
//! (`SHOW BINLOG EVENTS`, with the replication user's credentials ferry keeps) and, when the
//! first event groups there include the very transaction `gtid_slave_pos` says was applied
//! last, returns the coordinates just after it. The replica stays in file-and-position mode
//! (`Using_Gtid: No`); only its coordinates move, and only over transactions it committed.
//!
//! It moves over at most `1 + @@slave_parallel_threads` groups (a serial SQL thread is at
//! most one transaction ahead of `relay-log.info`), and only to a group whose GTID equals the
//! domain's entry in `gtid_slave_pos` exactly, so coordinates the master user set on purpose
//! (earlier or later than what was applied) are left alone.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;

use super::secret::SourceSecret;
use super::AgentContext;
use crate::error::ReplicationError;
use crate::source::BinlogCoord;
use crate::status::ReplicaStatus;

/// The longest the check may take (connecting included): resuming, and every procedure call,
/// waits for it.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Rows read per `SHOW BINLOG EVENTS` page.
const PAGE: usize = 200;
/// Pages read at most (a group of huge row events spans many rows).
const MAX_PAGES: usize = 200;

/// Where the replica resumes instead of what `relay-log.info` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realigned {
    /// What `relay-log.info` said.
    pub from: BinlogCoord,
    /// Just after the last transaction the replica committed.
    pub to: BinlogCoord,
    /// That transaction's GTID.
    pub gtid: String,
}

/// One MariaDB GTID, `domain-server-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gtid {
    domain: u32,
    server: u32,
    seq: u64,
}

impl Gtid {
    fn parse(text: &str) -> Option<Gtid> {
        let mut parts = text.trim().split('-');
        let gtid = Gtid {
            domain: parts.next()?.parse().ok()?,
            server: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(gtid)
    }

    /// The GTID of a `Gtid` event's `Info`: `BEGIN GTID 0-1-6`, `GTID 0-1-2`, or with a
    /// commit id after it.
    fn from_event_info(info: &str) -> Option<Gtid> {
        let mut words = info.split_whitespace();
        words.find(|w| *w == "GTID")?;
        Gtid::parse(words.next()?)
    }
}

impl std::fmt::Display for Gtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// `gtid_slave_pos` by domain (`0-1-6,1-2-3`); entries that do not parse are left out.
fn parse_position(text: &str) -> HashMap<u32, Gtid> {
    text.split(',')
        .filter_map(Gtid::parse)
        .map(|g| (g.domain, g))
        .collect()
}

/// One row of `SHOW BINLOG EVENTS`.
#[derive(Debug, Clone)]
struct Event {
    kind: String,
    end: u64,
    info: String,
}

/// Walks event groups from a starting coordinate and decides where the replica should be.
#[derive(Debug)]
struct Walk<'a> {
    applied: &'a HashMap<u32, Gtid>,
    max_groups: usize,
    groups: usize,
    /// The group being read and where its last event so far ends.
    open: Option<(Gtid, u64)>,
}

/// What one event told the walk.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Continue,
    /// The replica committed the group ending at this position (in the current file).
    Applied(Gtid, u64),
    /// The replica is where `relay-log.info` says.
    Stay,
    /// Continue at position 4 of this file.
    Rotate(String),
}

impl Walk<'_> {
    /// Closes the open group: `Applied` when it is the replica's last, `Stay` when it is past
    /// it, `Continue` when an earlier one (parallel apply).
    fn close(&mut self) -> Step {
        let Some((gtid, end)) = self.open.take() else {
            return Step::Continue;
        };
        match self.applied.get(&gtid.domain) {
            Some(last) if *last == gtid => Step::Applied(gtid, end),
            Some(last) if last.seq > gtid.seq => Step::Continue,
            _ => Step::Stay,
        }
    }

    fn event(&mut self, e: &Event) -> Step {
        match e.kind.as_str() {
            "Gtid" => {
                let closed = self.close();
                if closed != Step::Continue {
                    return closed;
                }
                self.groups += 1;
                if self.groups > self.max_groups {
                    return Step::Stay;
                }
                match Gtid::from_event_info(&e.info) {
                    Some(gtid) => {
                        self.open = Some((gtid, e.end));
                        Step::Continue
                    }
                    None => Step::Stay,
                }
            }
            "Rotate" => {
                let closed = self.close();
                if closed != Step::Continue {
                    return closed;
                }
                match e.info.split(';').next() {
                    Some(file) if !file.is_empty() => Step::Rotate(file.to_owned()),
                    _ => Step::Stay,
                }
            }
            "Format_desc" | "Gtid_list" | "Binlog_checkpoint" | "Start_encryption" | "Stop" => {
                self.close()
            }
            _ => {
                if let Some((_, end)) = &mut self.open {
                    *end = e.end;
                }
                Step::Continue
            }
        }
    }
}

/// Where a file-and-position replica that is about to be resumed should start: `Ok(None)` when
/// `relay-log.info` is right (or there is nothing to go by: no MariaDB GTIDs recorded),
/// `Err` when the source could not be asked (the caller resumes anyway and says so).
pub(super) async fn find(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
    current: &ReplicaStatus,
) -> Result<Option<Realigned>, ReplicationError> {
    if current.using_gtid.is_gtid()
        || current.relay_master_log_file.is_empty()
        || current.exec_master_log_pos < 4
    {
        return Ok(None);
    }
    let (slave_pos, threads): (Option<String>, Option<u64>) = conn
        .query_first("SELECT @@GLOBAL.gtid_slave_pos, @@GLOBAL.slave_parallel_threads")
        .await
        .map_err(|source| ReplicationError::Replica {
            what: "read gtid_slave_pos".to_owned(),
            source,
        })?
        .unwrap_or_default();
    let applied = parse_position(slave_pos.as_deref().unwrap_or_default());
    if applied.is_empty() {
        return Ok(None);
    }
    let Some(secret) = SourceSecret::load(&ctx.source_secret)? else {
        return Err(ReplicationError::NoSourceCredentials);
    };
    let from = BinlogCoord::new(
        current.relay_master_log_file.clone(),
        current.exec_master_log_pos,
    );
    let endpoint = crate::monitor::endpoint(&secret, &ctx.ssl);
    let threads = usize::try_from(threads.unwrap_or(0)).unwrap_or(usize::MAX - 1);
    match tokio::time::timeout(
        CHECK_TIMEOUT,
        walk_source(&endpoint, &applied, threads, from),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(ReplicationError::Timeout(format!(
            "reading the binary log of the source {endpoint} took over {} s",
            CHECK_TIMEOUT.as_secs()
        ))),
    }
}

/// Reads the source's binary log from `from` for the group `applied` says was applied last.
async fn walk_source(
    endpoint: &crate::source::SourceEndpoint,
    applied: &HashMap<u32, Gtid>,
    threads: usize,
    from: BinlogCoord,
) -> Result<Option<Realigned>, ReplicationError> {
    let mut source = endpoint.connect().await?;
    let mut walk = Walk {
        applied,
        max_groups: 1 + threads,
        groups: 0,
        open: None,
    };
    let (mut file, mut pos) = (from.file.clone(), from.pos);
    let endpoint_text = endpoint.to_string();
    let mut step = Step::Continue;
    'pages: for _ in 0..MAX_PAGES {
        let events = read_events(&mut source, &endpoint_text, &file, pos).await?;
        let full = events.len() == PAGE;
        for e in &events {
            pos = e.end;
            match walk.event(e) {
                Step::Continue => {}
                Step::Rotate(next) => {
                    (file, pos) = (next, 4);
                    continue 'pages;
                }
                done => {
                    step = done;
                    break 'pages;
                }
            }
        }
        if !full {
            // The end of the source's binary log so far.
            step = walk.close();
            break;
        }
    }
    let result = match step {
        Step::Applied(gtid, end) => Some(Realigned {
            from,
            to: BinlogCoord::new(file, end),
            gtid: gtid.to_string(),
        }),
        _ => None,
    };
    let _ = source.disconnect().await;
    Ok(result)
}

async fn read_events(
    source: &mut mysql_async::Conn,
    endpoint: &str,
    file: &str,
    pos: u64,
) -> Result<Vec<Event>, ReplicationError> {
    let statement = format!(
        "SHOW BINLOG EVENTS IN {} FROM {pos} LIMIT {PAGE}",
        mysql_async::Value::from(file).as_sql(false)
    );
    let rows: Vec<mysql_async::Row> =
        source
            .query(statement)
            .await
            .map_err(|source| ReplicationError::Source {
                what: format!("read its binary log {file} from {pos} (SHOW BINLOG EVENTS)"),
                endpoint: endpoint.to_owned(),
                source,
            })?;
    rows.iter()
        .map(|row| {
            let kind: Option<String> = row.get("Event_type");
            let end: Option<u64> = row.get("End_log_pos");
            let info: Option<String> = row.get("Info");
            match (kind, end) {
                (Some(kind), Some(end)) => Ok(Event {
                    kind,
                    end,
                    info: info.unwrap_or_default(),
                }),
                _ => Err(ReplicationError::Unexpected(
                    "SHOW BINLOG EVENTS without Event_type or End_log_pos".to_owned(),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, end: u64, info: &str) -> Event {
        Event {
            kind: kind.into(),
            end,
            info: info.into(),
        }
    }

    fn run(applied: &str, max_groups: usize, events: &[Event]) -> Step {
        let applied = parse_position(applied);
        let mut walk = Walk {
            applied: &applied,
            max_groups,
            groups: 0,
            open: None,
        };
        for e in events {
            let step = walk.event(e);
            if step != Step::Continue {
                return step;
            }
        }
        walk.close()
    }

    fn group(gtid: &str, begin_end: u64) -> Vec<Event> {
        vec![
            ev("Gtid", begin_end, &format!("BEGIN GTID {gtid} cid=9")),
            ev("Query", begin_end + 80, "insert ..."),
            ev("Xid", begin_end + 111, "COMMIT /* xid=7 */"),
        ]
    }

    #[test]
    fn parses_gtids_and_positions() {
        assert_eq!(
            Gtid::from_event_info("BEGIN GTID 0-1-6"),
            Some(Gtid {
                domain: 0,
                server: 1,
                seq: 6
            })
        );
        assert_eq!(Gtid::from_event_info("GTID 2-10-3 cid=5").unwrap().seq, 3);
        assert_eq!(Gtid::from_event_info("COMMIT"), None);
        assert_eq!(
            Gtid::from_event_info("SET @@SESSION.GTID_NEXT= 'x:1'"),
            None
        );
        let pos = parse_position("0-1-6,1-2-3");
        assert_eq!(pos.len(), 2);
        assert_eq!(pos[&1].seq, 3);
        assert!(parse_position("").is_empty());
    }

    #[test]
    fn skips_the_one_group_the_replica_committed() {
        let mut events = group("0-1-6", 377);
        events.extend(group("0-1-7", 530));
        assert_eq!(
            run("0-1-6", 1, &events),
            Step::Applied(
                Gtid {
                    domain: 0,
                    server: 1,
                    seq: 6
                },
                488
            )
        );
        // At the end of the binary log too.
        assert!(matches!(
            run("0-1-6", 1, &group("0-1-6", 377)),
            Step::Applied(_, 488)
        ));
    }

    #[test]
    fn stays_when_relay_log_info_is_right_or_the_user_moved_the_position() {
        let mut events = group("0-1-7", 377);
        events.extend(group("0-1-8", 530));
        // A clean stop: the next group is not applied yet.
        assert_eq!(run("0-1-6", 1, &events), Step::Stay);
        // The user set coordinates earlier than what was applied: more than one group back.
        assert_eq!(run("0-1-8", 1, &events), Step::Stay);
        // Another server's GTID with the same number is not the one applied.
        assert_eq!(run("0-2-7", 1, &events), Step::Stay);
        // Nothing after the position.
        assert_eq!(run("0-1-6", 1, &[]), Step::Continue);
        // Parallel apply: up to the number of workers.
        assert!(matches!(run("0-1-8", 2, &events), Step::Applied(_, 641)));
    }

    #[test]
    fn follows_a_rotate_before_the_first_group() {
        let events = [ev("Rotate", 1142, "mb.000002;pos=4")];
        assert_eq!(
            run("0-1-6", 1, &events),
            Step::Rotate("mb.000002".to_owned())
        );
        // A new file starts with its own header events.
        let mut events = vec![
            ev("Format_desc", 256, "Server ver"),
            ev("Gtid_list", 299, "[0-1-5]"),
            ev("Binlog_checkpoint", 335, "mb.000001"),
        ];
        events.extend(group("0-1-6", 377));
        assert!(matches!(run("0-1-6", 1, &events), Step::Applied(_, 488)));
    }
}

//! Human-readable renderings of inspect and restore results.

use std::fmt::Write;

use ferry_restore::{InspectReport, RestoreReport};

use crate::progress::human_bytes;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn inspect_text(r: &InspectReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Source: {}", r.source);
    let _ = writeln!(out, "Backup sets: {}", r.sets.len());
    let header = [
        "NAME", "KIND", "FORMAT", "PARTS", "BYTES", "FROM_LSN", "TO_LSN", "LAST_LSN", "PARTIAL",
        "SERVER", "BINLOG",
    ];
    // Sets held by one archive share its parts and bytes: shown on the first row only.
    let rows: Vec<Vec<String>> = r
        .sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let same_archive = i > 0 && s.archive.is_some() && r.sets[i - 1].archive == s.archive;
            let (parts, bytes) = if same_archive {
                ("-".to_string(), "-".to_string())
            } else {
                (s.parts.to_string(), human_bytes(s.bytes))
            };
            vec![
                s.name.clone(),
                s.kind.clone(),
                s.format.clone(),
                parts,
                bytes,
                opt(&s.from_lsn),
                opt(&s.to_lsn),
                opt(&s.last_lsn),
                match s.partial {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                opt(&s.server_version),
                match &s.binlog {
                    Some(b) => match &b.gtid {
                        Some(g) => format!("{}:{} gtid {g}", b.file, b.position),
                        None => format!("{}:{}", b.file, b.position),
                    },
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |cells: Vec<String>| -> String {
        let mut line = String::from(" ");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(line, " {c:<w$}");
        }
        line.trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        fmt_row(header.iter().map(|s| s.to_string()).collect())
    );
    for row in rows {
        let _ = writeln!(out, "{}", fmt_row(row));
    }
    for s in &r.sets {
        if let Some(e) = &s.error {
            let _ = writeln!(out, "  ! {}: {e}", s.name);
        }
    }
    if !r.chain.is_empty() {
        let _ = writeln!(out, "Chain (apply order): {}", r.chain.join(" -> "));
    }
    for n in &r.notes {
        let _ = writeln!(out, "Note: {n}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    if !r.ignored.is_empty() {
        let _ = writeln!(
            out,
            "Ignored {} objects that belong to no backup set (e.g. {})",
            r.ignored.len(),
            r.ignored[0]
        );
    }
    if r.restorable {
        let _ = writeln!(out, "Result: restorable");
    } else {
        let _ = writeln!(out, "Result: NOT restorable");
        for p in &r.problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

pub fn restore_text(r: &RestoreReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Restored {} backup set{} ({}) into {} in {:.1}s: {} in {} file{} downloaded{}{}.",
        r.chain.len(),
        if r.chain.len() == 1 { "" } else { "s" },
        r.chain.join(" -> "),
        r.target_dir.display(),
        r.elapsed_secs,
        human_bytes(r.bytes_downloaded),
        r.files_downloaded,
        if r.files_downloaded == 1 { "" } else { "s" },
        if r.bytes_reused > 0 || r.files_reused > 0 {
            format!(
                ", {} in {} file{} reused from an earlier run",
                human_bytes(r.bytes_reused),
                r.files_reused,
                if r.files_reused == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        },
        if r.retries > 0 {
            format!(", {} transfer retries", r.retries)
        } else {
            String::new()
        }
    );
    for n in &r.notes {
        let _ = writeln!(out, "Note: {n}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    match (&r.binlog_file, r.binlog_position) {
        (Some(f), Some(p)) => {
            let _ = writeln!(
                out,
                "Recovered from Binary log filename '{f}', position '{p}'."
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "No binary log coordinates: the source had binary logging off."
            );
        }
    }
    if let (Some(f), Some(p)) = (&r.innodb_binlog_file, r.innodb_binlog_position) {
        if r.binlog_file.as_deref() != Some(f) || r.binlog_position != Some(p) {
            let _ = writeln!(
                out,
                "(InnoDB's last commit is at '{f}', position '{p}': changes to non-InnoDB tables or DDL came after it; the coordinates above, from {}, include them.)",
                r.binlog_source.as_deref().unwrap_or("the backup")
            );
        }
    }
    if let Some(g) = &r.gtid {
        let _ = writeln!(out, "GTID of the last change: '{g}'.");
    }
    let _ = writeln!(
        out,
        "Start a server on it with: ferry server run --datadir {} --port 3306",
        r.target_dir.display()
    );
    out
}

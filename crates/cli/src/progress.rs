//! Showing a restore's progress: a bar on a terminal, periodic log lines otherwise.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use ferry_restore::progress::{Phase, Progress, Snapshot};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;

pub struct Reporter {
    task: JoinHandle<()>,
    stop: Arc<tokio::sync::Notify>,
}

/// Binary units, as people read sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `files 1200/10251 (240/s), ` while files are known, else nothing.
fn files_part(s: &Snapshot, file_rate: f64) -> String {
    if s.files_total == 0 {
        return String::new();
    }
    format!(
        "files {}/{} ({}/s), ",
        s.files_done,
        s.files_total,
        file_rate.round() as u64
    )
}

/// The message beside the bar: files while downloading, else the phase's detail.
fn bar_message(s: &Snapshot) -> String {
    if s.phase == Phase::Download && s.files_total > 0 {
        format!("{}/{} files", s.files_done, s.files_total)
    } else {
        s.detail.clone()
    }
}

fn line(s: &Snapshot, rate: f64, file_rate: f64) -> String {
    match s.phase {
        Phase::Download if s.bytes_total > 0 => {
            let eta = if rate > 0.0 {
                let left = s.bytes_total.saturating_sub(s.bytes_done) as f64 / rate;
                format!(", ETA {}s", left.round() as u64)
            } else {
                String::new()
            };
            format!(
                "{}: {} / {} ({}%), {}/s{eta}, {}sets {}/{}{}",
                s.phase.label(),
                human_bytes(s.bytes_done),
                human_bytes(s.bytes_total),
                (s.bytes_done * 100 / s.bytes_total.max(1)).min(100),
                human_bytes(rate as u64),
                files_part(s, file_rate),
                s.sets_done,
                s.sets_total,
                if s.retries > 0 {
                    format!(", {} retries", s.retries)
                } else {
                    String::new()
                }
            )
        }
        _ => format!("{}: {}", s.phase.label(), s.detail),
    }
}

impl Reporter {
    /// Starts showing `progress` on stderr. `quiet` shows nothing.
    pub fn start(progress: Arc<Progress>, quiet: bool) -> Reporter {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let tty = std::io::stderr().is_terminal();
        let task = tokio::spawn(async move {
            if quiet {
                stop2.notified().await;
                return;
            }
            let bar = tty.then(|| {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar
            });
            let period = if tty {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            let mut last = (0u64, 0u64, std::time::Instant::now());
            let mut last_phase = None;
            loop {
                let s = progress.snapshot();
                let now = std::time::Instant::now();
                let dt = now.duration_since(last.2).as_secs_f64().max(0.001);
                let rate = s.bytes_done.saturating_sub(last.0) as f64 / dt;
                let file_rate = s.files_done.saturating_sub(last.1) as f64 / dt;
                last = (s.bytes_done, s.files_done, now);
                match &bar {
                    Some(bar) => {
                        bar.set_prefix(s.phase.label());
                        bar.set_length(s.bytes_total);
                        bar.set_position(s.bytes_done);
                        bar.set_message(bar_message(&s));
                        bar.tick();
                    }
                    None => {
                        if s.phase != Phase::Listing
                            && (s.phase == Phase::Download || last_phase != Some(s.phase))
                        {
                            eprintln!("{}", line(&s, rate, file_rate));
                        }
                    }
                }
                last_phase = Some(s.phase);
                tokio::select! {
                    _ = stop2.notified() => break,
                    _ = tokio::time::sleep(period) => {}
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
        });
        Reporter { task, stop }
    }

    pub async fn finish(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn download(files_total: u64, files_done: u64) -> Snapshot {
        Snapshot {
            phase: Phase::Download,
            detail: String::new(),
            bytes_total: 4 << 20,
            bytes_done: 1 << 20,
            bytes_reused: 0,
            retries: 0,
            sets_total: 1,
            sets_done: 0,
            files_total,
            files_done,
            files_reused: 0,
            elapsed_secs: 1.0,
        }
    }

    #[test]
    fn download_line_shows_files_beside_bytes() {
        let l = line(&download(3000, 1200), 1024.0 * 1024.0, 240.0);
        assert!(l.contains("files 1200/3000 (240/s), sets 0/1"), "{l}");
        assert!(l.contains("1.0 MiB / 4.0 MiB (25%)"), "{l}");
        assert_eq!(bar_message(&download(3000, 1200)), "1200/3000 files");
        // Unknown file count: bytes only, as before.
        let l = line(&download(0, 0), 0.0, 0.0);
        assert!(!l.contains("files"), "{l}");
    }
}

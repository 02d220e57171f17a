use super::*;
use ferry_replication::monitor::LagSource;
use ferry_replication::view::ReplicationView;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
}

fn point(secs: i64, lag_ms: Option<u64>) -> LagPoint {
    LagPoint {
        at: at(secs),
        lag: lag_ms.map(Duration::from_millis),
    }
}

fn view() -> ReplicationView {
    ReplicationView {
        sampled_at: at(0),
        source_host: "source.example".into(),
        source_port: 3306,
        source_user: "repl<&>".into(),
        io_thread: ThreadState::Yes,
        sql_thread_running: true,
        seconds_behind_master: Some(1),
        lag: Some(Duration::from_millis(1250)),
        lag_source: LagSource::Heartbeat,
        read_log_file: "mysql-bin.000003".into(),
        read_log_position: 900,
        executed_log_file: "mysql-bin.000003".into(),
        executed_log_position: 800,
        source_log_file: Some("mysql-bin.000004".into()),
        source_log_position: Some(120),
        using_gtid: false,
        gtid_io_pos: None,
        source_error: None,
        ssl: true,
        last_io_errno: 0,
        last_io_error: String::new(),
        last_sql_errno: 0,
        last_sql_error: String::new(),
    }
}

/// The polylines' points, each as (x, y).
fn lines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split(r#"<polyline class="line" points=""#)
        .skip(1)
        .map(|rest| {
            rest[..rest.find('"').unwrap()]
                .split(' ')
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_chart_draws_the_lag_over_the_window_with_gaps_where_it_was_unknown() {
    let mut history: Vec<LagPoint> = (0..10)
        .map(|i| point(i * 2, Some(i as u64 * 500)))
        .collect();
    // The SQL thread stopped for one sample, then came back.
    history.push(point(20, None));
    history.extend((11..15).map(|i| point(i * 2, Some(1000))));
    // The agent did not sample for a minute (a restart): the line does not bridge it.
    history.extend((0..3).map(|i| point(100 + i * 2, Some(0))));
    let chart = Chart::of(&history);
    let segments = lines(&chart.svg);
    assert_eq!(segments.len(), 3, "{}", chart.svg);
    assert_eq!(segments[0].len(), 10);
    assert_eq!(segments[1].len(), 4);
    assert_eq!(segments[2].len(), 3);
    // The highest lag (4.5 s) sits under the top of a 5 s scale, 0 on the base line.
    let base = TOP + (HEIGHT - TOP - BOTTOM);
    assert_eq!(segments[0][0].1, base);
    let highest = segments[0][9].1;
    assert!(highest > TOP && highest < base, "{highest}");
    assert!(chart.svg.contains(">5 s</text>"), "{}", chart.svg);
    assert!(chart.svg.contains(">2.5 s</text>"), "{}", chart.svg);
    // Time runs left to right and the newest point is at the right edge.
    assert!(segments[0].windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(segments[2][2].0, WIDTH - RIGHT);
    assert!(chart.svg.contains("<title id=\"lag-chart-title\">Replication lag over the last 5 minutes, highest 4.500 s, now 0.000 s</title>"), "{}", chart.svg);
    assert_eq!(
        chart.summary,
        "Lag now 0.000 s; highest 4.500 s over the last 1 min (18 samples)."
    );
}

#[test]
fn the_chart_shows_the_last_half_hour_and_a_lone_sample_as_a_point() {
    // An hour of samples, one a minute: only the last 30 minutes (31 points) are drawn.
    let history: Vec<LagPoint> = (0..=60).map(|m| point(m * 60, Some(2000))).collect();
    let chart = Chart::of(&history);
    let segments = lines(&chart.svg);
    assert_eq!(
        segments.len(),
        0,
        "a minute apart is past the gap: points only"
    );
    assert_eq!(chart.svg.matches("<circle").count(), 31);
    assert!(chart.svg.contains(">−30 min</text>"), "{}", chart.svg);
    let one = Chart::of(&[point(0, Some(0))]);
    assert_eq!(one.svg.matches("<circle").count(), 1);
    assert!(one.svg.contains(">−1 min</text>"), "{}", one.svg);
    // Two samples 2 s apart in a 1-minute window: the line is 1/30 of the width, not 1/900.
    let young = Chart::of(&[point(0, Some(0)), point(2, Some(0))]);
    let line = &lines(&young.svg)[0];
    let width = line[1].0 - line[0].0;
    assert!(
        (width - (WIDTH - LEFT - RIGHT) / 30.0).abs() < 0.2,
        "{width}"
    );
    assert!(one.svg.contains(">1 s</text>"), "the scale is at least 1 s");
    assert_eq!(Chart::of(&[]).svg, "");
}

#[test]
fn the_scale_rounds_up_to_one_two_or_five() {
    assert_eq!(nice_ceiling(0.0), 1.0);
    assert_eq!(nice_ceiling(f64::NAN), 1.0);
    assert_eq!(nice_ceiling(1.2), 2.0);
    assert_eq!(nice_ceiling(4.5), 5.0);
    assert_eq!(nice_ceiling(5.0), 5.0);
    assert_eq!(nice_ceiling(7.0), 10.0);
    assert_eq!(nice_ceiling(130.0), 200.0);
    assert_eq!(trim(2.5), "2.5");
    assert_eq!(trim(10.0), "10");
}

#[test]
fn the_section_reads_the_sample_and_offers_the_sources_position_to_stop_at() {
    let r = Replication {
        view: view(),
        history: vec![point(0, Some(1250))],
    };
    let s = ReplicationSection::of("db1", &r, Decision::of(Ok(())));
    assert_eq!(s.state, "running");
    assert_eq!(s.lag, "1.250 s");
    assert_eq!(
        (s.stop_file.as_str(), s.stop_position),
        ("mysql-bin.000004", 120)
    );
    let html = s.live_html();
    assert!(
        html.contains("source.example:3306 as repl&#60;&#38;&#62;")
            || html.contains("repl&lt;&amp;&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains("mysql-bin.000003:800"), "{html}");
    assert!(
        html.contains(r#"data-src="/console/clusters/db1/replication""#),
        "{html}"
    );

    // An SQL error: the state says so, the error is shown; no source position: the read one.
    let mut v = view();
    v.last_sql_errno = 1062;
    v.last_sql_error = "Duplicate entry '1' for key 'PRIMARY'".into();
    v.sql_thread_running = false;
    v.source_log_file = None;
    v.source_log_position = None;
    let r = Replication {
        view: v,
        history: vec![],
    };
    let s = ReplicationSection::of("db1", &r, Decision::of(Ok(())));
    assert_eq!(s.state, "error");
    assert_eq!(
        s.errors,
        ["SQL thread error 1062: Duplicate entry '1' for key 'PRIMARY'"]
    );
    assert_eq!(
        (s.stop_file.as_str(), s.stop_position),
        ("mysql-bin.000003", 900)
    );
}

//! Untrusted bytes never panic or hang the reader, errors carry a line, and the split does
//! not depend on how the input arrives (any read size gives the same statements).

mod common;

use std::io::{BufReader, Cursor};

use common::{read_data, TARGET};
use ferry_dump::{Reader, Statement};
use proptest::prelude::*;

/// Reads everything with reads of `chunk` bytes: the statements and the error, if any.
fn read_all(input: &[u8], chunk: usize) -> (Vec<Statement>, Option<ferry_dump::ParseError>) {
    let mut r = Reader::new(BufReader::with_capacity(chunk, Cursor::new(input)), TARGET)
        .with_max_statement(1 << 20);
    let mut out: Vec<Statement> = Vec::new();
    let mut last = 0u64;
    loop {
        match r.next_statement() {
            Ok(Some(s)) => {
                // Progress on every call: a statement has bytes, and the reader moved on.
                assert!(!s.sql.is_empty());
                assert!(r.bytes_read() > last, "no progress");
                assert!(s.line >= 1 && s.offset < s.end && s.end <= input.len() as u64);
                last = r.bytes_read();
                assert!(out.len() <= input.len(), "more statements than bytes");
                out.push(s);
            }
            Ok(None) => {
                assert_eq!(r.bytes_read(), input.len() as u64);
                return (out, None);
            }
            Err(e) => {
                assert!(e.line >= 1);
                let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                assert!(e.line <= lines, "line {} of {lines}", e.line);
                assert!(r.next_statement().expect("after an error").is_none());
                return (out, Some(e));
            }
        }
    }
}

fn same(
    a: &(Vec<Statement>, Option<ferry_dump::ParseError>),
    b: &(Vec<Statement>, Option<ferry_dump::ParseError>),
) {
    assert_eq!(a.0, b.0);
    assert_eq!(
        a.1.as_ref().map(|e| (e.line, e.message.clone())),
        b.1.as_ref().map(|e| (e.line, e.message.clone()))
    );
}

/// Bytes that matter to the lexer, to make interesting inputs likely.
fn lexical_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        5 => prop::sample::select(b";'\"`\\/*!M#-\n DELIMITER$0123456789".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..2000), chunk in 1usize..64) {
        let a = read_all(&input, chunk);
        let b = read_all(&input, 8192);
        same(&a, &b);
    }

    #[test]
    fn lexically_dense_bytes(input in prop::collection::vec(lexical_byte(), 0..600), chunk in 1usize..16) {
        let a = read_all(&input, chunk);
        let b = read_all(&input, 8192);
        same(&a, &b);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop::sample::select(vec![
        b"'".to_vec(),
        b"\"".to_vec(),
        b"`".to_vec(),
        b"\\".to_vec(),
        b"/*".to_vec(),
        b"*/".to_vec(),
        b"/*!50003 ".to_vec(),
        b"-- ".to_vec(),
        b"#".to_vec(),
        b"\nDELIMITER ;;\n".to_vec(),
        b"\nDELIMITER ;\n".to_vec(),
        b"\nDELIMITER \n".to_vec(),
        b";".to_vec(),
        b"\0".to_vec(),
        b"\xff\xfe".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), lexical_byte()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), snippet).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut input: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = input.len().max(1);
        match m {
            Mutation::Set(i, b) => {
                if !input.is_empty() {
                    input[i % len] = *b;
                }
            }
            Mutation::Insert(i, s) => {
                let at = i % (input.len() + 1);
                input.splice(at..at, s.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(input.len());
                if at < end {
                    input.drain(at..end);
                }
            }
            Mutation::Truncate(i) => input.truncate(i % (input.len() + 1)),
        }
    }
    input
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_dumps(
        which in prop::sample::select(vec!["full.sql", "skip-extended.sql", "master-data-2.sql", "dump-slave-gtid.sql"]),
        mutations in prop::collection::vec(mutation(), 1..12),
        chunk in 1usize..300,
    ) {
        let input = apply(read_data(which), &mutations);
        let a = read_all(&input, chunk);
        let b = read_all(&input, 1 << 16);
        same(&a, &b);
    }
}

#[test]
fn every_prefix_of_a_dump_reads_or_fails_cleanly() {
    let input = read_data("full.sql");
    // Every 97th cut, so the test stays fast while landing in every kind of state.
    for cut in (0..input.len()).step_by(97) {
        let (st, err) = read_all(&input[..cut], 4096);
        if let Some(e) = err {
            assert!(e.line >= 1);
        }
        assert!(st.iter().all(|s| s.end <= cut as u64));
    }
}

/// A value as mariadb-dump writes one: an escaped string, a hex or bit literal, a number, NULL.
fn sql_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..20).prop_map(|cs| {
            let mut s = String::from("'");
            for c in cs {
                match c {
                    '\'' => s.push_str("\\'"),
                    '\\' => s.push_str("\\\\"),
                    '\0' => s.push_str("\\0"),
                    c => s.push(c),
                }
            }
            s.push('\'');
            s
        }),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
            if hex.is_empty() {
                "''".to_string()
            } else {
                format!("0x{hex}")
            }
        }),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("NULL".to_string()),
        Just("_binary '(;)'".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn insert_rows_are_counted(rows in prop::collection::vec(prop::collection::vec(sql_value(), 1..5), 1..40)) {
        let tuples: Vec<String> = rows.iter().map(|r| format!("({})", r.join(","))).collect();
        let sql = format!("INSERT INTO `t` VALUES {};\nSELECT 1;", tuples.join(","));
        let (st, err) = read_all(sql.as_bytes(), 4096);
        prop_assert!(err.is_none());
        prop_assert_eq!(st.len(), 2);
        match &st[0].kind {
            ferry_dump::Kind::Insert { rows: n, .. } => prop_assert_eq!(*n, rows.len() as u64),
            k => prop_assert!(false, "{:?}", k),
        }
    }
}

/// A value as a dump writes it, with the bytes the server would store for it (None: NULL).
fn sql_value_and_bytes() -> impl Strategy<Value = (String, Option<Vec<u8>>)> {
    let text_char = prop_oneof![
        Just('\t'),
        Just('\n'),
        Just('\r'),
        Just('\\'),
        Just('\''),
        Just('"'),
        Just('%'),
        Just('_'),
        Just('N'),
        Just('\0'),
        any::<char>(),
    ];
    prop_oneof![
        (prop::collection::vec(text_char, 0..20), any::<u8>()).prop_map(|(cs, style)| {
            let mut s = String::from("'");
            for c in &cs {
                match c {
                    '\'' if style % 2 == 0 => s.push_str("''"),
                    '\'' => s.push_str("\\'"),
                    '\\' => s.push_str("\\\\"),
                    '\0' => s.push_str("\\0"),
                    '\n' if style % 3 == 0 => s.push_str("\\n"),
                    '\t' if style % 5 == 0 => s.push_str("\\t"),
                    'N' if style % 7 == 0 => s.push_str("\\N"),
                    c => s.push(*c),
                }
            }
            s.push('\'');
            (s, Some(cs.iter().collect::<String>().into_bytes()))
        }),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(|b| {
            let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
            (format!("0x{hex}"), Some(b))
        }),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            (format!("_binary X'{hex}'"), Some(b))
        }),
        any::<i64>().prop_map(|n| (n.to_string(), Some(n.to_string().into_bytes()))),
        Just(("NULL".to_string(), None)),
    ]
}

/// Reads LOAD DATA input as the server does with `FIELDS TERMINATED BY '\t' ESCAPED BY '\\'
/// LINES TERMINATED BY '\n'`.
fn read_load_data(data: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), Vec::new());
    let mut null = false;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\\' => {
                let e = data[i + 1];
                if e == b'N' && field.is_empty() && matches!(data.get(i + 2), Some(b'\t' | b'\n')) {
                    null = true;
                } else {
                    field.push(match e {
                        b'0' => 0,
                        b'b' => 8,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'Z' => 0x1a,
                        e => e,
                    });
                }
                i += 2;
                continue;
            }
            b'\t' | b'\n' => {
                row.push((!null).then(|| std::mem::take(&mut field)));
                field.clear();
                null = false;
                if data[i] == b'\n' {
                    rows.push(std::mem::take(&mut row));
                }
            }
            b => field.push(b),
        }
        i += 1;
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn insert_rows_become_load_data_of_the_same_values(
        rows in prop::collection::vec(prop::collection::vec(sql_value_and_bytes(), 1..5), 1..30)
    ) {
        let tuples: Vec<String> = rows
            .iter()
            .map(|r| format!("({})", r.iter().map(|(sql, _)| sql.as_str()).collect::<Vec<_>>().join(",")))
            .collect();
        let sql = format!("INSERT INTO `db`.`t` (`a`) VALUES {}", tuples.join(",\n"));
        let mut out = Vec::new();
        let head = ferry_dump::insert_as_load_data(sql.as_bytes(), &mut out);
        prop_assert!(head.is_some(), "{}", sql);
        prop_assert_eq!(head.unwrap().rows, rows.len() as u64);
        let want: Vec<Vec<Option<Vec<u8>>>> = rows
            .iter()
            .map(|r| r.iter().map(|(_, v)| v.clone()).collect())
            .collect();
        prop_assert_eq!(read_load_data(&out), want);
    }

    #[test]
    fn arbitrary_inserts_convert_or_refuse_without_panic(tail in prop::collection::vec(lexical_byte(), 0..400)) {
        let mut sql = b"INSERT INTO t VALUES (".to_vec();
        sql.extend_from_slice(&tail);
        let mut out = Vec::new();
        if ferry_dump::insert_as_load_data(&sql, &mut out).is_none() {
            prop_assert!(out.is_empty());
        }
    }
}

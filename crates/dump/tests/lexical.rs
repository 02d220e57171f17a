//! The splitting rules, one tricky case at a time (see the `reader` module documentation).

mod common;

use common::{kinds, split, statements_of, TARGET};
use ferry_dump::{Kind, Name, Reader, Version};

#[test]
fn semicolons_inside_strings_and_identifiers_do_not_split() {
    assert_eq!(
        split("INSERT INTO `a;b` VALUES ('x;y',\"p;q\");\nSELECT 2;"),
        ["INSERT INTO `a;b` VALUES ('x;y',\"p;q\")", "SELECT 2"]
    );
}

#[test]
fn backslash_escapes_and_doubled_quotes() {
    assert_eq!(
        split(r"SELECT 'it\'s;', 'it''s;', 'a\\', `x``;y`, 'q\';';SELECT 3;"),
        [
            r"SELECT 'it\'s;', 'it''s;', 'a\\', `x``;y`, 'q\';'",
            "SELECT 3"
        ]
    );
    assert_eq!(
        split("SELECT \"d\\\";\", \"d\"\";\";SELECT 4"),
        ["SELECT \"d\\\";\", \"d\"\";\"", "SELECT 4"]
    );
}

#[test]
fn backquoted_identifiers_have_no_backslash_escape() {
    // `a\` is a complete identifier: the backslash does not escape the backquote.
    assert_eq!(
        split("SELECT `a\\`;SELECT 5;"),
        ["SELECT `a\\`", "SELECT 5"]
    );
}

#[test]
fn newlines_delimiter_and_comment_text_inside_strings() {
    let input = "INSERT INTO t VALUES ('line\nDELIMITER ;;\n-- no\n# no\n/* no */;');\nSELECT 1;";
    assert_eq!(
        split(input),
        [
            "INSERT INTO t VALUES ('line\nDELIMITER ;;\n-- no\n# no\n/* no */;')",
            "SELECT 1"
        ]
    );
}

#[test]
fn raw_bytes_nul_and_invalid_utf8_in_binary_strings() {
    let mut input = b"INSERT INTO b VALUES (_binary '".to_vec();
    input.extend_from_slice(&[0, 0xff, b';', b'\\', b'\'', 0x80, b'\n', 0xfe]);
    input.extend_from_slice(b"', 0x3B27, X'3b', b'0101');\nSELECT 1;");
    let (st, _) = statements_of(&input);
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].sql, input[..input.len() - ";\nSELECT 1;".len()]);
    assert_eq!(
        st[0].kind,
        Kind::Insert {
            table: Name::new("b"),
            rows: 1,
            ignore: false,
            replace: false
        }
    );
    // The string holds a newline.
    assert_eq!(st[1].line, 3);
}

#[test]
fn line_comments_are_removed_as_the_client_removes_them() {
    assert_eq!(
        split("-- header\n# hash\nSELECT 1 -- trailing; not a split\n, 2 # also; gone\n;"),
        ["SELECT 1 \n, 2"]
    );
    // `--` without a following space is an operator inside a statement...
    assert_eq!(split("SELECT 1--1;"), ["SELECT 1--1"]);
    // ...but a comment at the start of one (the client's rule).
    assert_eq!(split("--x;\nSELECT 2;"), ["SELECT 2"]);
    assert_eq!(split("SELECT 3 --\n;"), ["SELECT 3"]);
}

#[test]
fn plain_block_comments_are_removed_conditional_ones_kept() {
    assert_eq!(
        split("SELECT/* a; b */1, /*!40101 2; */ /*M!100100 3 */ /*+ hint */;"),
        ["SELECT 1, /*!40101 2", "*/ /*M!100100 3 */ /*+ hint */"]
    );
    assert_eq!(split("/* multi\nline; comment */\nSELECT 1;"), ["SELECT 1"]);
}

#[test]
fn a_statement_wholly_inside_a_conditional_comment() {
    let st = statements_of(
        b"/*!40101 SET NAMES utf8mb4 */;\n/*M!999999 SET x=1 */;\n/*!99999 SET y=1 */;\n",
    )
    .0;
    assert_eq!(st.len(), 3);
    assert_eq!(st[0].sql, b"/*!40101 SET NAMES utf8mb4 */");
    assert_eq!(
        st[0].kind,
        Kind::Set {
            system_variables: vec![
                "character_set_client".into(),
                "character_set_results".into(),
                "character_set_connection".into(),
                "collation_connection".into()
            ]
        }
    );
    assert_eq!(st[1].kind, Kind::Empty);
    // 9.99.99 <= 10.11.19: applied.
    assert_eq!(
        st[2].kind,
        Kind::Set {
            system_variables: vec!["y".into()]
        }
    );
}

#[test]
fn mariadb_only_comments_follow_the_flavor() {
    let input = b"/*M!100100 SET sql_notes=0 */;".to_vec();
    let mariadb = statements_of(&input).0;
    assert!(matches!(mariadb[0].kind, Kind::Set { .. }));
    let mut r = Reader::new(&input[..], Version::mysql(8, 0, 36));
    assert_eq!(r.next_statement().unwrap().unwrap().kind, Kind::Empty);
    // A newer version than the target: not applied.
    let mut r = Reader::new(&b"/*!80023 SET x=1 */;"[..], Version::mysql(5, 7, 44));
    assert_eq!(r.next_statement().unwrap().unwrap().kind, Kind::Empty);
}

#[test]
fn delimiter_blocks() {
    let input = "DELIMITER ;;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT ';;';\nEND ;;\ndelimiter ;\nSELECT 2;";
    assert_eq!(
        split(input),
        [
            "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT ';;';\nEND",
            "SELECT 2"
        ]
    );
    // Other delimiters, quoted ones, and text after the argument.
    assert_eq!(
        split("DELIMITER $$ ignored\nSELECT 1$$\n  DELIMITER '//'\nSELECT 2//\nDELIMITER ;\n"),
        ["SELECT 1", "SELECT 2"]
    );
}

#[test]
fn delimiter_is_a_command_only_at_the_start_of_a_statement_line() {
    // Inside a pending statement it is SQL text (the server rejects it, as with the client).
    assert_eq!(split("SELECT 1\nDELIMITER ;;\n;"), ["SELECT 1\nDELIMITER"]);
    // After a statement on the same line, likewise.
    assert_eq!(split("SELECT 1; DELIMITER ;;\n"), ["SELECT 1", "DELIMITER"]);
    // `DELIMITER` alone on its line is not the command either.
    assert_eq!(split("DELIMITER\n;"), ["DELIMITER"]);
    // Leading whitespace is allowed; any case.
    assert_eq!(
        split("  dElImItEr //\nSELECT 1//\nDELIMITER ;\n"),
        ["SELECT 1"]
    );
}

#[test]
fn delimiter_errors() {
    for (input, line, what) in [
        ("SELECT 1;\nDELIMITER   \nSELECT 2;", 2, "must be followed"),
        ("DELIMITER \\x\n", 1, "backslash"),
        (
            "SELECT 1;\n\nDELIMITER ;;\nSELECT 2;;\n",
            3,
            "ends inside the DELIMITER ;;",
        ),
    ] {
        let mut r = Reader::new(input.as_bytes(), TARGET);
        let err = loop {
            match r.next_statement() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{input:?}: no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.line, line, "{input:?}: {err}");
        assert!(err.to_string().contains(what), "{input:?}: {err}");
        assert!(err.to_string().starts_with(&format!("line {line}: ")));
        assert!(
            r.next_statement().unwrap().is_none(),
            "stops after an error"
        );
    }
}

#[test]
fn unterminated_at_end_of_input() {
    for (input, line, what) in [
        ("SELECT 1;\nSELECT 'abc\n\ndef", 2, "unterminated string"),
        ("SELECT \"abc", 1, "unterminated string"),
        ("\n\nSELECT `abc;", 3, "unterminated identifier"),
        ("SELECT 1 /* abc\n;", 1, "unterminated /* comment"),
        ("SELECT 'a\\", 1, "unterminated string"),
    ] {
        let mut r = Reader::new(input.as_bytes(), TARGET);
        let err = loop {
            match r.next_statement() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{input:?}: no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.line, line, "{input:?}: {err}");
        assert!(err.message.contains(what), "{input:?}: {err}");
    }
}

#[test]
fn statement_longer_than_the_maximum() {
    let input = format!(
        "SELECT 1;\nINSERT INTO t VALUES ('{}');\n",
        "x".repeat(5000)
    );
    let mut r = Reader::new(input.as_bytes(), TARGET).with_max_statement(1000);
    assert!(r.next_statement().unwrap().is_some());
    let err = r.next_statement().unwrap_err();
    assert_eq!(err.line, 2);
    assert!(
        err.message
            .contains("longer than the maximum of 1000 bytes"),
        "{err}"
    );
}

#[test]
fn a_last_statement_without_delimiter_is_sent() {
    assert_eq!(
        split("SELECT 1;\nSELECT 2\n-- end\n"),
        ["SELECT 1", "SELECT 2"]
    );
    assert!(split("SELECT 1;\n-- Dump completed\n\n").len() == 1);
    assert!(split("").is_empty());
}

#[test]
fn empty_statements_are_not_sent() {
    assert_eq!(split(";;\n ; SELECT 1;;"), ["SELECT 1"]);
}

#[test]
fn sandbox_line_is_its_own_empty_statement() {
    let input = b"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n";
    let (st, _) = statements_of(input);
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].sql, b"/*M!999999\\- enable the sandbox mode */");
    assert_eq!(st[0].kind, Kind::Empty);
    assert_eq!((st[0].line, st[0].offset), (1, 0));
    assert_eq!(st[1].sql, b"/*!40101 SET NAMES utf8mb4 */");
    assert_eq!(st[1].line, 3);
}

#[test]
fn lines_and_offsets() {
    let input = b"-- c\n\n  SELECT 1;  SELECT\n2 ;\n/* x */ SELECT 3;";
    let (st, _) = statements_of(input);
    let got: Vec<_> = st.iter().map(|s| (s.line, s.offset, s.end)).collect();
    assert_eq!(got, [(3, 8, 17), (3, 19, 29), (5, 38, 47)]);
    assert_eq!(&input[8..17], b"SELECT 1;");
    assert_eq!(st[1].sql, b"SELECT\n2");
}

#[test]
fn no_backslash_escapes_is_followed_through_sql_mode() {
    let input = "/*!50003 SET @saved_sql_mode = @@sql_mode */;\n\
        /*!50003 SET sql_mode = 'NO_BACKSLASH_ESCAPES' */;\n\
        SELECT 'a\\';\nSELECT 2;\n\
        /*!50003 SET sql_mode = @saved_sql_mode */;\n\
        SELECT 'b\\';\nSELECT 3';";
    let got = split(input);
    assert_eq!(got[2], "SELECT 'a\\'");
    assert_eq!(got[3], "SELECT 2");
    assert_eq!(got[5], "SELECT 'b\\';\nSELECT 3'");
    // ANSI_QUOTES: "..." has no escapes either.
    let got = split("SET sql_mode='ANSI';\nSELECT \"a\\\";\nSELECT 'c\\';';");
    assert_eq!(
        got,
        ["SET sql_mode='ANSI'", "SELECT \"a\\\"", "SELECT 'c\\';'"]
    );
}

#[test]
fn use_sets_the_current_database() {
    let (st, _) =
        statements_of(b"SELECT 0;\nUSE `my``db`;\nCREATE TABLE t (a int);\nUSE other;\nSELECT 1;");
    let dbs: Vec<_> = st.iter().map(|s| s.database.as_deref()).collect();
    assert_eq!(
        dbs,
        [
            None,
            Some("my`db"),
            Some("my`db"),
            Some("other"),
            Some("other")
        ]
    );
    assert_eq!(
        st[1].kind,
        Kind::Use {
            database: "my`db".into()
        }
    );
}

#[test]
fn head_is_one_line_of_at_most_80_chars() {
    let (st, _) =
        statements_of(format!("INSERT INTO t\nVALUES\t('é{}');", "x".repeat(200)).as_bytes());
    let head = st[0].head();
    assert_eq!(head.chars().count(), 80);
    assert!(head.starts_with("INSERT INTO t VALUES ('éxx"), "{head}");
    assert!(!kinds("SELECT 1").is_empty());
}

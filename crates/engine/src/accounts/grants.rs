//! Reading `SHOW GRANTS FOR …` lines back, the only view of an account's privileges that
//! MariaDB keeps stable across privilege-table layouts. [`set_master_user`] uses it to report
//! what it revoked and to check that the master user ends up with exactly its grant set.
//!
//! A line looks like ``GRANT <what> ON <object> TO `u`@`%` [IDENTIFIED BY PASSWORD '*…']
//! [REQUIRE …] [WITH GRANT OPTION] [MAX_… n …]`` (resource limits come *after* the grant
//! option, e.g. `… WITH GRANT OPTION MAX_USER_CONNECTIONS 3`, or `… WITH MAX_USER_CONNECTIONS
//! 3` without it); roles are `GRANT `role` TO …` and the default role is `SET DEFAULT ROLE …`.
//!
//! [`set_master_user`]: super::set_master_user

use std::collections::BTreeSet;

/// One `SHOW GRANTS` line, split at its grantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GrantLine<'a> {
    /// The line up to ` TO `: `GRANT <privileges> ON <object>`, `GRANT `role``,
    /// `GRANT PROXY ON …`. The grantee (the user name) is left out, so this can go in reports.
    pub(super) grant: &'a str,
    /// The line ends with `WITH GRANT OPTION` (before any resource limits).
    pub(super) with_grant_option: bool,
}

impl<'a> GrantLine<'a> {
    pub(super) fn parse(line: &'a str) -> Self {
        GrantLine {
            grant: line.split_once(" TO ").map_or(line, |(grant, _)| grant),
            with_grant_option: has_grant_option(line),
        }
    }

    /// The privileges of a global (`ON *.*`) line, without `USAGE` (which means none);
    /// `None` for any other line. `ALL PRIVILEGES` stays one item.
    pub(super) fn global_privileges(&self) -> Option<BTreeSet<&'a str>> {
        let privileges = self.grant.strip_prefix("GRANT ")?.strip_suffix(" ON *.*")?;
        Some(
            privileges
                .split(", ")
                .map(str::trim)
                .filter(|p| !p.is_empty() && *p != "USAGE")
                .collect(),
        )
    }

    /// `SET DEFAULT ROLE …`: not a grant, goes with the roles.
    pub(super) fn is_default_role(&self) -> bool {
        self.grant.starts_with("SET DEFAULT ROLE")
    }
}

/// Whether a `SHOW GRANTS` line carries `WITH GRANT OPTION`. Resource limits that follow it
/// (`MAX_QUERIES_PER_HOUR 5 MAX_USER_CONNECTIONS 3`, `MAX_STATEMENT_TIME 2.000000`) are
/// stripped first; without the grant option MariaDB prints `WITH MAX_… n` instead.
fn has_grant_option(line: &str) -> bool {
    let mut rest = line.trim_end();
    while let Some((head, value)) = rest.rsplit_once(' ') {
        let is_number = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
        let Some((before, name)) = head.rsplit_once(' ') else {
            break;
        };
        if !(is_number && name.starts_with("MAX_")) {
            break;
        }
        rest = before;
    }
    rest.ends_with(" WITH GRANT OPTION")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'";

    #[test]
    fn global_lines_give_their_privileges() {
        let line = format!(
            "GRANT SELECT, SUPER, SLAVE MONITOR ON *.* TO `m`@`%` {HASH} WITH GRANT OPTION"
        );
        let parsed = GrantLine::parse(&line);
        assert_eq!(parsed.grant, "GRANT SELECT, SUPER, SLAVE MONITOR ON *.*");
        assert!(parsed.with_grant_option);
        assert_eq!(
            parsed.global_privileges(),
            Some(BTreeSet::from(["SELECT", "SUPER", "SLAVE MONITOR"]))
        );

        let usage = GrantLine::parse("GRANT USAGE ON *.* TO `m`@`%`");
        assert_eq!(usage.global_privileges(), Some(BTreeSet::new()));
        assert!(!usage.with_grant_option);

        let all = GrantLine::parse("GRANT ALL PRIVILEGES ON *.* TO `m`@`%` REQUIRE SSL");
        assert_eq!(
            all.global_privileges(),
            Some(BTreeSet::from(["ALL PRIVILEGES"]))
        );
    }

    #[test]
    fn other_lines_are_not_global() {
        for (line, grant) in [
            (
                "GRANT SELECT ON `mysql`.* TO `m`@`%`",
                "GRANT SELECT ON `mysql`.*",
            ),
            (
                "GRANT SELECT (`User`), INSERT ON `mysql`.`db` TO `m`@`%`",
                "GRANT SELECT (`User`), INSERT ON `mysql`.`db`",
            ),
            (
                "GRANT EXECUTE ON PROCEDURE `mysql`.`p` TO `m`@`%`",
                "GRANT EXECUTE ON PROCEDURE `mysql`.`p`",
            ),
            ("GRANT `dba` TO `m`@`%`", "GRANT `dba`"),
            ("GRANT PROXY ON ``@`%` TO `m`@`%`", "GRANT PROXY ON ``@`%`"),
        ] {
            let parsed = GrantLine::parse(line);
            assert_eq!(parsed.grant, grant);
            assert_eq!(parsed.global_privileges(), None, "{line}");
            assert!(!parsed.is_default_role());
        }
        assert!(GrantLine::parse("SET DEFAULT ROLE `dba` FOR `m`@`%`").is_default_role());
    }

    #[test]
    fn grant_option_is_found_before_resource_limits() {
        let cases = [
            (
                "GRANT ALL PRIVILEGES ON `%`.* TO `m`@`%` WITH GRANT OPTION",
                true,
            ),
            ("GRANT ALL PRIVILEGES ON `%`.* TO `m`@`%`", false),
            (
                "GRANT RELOAD ON *.* TO `m`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL WITH \
                 GRANT OPTION MAX_QUERIES_PER_HOUR 5 MAX_USER_CONNECTIONS 3",
                true,
            ),
            (
                "GRANT RELOAD ON *.* TO `m`@`%` WITH GRANT OPTION MAX_STATEMENT_TIME 2.000000",
                true,
            ),
            (
                "GRANT RELOAD ON *.* TO `m`@`%` WITH MAX_USER_CONNECTIONS 3",
                false,
            ),
            (
                "GRANT RELOAD ON *.* TO `m`@`%` WITH MAX_USER_CONNECTIONS -1",
                false,
            ),
            // A user named like a clause does not fool it.
            ("GRANT SELECT ON `a`.* TO `WITH GRANT OPTION`@`%`", false),
            ("GRANT `dba` TO `m`@`%` WITH ADMIN OPTION", false),
        ];
        for (line, expected) in cases {
            assert_eq!(GrantLine::parse(line).with_grant_option, expected, "{line}");
        }
    }
}

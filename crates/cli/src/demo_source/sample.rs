//! The demo's sample database `shop`: its schema, its data (generated set-wise from the
//! SEQUENCE engine's `seq_1_to_N` tables, so loading is one statement per table), the changes
//! made between the full and the incremental backup, and the summary (row counts and
//! `CHECKSUM TABLE`) a restored copy is compared against.
//!
//! The schema covers what a restore has to carry: InnoDB tables with foreign keys (one with
//! `ON DELETE CASCADE`), `JSON` and `TEXT` columns, a MyISAM table, a view, a trigger and a
//! stored procedure. Every value is derived from the sequence number, so the data is the same
//! on every run.

use anyhow::Context;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// The sample schema's name.
pub const SCHEMA: &str = "shop";

/// One base table's state: what a restored copy must match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableSummary {
    /// The table's name inside its schema, e.g. `orders`.
    pub name: String,
    /// `SELECT COUNT(*)`.
    pub rows: u64,
    /// `CHECKSUM TABLE` (same server version on both sides, so the values compare).
    pub checksum: u64,
}

/// How many rows each generated table gets for a requested total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scale {
    pub customers: u64,
    pub products: u64,
    /// Orders of the initial load; each has two `order_items`.
    pub orders: u64,
    pub reviews: u64,
    pub searches: u64,
    /// Orders added before the incremental backup.
    pub new_orders: u64,
}

impl Scale {
    /// Splits `rows` over the tables (about `rows` rows in all, at least 10 in each).
    pub fn for_rows(rows: u64) -> Scale {
        let part = |divisor: u64| (rows / divisor).max(10);
        Scale {
            customers: part(10),
            products: part(25),
            orders: part(4),
            reviews: part(20),
            searches: part(20),
            new_orders: part(50),
        }
    }
}

/// `CREATE` statements of the schema, in order. Sent one by one (no `DELIMITER` games).
const SCHEMA_SQL: &[&str] = &[
    "CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    "CREATE TABLE shop.customers (
       id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
       email VARCHAR(191) NOT NULL,
       name VARCHAR(100) NOT NULL,
       country CHAR(2) NOT NULL,
       created_at DATETIME(6) NOT NULL,
       balance DECIMAL(12,2) NOT NULL DEFAULT 0,
       UNIQUE KEY uk_email (email)
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.products (
       id INT UNSIGNED NOT NULL PRIMARY KEY,
       sku CHAR(12) NOT NULL,
       title VARCHAR(200) NOT NULL,
       price DECIMAL(10,2) NOT NULL,
       stock INT NOT NULL,
       KEY k_sku (sku)
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.orders (
       id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
       customer_id INT UNSIGNED NOT NULL,
       status ENUM('new','paid','shipped','cancelled') NOT NULL,
       ordered_at DATETIME(6) NOT NULL,
       total DECIMAL(14,2) NOT NULL DEFAULT 0,
       KEY k_customer (customer_id),
       CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES shop.customers (id)
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.order_items (
       order_id BIGINT UNSIGNED NOT NULL,
       line SMALLINT UNSIGNED NOT NULL,
       product_id INT UNSIGNED NOT NULL,
       qty INT NOT NULL,
       unit_price DECIMAL(10,2) NOT NULL,
       PRIMARY KEY (order_id, line),
       KEY k_product (product_id),
       CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES shop.orders (id)
         ON DELETE CASCADE,
       CONSTRAINT fk_items_product FOREIGN KEY (product_id) REFERENCES shop.products (id)
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.reviews (
       id INT UNSIGNED NOT NULL PRIMARY KEY,
       product_id INT UNSIGNED NOT NULL,
       customer_id INT UNSIGNED NOT NULL,
       rating TINYINT UNSIGNED NOT NULL,
       body TEXT NOT NULL,
       details JSON NOT NULL,
       KEY k_product (product_id)
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.order_audit (
       id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
       order_id BIGINT UNSIGNED NOT NULL,
       old_status VARCHAR(10) NOT NULL,
       new_status VARCHAR(10) NOT NULL,
       changed_at DATETIME(6) NOT NULL
     ) ENGINE=InnoDB",
    "CREATE TABLE shop.search_log (
       id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
       term VARCHAR(100) NOT NULL,
       hits INT NOT NULL,
       searched_at DATETIME NOT NULL
     ) ENGINE=MyISAM",
    "CREATE VIEW shop.v_customer_totals AS
       SELECT c.id, c.email, COUNT(o.id) AS orders, COALESCE(SUM(o.total), 0) AS spent
       FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id
       GROUP BY c.id, c.email",
    "CREATE TRIGGER shop.orders_au AFTER UPDATE ON shop.orders FOR EACH ROW
     BEGIN
       IF NEW.status <> OLD.status THEN
         INSERT INTO shop.order_audit (order_id, old_status, new_status, changed_at)
         VALUES (NEW.id, OLD.status, NEW.status, NOW(6));
       END IF;
     END",
    "CREATE PROCEDURE shop.recompute_totals(IN p_from BIGINT UNSIGNED, IN p_to BIGINT UNSIGNED)
       MODIFIES SQL DATA
     BEGIN
       UPDATE shop.orders o
         JOIN (SELECT order_id, SUM(qty * unit_price) AS s FROM shop.order_items
               WHERE order_id BETWEEN p_from AND p_to GROUP BY order_id) t ON t.order_id = o.id
         SET o.total = t.s;
     END",
];

/// The statements that load the initial data.
fn load_sql(scale: &Scale) -> Vec<String> {
    let Scale {
        customers,
        products,
        orders,
        reviews,
        searches,
        new_orders: _,
    } = *scale;
    vec![
        "SET NAMES utf8mb4".to_owned(),
        // Bulk loads into empty tables: InnoDB then writes one undo record per table instead
        // of one per row (MDEV-24621). Every generated reference is valid.
        "SET SESSION unique_checks = 0, foreign_key_checks = 0".to_owned(),
        format!(
            "INSERT INTO shop.customers (id, email, name, country, created_at, balance)
             SELECT seq, CONCAT('user', seq, '@example.com'),
                    CONCAT(ELT(1 + seq % 6, 'Ada', 'Björn', 'Chloé', 'Dmitri', 'Eun-ji', 'Fatima'),
                           ' ', ELT(1 + seq % 5, 'Łukasz', 'O''Brien', 'Nguyễn', 'Müller', 'Søren')),
                    ELT(1 + seq % 5, 'US', 'DE', 'FR', 'JP', 'BR'),
                    TIMESTAMP '2023-01-01 00:00:00' + INTERVAL seq * 3607 SECOND
                      + INTERVAL (seq * 7919) % 1000000 MICROSECOND,
                    ((seq * 7919) % 100000) / 100
             FROM shop.seq_1_to_{customers}"
        ),
        format!(
            "INSERT INTO shop.products (id, sku, title, price, stock)
             SELECT seq, CONCAT('SKU-', LPAD(seq, 8, '0')),
                    CONCAT('Product ', seq, ' ', ELT(1 + seq % 4, 'kettle', 'Schraube', 'café crème', '椅子')),
                    1 + ((seq * 104729) % 99999) / 100, (seq * 13) % 500
             FROM shop.seq_1_to_{products}"
        ),
        format!(
            "INSERT INTO shop.orders (id, customer_id, status, ordered_at, total)
             SELECT seq, 1 + (seq * 31) % {customers},
                    ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'),
                    TIMESTAMP '2023-03-01 00:00:00' + INTERVAL seq * 1811 SECOND
                      + INTERVAL (seq * 6151) % 1000000 MICROSECOND,
                    0
             FROM shop.seq_1_to_{orders}"
        ),
        items_sql(1, orders, products),
        format!("CALL shop.recompute_totals(1, {orders})"),
        format!(
            "INSERT INTO shop.reviews (id, product_id, customer_id, rating, body, details)
             SELECT seq, 1 + seq % {products}, 1 + (seq * 17) % {customers}, 1 + seq % 5,
                    REPEAT(CONCAT('Review ', seq, ': works as described, would buy again. '),
                           1 + seq % 8),
                    JSON_OBJECT('verified', seq % 3 = 0, 'helpful', seq % 11,
                                'tags', JSON_ARRAY(CONCAT('t', seq % 7), 'demo'))
             FROM shop.seq_1_to_{reviews}"
        ),
        format!(
            "INSERT INTO shop.search_log (term, hits, searched_at)
             SELECT CONCAT(ELT(1 + seq % 5, 'kettle', 'Schraube', 'café', '椅子', 'lamp'), ' ', seq % 50),
                    (seq * 37) % 1000,
                    TIMESTAMP '2023-06-01 00:00:00' + INTERVAL seq * 59 SECOND
             FROM shop.seq_1_to_{searches}"
        ),
        "SET SESSION unique_checks = 1, foreign_key_checks = 1".to_owned(),
    ]
}

/// Two `order_items` for each order from `first` to `last`.
fn items_sql(first: u64, last: u64, products: u64) -> String {
    format!(
        "INSERT INTO shop.order_items (order_id, line, product_id, qty, unit_price)
         SELECT o.seq, l.seq, 1 + (o.seq * 7 + l.seq * 13) % {products}, 1 + (o.seq + l.seq) % 5,
                1 + ((o.seq * 104729 + l.seq) % 99999) / 100
         FROM shop.seq_{first}_to_{last} o JOIN shop.seq_1_to_2 l"
    )
}

/// The writes between the full and the incremental backup: new orders, status changes (the
/// trigger audits them), updates, deletes (one cascading), a new table, MyISAM rows. The last
/// statement is InnoDB DML, so the binlog position InnoDB recovers to is the end of the binlog.
fn changes_sql(scale: &Scale) -> Vec<String> {
    let Scale {
        customers,
        orders,
        searches,
        new_orders,
        ..
    } = *scale;
    let first = orders + 1;
    let last = orders + new_orders;
    vec![
        "SET NAMES utf8mb4".to_owned(),
        format!(
            "INSERT INTO shop.orders (id, customer_id, status, ordered_at, total)
             SELECT seq, 1 + (seq * 29) % {customers}, 'new',
                    TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, 0
             FROM shop.seq_{first}_to_{last}"
        ),
        items_sql(first, last, scale.products),
        "UPDATE shop.orders SET status = 'shipped' WHERE status = 'paid' AND id % 5 = 0".to_owned(),
        "UPDATE shop.customers SET balance = balance + 10 WHERE id % 9 = 0".to_owned(),
        "DELETE FROM shop.reviews WHERE id % 10 = 0".to_owned(),
        // Cascades to the orders' items.
        "DELETE FROM shop.orders WHERE status = 'cancelled' AND id % 7 = 0".to_owned(),
        "CREATE TABLE shop.coupons (
           code VARCHAR(20) NOT NULL PRIMARY KEY,
           percent TINYINT UNSIGNED NOT NULL,
           valid_until DATE NOT NULL
         ) ENGINE=InnoDB"
            .to_owned(),
        "INSERT INTO shop.coupons (code, percent, valid_until)
         SELECT CONCAT('SAVE', seq), 5 * (1 + seq % 6), DATE '2025-01-01' + INTERVAL seq DAY
         FROM shop.seq_1_to_50"
            .to_owned(),
        format!(
            "INSERT INTO shop.search_log (term, hits, searched_at)
             SELECT CONCAT('new term ', seq), seq % 100,
                    TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE
             FROM shop.seq_1_to_{}",
            (searches / 10).max(5)
        ),
        format!("CALL shop.recompute_totals({first}, {last})"),
    ]
}

async fn run_all(conn: &mut Conn, statements: &[&str], what: &str) -> anyhow::Result<()> {
    for statement in statements {
        conn.query_drop(*statement)
            .await
            .with_context(|| format!("{what}: run `{}`", first_line(statement)))?;
    }
    Ok(())
}

fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or(statement).trim()
}

/// Creates the schema and loads the initial data.
pub(super) async fn create_and_load(conn: &mut Conn, scale: &Scale) -> anyhow::Result<()> {
    run_all(conn, SCHEMA_SQL, "create the sample schema").await?;
    let load = load_sql(scale);
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    run_all(conn, &load, "load the sample data").await
}

/// The writes the incremental backup carries.
pub(super) async fn apply_changes(conn: &mut Conn, scale: &Scale) -> anyhow::Result<()> {
    let changes = changes_sql(scale);
    let changes: Vec<&str> = changes.iter().map(String::as_str).collect();
    run_all(conn, &changes, "change the sample data").await
}

/// `name` as a quoted identifier.
fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Row count and `CHECKSUM TABLE` of every base table of `schema`, sorted by table name
/// (byte-wise). Run it on
/// the source and on a restored copy (the same server version) and compare.
pub async fn summarize_schema(conn: &mut Conn, schema: &str) -> anyhow::Result<Vec<TableSummary>> {
    let tables: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (schema,),
        )
        .await
        .with_context(|| format!("list the base tables of schema {schema}"))?;
    // Byte-wise, whatever the server's collation of information_schema sorts like.
    let mut tables = tables;
    tables.sort();
    let mut summaries = Vec::with_capacity(tables.len());
    for name in tables {
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(&name));
        let rows: Option<u64> = conn
            .query_first(format!("SELECT COUNT(*) FROM {qualified}"))
            .await
            .with_context(|| format!("count the rows of {schema}.{name}"))?;
        let checksum: Option<(String, Option<u64>)> = conn
            .query_first(format!("CHECKSUM TABLE {qualified}"))
            .await
            .with_context(|| format!("checksum {schema}.{name}"))?;
        let (Some(rows), Some((_, Some(checksum)))) = (rows, checksum) else {
            anyhow::bail!("{schema}.{name} has no row count or checksum (dropped meanwhile?)");
        };
        summaries.push(TableSummary {
            name,
            rows,
            checksum,
        });
    }
    Ok(summaries)
}

/// Where the binary log ends and the GTID position it holds: the coordinates a copy restored
/// from a backup taken now continues from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BinlogCoordinates {
    pub file: String,
    pub position: u64,
    pub gtid: String,
}

pub(super) async fn binlog_coordinates(conn: &mut Conn) -> anyhow::Result<BinlogCoordinates> {
    let status: Option<mysql_async::Row> = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .context("read SHOW MASTER STATUS")?;
    let Some(status) = status else {
        anyhow::bail!("SHOW MASTER STATUS returned nothing: the binary log is off");
    };
    let file: Option<String> = status.get("File");
    let position: Option<u64> = status.get("Position");
    let (Some(file), Some(position)) = (file, position) else {
        anyhow::bail!("SHOW MASTER STATUS has no File / Position columns");
    };
    let gtid: Option<String> = conn
        .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
        .context("read @@gtid_binlog_pos")?;
    Ok(BinlogCoordinates {
        file,
        position,
        gtid: gtid.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_spreads_rows_and_keeps_every_table_non_empty() {
        let scale = Scale::for_rows(50_000);
        let total =
            scale.customers + scale.products + scale.orders * 3 + scale.reviews + scale.searches;
        assert!((45_000..=55_000).contains(&total), "{scale:?} -> {total}");
        let tiny = Scale::for_rows(0);
        assert_eq!(tiny.customers, 10);
        assert_eq!(tiny.new_orders, 10);
    }

    #[test]
    fn new_orders_and_their_items_follow_the_initial_ones() {
        let scale = Scale::for_rows(1000);
        let changes = changes_sql(&scale).join("\n");
        assert!(changes.contains("shop.seq_251_to_270 o"), "{changes}");
        assert!(load_sql(&scale).join("\n").contains("shop.seq_1_to_250 o"));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
    }
}

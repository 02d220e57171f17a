//! Views, triggers, routines and events (and the drops around them), kept in dump order
//! until all table data is loaded. Up to a memory budget they stay in memory; past it, every
//! later item goes to an anonymous temp file, so memory stays bounded whatever the dump.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use crate::error::ImportError;
use crate::host::ObjectKind;

/// In-memory budget before spilling.
const MEMORY_BUDGET: usize = 8 << 20;

/// What a deferred statement creates, when it creates a named object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub kind: ObjectKind,
    pub schema: String,
    pub name: String,
    pub definer: Option<ferry_dump::Definer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub sql: Vec<u8>,
    pub line: u64,
    pub end: u64,
    pub database: Option<String>,
    pub session: Arc<Vec<(String, String)>>,
    pub object: Option<ObjectInfo>,
    /// The statement with `DEFINER=CURRENT_USER`, for an object whose definer is not the
    /// importing account.
    pub rewritten: Option<Vec<u8>>,
}

impl Item {
    fn size(&self) -> usize {
        self.sql.len() + self.rewritten.as_ref().map_or(0, Vec::len) + 256
    }

    pub fn head(&self) -> String {
        head(&self.sql)
    }
}

/// The statement's beginning for messages: first 80 chars, one line.
pub(crate) fn head(sql: &[u8]) -> String {
    let text = String::from_utf8_lossy(&sql[..sql.len().min(400)]);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(80).collect()
}

#[derive(Default)]
pub(crate) struct Deferred {
    memory: Vec<Item>,
    memory_bytes: usize,
    spill: Option<BufWriter<File>>,
    spilled: u64,
}

impl Deferred {
    pub fn push(&mut self, item: Item) -> Result<(), ImportError> {
        if self.spill.is_none() && self.memory_bytes + item.size() <= MEMORY_BUDGET {
            self.memory_bytes += item.size();
            self.memory.push(item);
            return Ok(());
        }
        if self.spill.is_none() {
            let f = tempfile::tempfile()
                .map_err(|e| ImportError::io("create a temp file for deferred objects", e))?;
            self.spill = Some(BufWriter::new(f));
        }
        let w = self.spill.as_mut().expect("just set");
        encode(&item, w).map_err(|e| ImportError::io("spill deferred objects", e))?;
        self.spilled += 1;
        Ok(())
    }

    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.memory.len() as u64 + self.spilled
    }

    /// All items in the order they were pushed.
    pub fn drain(self) -> Result<Drain, ImportError> {
        let file = match self.spill {
            Some(w) => {
                let mut f = w
                    .into_inner()
                    .map_err(|e| ImportError::io("spill deferred objects", e.into_error()))?;
                f.seek(SeekFrom::Start(0))
                    .map_err(|e| ImportError::io("read back deferred objects", e))?;
                Some(BufReader::new(f))
            }
            None => None,
        };
        Ok(Drain {
            memory: self.memory.into_iter(),
            file,
            left: self.spilled,
        })
    }
}

pub(crate) struct Drain {
    memory: std::vec::IntoIter<Item>,
    file: Option<BufReader<File>>,
    left: u64,
}

impl Drain {
    pub fn next_item(&mut self) -> Result<Option<Item>, ImportError> {
        if let Some(item) = self.memory.next() {
            return Ok(Some(item));
        }
        match (&mut self.file, self.left) {
            (Some(r), n) if n > 0 => {
                self.left -= 1;
                decode(r)
                    .map(Some)
                    .map_err(|e| ImportError::io("read back deferred objects", e))
            }
            _ => Ok(None),
        }
    }
}

fn put(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&(b.len() as u64).to_le_bytes())?;
    w.write_all(b)
}

fn put_u64(w: &mut impl Write, v: u64) -> std::io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

fn get_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn get(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let n = get_u64(r)?;
    let mut v = vec![0u8; n as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn get_string(r: &mut impl Read) -> std::io::Result<String> {
    String::from_utf8(get(r)?).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn put_opt(w: &mut impl Write, s: &Option<String>) -> std::io::Result<()> {
    match s {
        Some(s) => {
            w.write_all(&[1])?;
            put(w, s.as_bytes())
        }
        None => w.write_all(&[0]),
    }
}

fn get_opt(r: &mut impl Read) -> std::io::Result<Option<String>> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    if tag[0] == 1 {
        get_string(r).map(Some)
    } else {
        Ok(None)
    }
}

const KINDS: [ObjectKind; 5] = [
    ObjectKind::View,
    ObjectKind::Trigger,
    ObjectKind::Procedure,
    ObjectKind::Function,
    ObjectKind::Event,
];

fn encode(item: &Item, w: &mut impl Write) -> std::io::Result<()> {
    put(w, &item.sql)?;
    put_u64(w, item.line)?;
    put_u64(w, item.end)?;
    put_opt(w, &item.database)?;
    put_u64(w, item.session.len() as u64)?;
    for (n, v) in item.session.iter() {
        put(w, n.as_bytes())?;
        put(w, v.as_bytes())?;
    }
    match &item.rewritten {
        Some(r) => {
            w.write_all(&[1])?;
            put(w, r)?;
        }
        None => w.write_all(&[0])?,
    }
    match &item.object {
        None => w.write_all(&[0]),
        Some(o) => {
            let k = KINDS.iter().position(|k| *k == o.kind).expect("listed") as u8;
            w.write_all(&[1, k])?;
            put(w, o.schema.as_bytes())?;
            put(w, o.name.as_bytes())?;
            put_opt(w, &o.definer.as_ref().map(|d| d.user.clone()))?;
            put_opt(w, &o.definer.as_ref().map(|d| d.host.clone()))
        }
    }
}

fn decode(r: &mut impl Read) -> std::io::Result<Item> {
    let sql = get(r)?;
    let line = get_u64(r)?;
    let end = get_u64(r)?;
    let database = get_opt(r)?;
    let n = get_u64(r)?;
    let mut session = Vec::with_capacity(n as usize);
    for _ in 0..n {
        session.push((get_string(r)?, get_string(r)?));
    }
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    let rewritten = if tag[0] == 1 { Some(get(r)?) } else { None };
    r.read_exact(&mut tag)?;
    let object = if tag[0] == 1 {
        let mut k = [0u8; 1];
        r.read_exact(&mut k)?;
        let kind = *KINDS.get(k[0] as usize).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "bad object kind")
        })?;
        let schema = get_string(r)?;
        let name = get_string(r)?;
        let user = get_opt(r)?;
        let host = get_opt(r)?;
        Some(ObjectInfo {
            kind,
            schema,
            name,
            definer: user
                .zip(host)
                .map(|(user, host)| ferry_dump::Definer { user, host }),
        })
    } else {
        None
    };
    Ok(Item {
        sql,
        line,
        end,
        database,
        session: Arc::new(session),
        object,
        rewritten,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: u64, big: usize) -> Item {
        Item {
            sql: vec![b'x'; big],
            line: i,
            end: i * 10,
            database: i.is_multiple_of(2).then(|| format!("db{i}")),
            session: Arc::new(vec![("sql_mode".into(), format!("'{i}'"))]),
            rewritten: i
                .is_multiple_of(3)
                .then(|| b"CREATE DEFINER=CURRENT_USER TRIGGER".to_vec()),
            object: i.is_multiple_of(3).then(|| ObjectInfo {
                kind: ObjectKind::Trigger,
                schema: "s".into(),
                name: format!("t{i}"),
                definer: Some(ferry_dump::Definer {
                    user: "root".into(),
                    host: "localhost".into(),
                }),
            }),
        }
    }

    #[test]
    fn spills_past_the_budget_and_gives_everything_back_in_order() {
        let mut d = Deferred::default();
        let items: Vec<Item> = (0..40).map(|i| item(i, 1 << 20)).collect();
        for it in &items {
            d.push(it.clone()).unwrap();
        }
        assert!(d.spilled > 0, "40 MiB must spill past the 8 MiB budget");
        assert!(d.memory_bytes <= MEMORY_BUDGET);
        assert_eq!(d.len(), 40);
        let mut drain = d.drain().unwrap();
        let mut back = Vec::new();
        while let Some(it) = drain.next_item().unwrap() {
            back.push(it);
        }
        assert_eq!(back, items);
    }
}

//! Which stream format a backup object is in: by its name, by its first bytes, and how the two
//! are reconciled.
//!
//! Users name their objects by hand (`backup.tar`, `full.xbstream.gz`, `inc1.tzst`), and they
//! get it wrong: a `.tar` that is really gzip-compressed, an `.xbstream.gz` that was never
//! compressed. The content decides; the mismatch is reported so the user can fix the name.

use std::fmt;

use serde::Serialize;

/// The archive container inside the (optional) compression layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// Percona/MariaDB xbstream (`--stream=xbstream`, `mbstream`).
    Xbstream,
    /// A tar archive (PXB 2.x `--stream=tar`, or `tar` of a backup directory).
    Tar,
}

/// A compression layer around the whole stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    /// gzip, possibly several concatenated members (`pigz`, `cat a.gz b.gz`).
    Gzip,
    /// zstd, possibly several concatenated frames.
    Zstd,
}

/// The format of one backup stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StreamFormat {
    /// `None` when the name does not say (`backup.gz`): decided by sniffing after
    /// decompression.
    pub container: Option<Container>,
    pub compression: Compression,
}

impl StreamFormat {
    pub const XBSTREAM: StreamFormat = StreamFormat {
        container: Some(Container::Xbstream),
        compression: Compression::None,
    };
    pub const TAR: StreamFormat = StreamFormat {
        container: Some(Container::Tar),
        compression: Compression::None,
    };

    /// A short label: `xbstream`, `xbstream.gz`, `tar`, `tar.gz`, `tar.zst`, `gz`, `zst`, ...
    pub fn label(&self) -> &'static str {
        match (self.container, self.compression) {
            (Some(Container::Xbstream), Compression::None) => "xbstream",
            (Some(Container::Xbstream), Compression::Gzip) => "xbstream.gz",
            (Some(Container::Xbstream), Compression::Zstd) => "xbstream.zst",
            (Some(Container::Tar), Compression::None) => "tar",
            (Some(Container::Tar), Compression::Gzip) => "tar.gz",
            (Some(Container::Tar), Compression::Zstd) => "tar.zst",
            (None, Compression::None) => "unknown",
            (None, Compression::Gzip) => "gz",
            (None, Compression::Zstd) => "zst",
        }
    }
}

impl fmt::Display for StreamFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Name endings that mark a stream, longest first so `.tar.gz` wins over `.gz`.
const EXTENSIONS: &[(&str, Option<Container>, Compression)] = &[
    (".xbstream.gz", Some(Container::Xbstream), Compression::Gzip),
    (
        ".xbstream.zst",
        Some(Container::Xbstream),
        Compression::Zstd,
    ),
    (".mbstream.gz", Some(Container::Xbstream), Compression::Gzip),
    (
        ".mbstream.zst",
        Some(Container::Xbstream),
        Compression::Zstd,
    ),
    (".xbstream", Some(Container::Xbstream), Compression::None),
    (".mbstream", Some(Container::Xbstream), Compression::None),
    (".tar.gz", Some(Container::Tar), Compression::Gzip),
    (".tar.zst", Some(Container::Tar), Compression::Zstd),
    (".tzst", Some(Container::Tar), Compression::Zstd),
    (".tgz", Some(Container::Tar), Compression::Gzip),
    (".xbs", Some(Container::Xbstream), Compression::None),
    (".tar", Some(Container::Tar), Compression::None),
    (".zst", None, Compression::Zstd),
    (".gz", None, Compression::Gzip),
];

/// Compressed files that are certainly not physical backups (a `mysqldump` next to the
/// backups is common); they are not taken for streams of unknown container.
const NOT_STREAMS: &[&str] = &[".sql.gz", ".sql.zst", ".csv.gz", ".csv.zst"];

/// The stream format a (split base) name announces, if any. Case-insensitive.
///
/// `name` is a file name or key without a split-part suffix (see [`crate::parts`]).
pub fn format_from_name(name: &str) -> Option<StreamFormat> {
    let lower = name.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    if NOT_STREAMS.iter().any(|ext| file.ends_with(ext)) {
        return None;
    }
    EXTENSIONS.iter().find_map(|(ext, container, compression)| {
        // The extension must follow a non-empty stem: `.tar` alone is a hidden file.
        (file.len() > ext.len() && file.ends_with(ext)).then_some(StreamFormat {
            container: *container,
            compression: *compression,
        })
    })
}

/// How many leading bytes [`sniff`] wants (a tar header is 512 bytes).
pub const SNIFF_LEN: usize = 512;

/// What the leading bytes of a stream are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sniffed {
    Gzip,
    Zstd,
    Xbstream,
    Tar,
    /// None of the above, or too few bytes to tell.
    Unknown,
}

impl Sniffed {
    fn describe(self) -> &'static str {
        match self {
            Sniffed::Gzip => "gzip-compressed",
            Sniffed::Zstd => "zstd-compressed",
            Sniffed::Xbstream => "an uncompressed xbstream",
            Sniffed::Tar => "an uncompressed tar archive",
            Sniffed::Unknown => "unrecognised",
        }
    }
}

/// Recognises gzip (`1f 8b`), zstd (`28 b5 2f fd`), xbstream (`XBSTCK01`) and tar (`ustar`
/// at offset 257, or a pre-POSIX header whose checksum is right) from a stream's first bytes.
/// Pass at least [`SNIFF_LEN`] bytes when the stream has them.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        Sniffed::Gzip
    } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Sniffed::Zstd
    } else if prefix.starts_with(b"XBSTCK01") {
        Sniffed::Xbstream
    } else if (prefix.len() >= 262 && &prefix[257..262] == b"ustar")
        || (prefix.len() >= 512 && tar_checksum_ok(&prefix[..512]))
    {
        Sniffed::Tar
    } else {
        Sniffed::Unknown
    }
}

/// The header checksum test every tar reader applies: the unsigned byte sum of the header with
/// the checksum field read as spaces equals the octal number stored in that field.
fn tar_checksum_ok(header: &[u8]) -> bool {
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let stored = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 8 + u64::from(d - b'0'));
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    // An all-zero block sums to 256 and has no digits: never a header.
    stored == sum && header[0] != 0
}

/// The format to read an object with, after checking its name against its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub format: StreamFormat,
    /// Set when the name and the content disagree; the content wins.
    pub warning: Option<String>,
}

/// Reconciles the format `named` by an object's name with what its first bytes say.
///
/// The content wins and the mismatch is reported in [`Resolved::warning`], e.g. "object
/// `backup.tar00` is named as tar but its content is gzip-compressed; reading it as tar.gz".
/// Unrecognised content keeps the named format (the decoder then fails with a precise error).
pub fn reconcile(object: &str, named: StreamFormat, sniffed: Sniffed) -> Resolved {
    let actual = match sniffed {
        Sniffed::Gzip => StreamFormat {
            container: named.container,
            compression: Compression::Gzip,
        },
        Sniffed::Zstd => StreamFormat {
            container: named.container,
            compression: Compression::Zstd,
        },
        Sniffed::Xbstream => StreamFormat::XBSTREAM,
        Sniffed::Tar => StreamFormat::TAR,
        Sniffed::Unknown => named,
    };
    let mismatch = match sniffed {
        Sniffed::Gzip | Sniffed::Zstd => actual.compression != named.compression,
        Sniffed::Xbstream | Sniffed::Tar => actual != named,
        Sniffed::Unknown => false,
    };
    let warning = mismatch.then(|| {
        format!(
            "object `{object}` is named as {} but its content is {}; reading it as {}",
            named.label(),
            sniffed.describe(),
            actual.label()
        )
    });
    Resolved {
        format: actual,
        warning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(container: Option<Container>, compression: Compression) -> StreamFormat {
        StreamFormat {
            container,
            compression,
        }
    }

    #[test]
    fn formats_from_names() {
        use Compression::*;
        use Container::*;
        let cases = [
            ("full.xbstream", Some(fmt(Some(Xbstream), None))),
            ("a/b/full.XBSTREAM", Some(fmt(Some(Xbstream), None))),
            ("full.xbs", Some(fmt(Some(Xbstream), None))),
            ("full.tar", Some(fmt(Some(Tar), None))),
            ("full.tar.gz", Some(fmt(Some(Tar), Gzip))),
            ("full.tgz", Some(fmt(Some(Tar), Gzip))),
            ("full.xbstream.gz", Some(fmt(Some(Xbstream), Gzip))),
            ("full.xbstream.zst", Some(fmt(Some(Xbstream), Zstd))),
            ("full.tar.zst", Some(fmt(Some(Tar), Zstd))),
            ("full.tzst", Some(fmt(Some(Tar), Zstd))),
            ("full.zst", Some(fmt(Option::None, Zstd))),
            ("full.gz", Some(fmt(Option::None, Gzip))),
            ("dump.sql.gz", Option::None),
            ("ibdata1", Option::None),
            (".tar", Option::None),
            ("xtrabackup_checkpoints", Option::None),
        ];
        for (name, want) in cases {
            assert_eq!(format_from_name(name), want, "{name}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(format_from_name("x.tgz").unwrap().label(), "tar.gz");
        assert_eq!(format_from_name("x.zst").unwrap().to_string(), "zst");
    }

    fn tar_header(magic: bool) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"file");
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(b"00000000000");
        h[156] = b'0';
        if magic {
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
        }
        let sum: u32 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(b)
                }
            })
            .sum();
        let field = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(field.as_bytes());
        h
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Sniffed::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Sniffed::Zstd);
        assert_eq!(sniff(b"XBSTCK01\0P"), Sniffed::Xbstream);
        assert_eq!(sniff(&tar_header(true)), Sniffed::Tar);
        assert_eq!(
            sniff(&tar_header(false)),
            Sniffed::Tar,
            "v7 header by checksum"
        );
        assert_eq!(sniff(&[0u8; 512]), Sniffed::Unknown);
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
        assert_eq!(sniff(&[]), Sniffed::Unknown);
        let mut bad = tar_header(false);
        bad[0] = b'g';
        assert_eq!(sniff(&bad), Sniffed::Unknown);
    }

    #[test]
    fn content_wins_and_the_mismatch_is_reported() {
        let r = reconcile("backup.tar00", StreamFormat::TAR, Sniffed::Gzip);
        assert_eq!(r.format.label(), "tar.gz");
        assert_eq!(
            r.warning.as_deref(),
            Some(
                "object `backup.tar00` is named as tar but its content is gzip-compressed; \
                 reading it as tar.gz"
            )
        );
        let named = format_from_name("b.xbstream.gz").unwrap();
        let r = reconcile("b.xbstream.gz", named, Sniffed::Xbstream);
        assert_eq!(r.format, StreamFormat::XBSTREAM);
        assert!(r.warning.unwrap().contains("is an uncompressed xbstream"));
    }

    #[test]
    fn agreement_and_unknown_content_keep_the_name() {
        let named = format_from_name("b.tar.gz").unwrap();
        assert_eq!(
            reconcile("b", named, Sniffed::Gzip),
            Resolved {
                format: named,
                warning: None
            }
        );
        assert_eq!(reconcile("b", named, Sniffed::Unknown).format, named);
        let r = reconcile("b", StreamFormat::XBSTREAM, Sniffed::Xbstream);
        assert!(r.warning.is_none());
    }
}

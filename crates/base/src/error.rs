//! Errors as one line of text, for messages that leave the process.

/// Error text with its sources, on one line: for messages that leave the process (an event,
/// an API error, a SIGNAL text) where `{:#}` formatting is not available. Causes already in
/// the text are not repeated.
pub fn flatten(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        /// Shows its cause in its own text.
        #[error("restore failed: {0}")]
        Quoting(#[source] std::io::Error),
        /// Leaves its cause to `source()`.
        #[error("restore failed")]
        Chained(#[source] Middle),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("read set 2")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn causes_are_joined_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(
            flatten(&Outer::Chained(Middle(io()))),
            "restore failed: read set 2: disk full"
        );
        assert_eq!(flatten(&Outer::Quoting(io())), "restore failed: disk full");
        assert_eq!(flatten(&io()), "disk full");
    }
}

//! The one rule for a number of the config file that has bounds.

/// A number of the file that must lie in `range`: `Err((key, reason))` naming the bounds and
/// `unit` ("seconds"; "" for a count) when it does not. One rule for every bounded key.
pub(super) fn bounded(
    key: &'static str,
    value: Option<u64>,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<Option<u64>, (&'static str, String)> {
    match value {
        Some(v) if !range.contains(&v) => Err((
            key,
            format!(
                "{v} is not between {} and {} {unit}",
                range.start(),
                range.end()
            )
            .trim_end()
            .to_owned(),
        )),
        _ => Ok(value),
    }
}

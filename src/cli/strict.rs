//! `--strict`: every suppression is ignored, so exempted units count as writable again.

use crate::model::{FileReport, ReadOnly};

/// Clears every suppression in `file`, turning suppressed units back into writable ones.
pub fn unsuppress(file: &mut FileReport) {
    for f in &mut file.findings {
        f.suppressed = None;
    }
    for u in &mut file.units {
        if u.read_only == ReadOnly::Suppressed {
            u.read_only = ReadOnly::False;
        }
    }
}

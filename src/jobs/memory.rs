//! A memory budget per job: how many files a review or scan fetches and analyses, and how
//! many bytes of them it holds at once. A pull request of 3,000 files or a repository of
//! huge manifests must not make one job hold gigabytes on a small machine with several
//! workers; past the budget, the files left are named in one note, not fetched, and the job
//! finishes with what it has.

/// Files one review fetches and analyses.
pub const REVIEW_FILES: usize = 1000;
/// Bytes one review holds; one more answer (at most the client's 16 MiB) may cross it.
pub const REVIEW_BYTES: u64 = 64 * 1024 * 1024;
/// Files one scan analyses afresh (cache hits cost nothing and are not counted).
pub const SCAN_FILES: usize = 5000;
/// Bytes of fresh files one scan holds.
pub const SCAN_BYTES: u64 = 256 * 1024 * 1024;

/// How many paths a note names before it says "and N more".
const NAMED: usize = 5;

/// What a job may still take, and what it had to leave out.
#[derive(Debug)]
pub struct Budget {
    files: usize,
    bytes: u64,
    max_files: usize,
    max_bytes: u64,
    left_out: Vec<String>,
}

impl Budget {
    /// A budget of `max_files` files and `max_bytes` bytes.
    pub fn new(max_files: usize, max_bytes: u64) -> Budget {
        Budget {
            files: 0,
            bytes: 0,
            max_files,
            max_bytes,
            left_out: Vec::new(),
        }
    }

    /// The budget of one review.
    pub fn review() -> Budget {
        Budget::new(REVIEW_FILES, REVIEW_BYTES)
    }

    /// The budget of one scan.
    pub fn scan() -> Budget {
        Budget::new(SCAN_FILES, SCAN_BYTES)
    }

    /// Whether `path` may be fetched (`size` bytes when known beforehand); when not, it is
    /// remembered for the note.
    pub fn admit(&mut self, path: &str, size: Option<u64>) -> bool {
        let over = self.files >= self.max_files
            || self.bytes >= self.max_bytes
            || size.is_some_and(|n| self.bytes + n > self.max_bytes);
        if over {
            self.left_out.push(path.to_string());
            return false;
        }
        self.files += 1;
        true
    }

    /// Whether anything more may be fetched, without naming a path in the note (for files
    /// the analysis asks for, which may not exist).
    pub fn has_room(&self) -> bool {
        self.files < self.max_files && self.bytes < self.max_bytes
    }

    /// Counts the bytes of an admitted file once they are in hand.
    pub fn hold(&mut self, bytes: usize) {
        self.bytes += bytes as u64;
    }

    /// The paths left out.
    pub fn left_out(&self) -> &[String] {
        &self.left_out
    }

    /// The note that names what was left out, if anything was.
    pub fn note(&self) -> Option<String> {
        let n = self.left_out.len();
        if n == 0 {
            return None;
        }
        let named: Vec<String> = self
            .left_out
            .iter()
            .take(NAMED)
            .map(|p| format!("`{p}`"))
            .collect();
        let more = match n.saturating_sub(NAMED) {
            0 => String::new(),
            m => format!(" and {m} more"),
        };
        Some(format!(
            "{n} file(s) were not checked: one job checks at most {} files and {} MiB; {}{more}",
            self.max_files,
            self.max_bytes >> 20,
            named.join(", "),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_past_the_count_are_left_out_and_named() {
        let mut b = Budget::new(2, 1 << 30);
        let admitted: Vec<bool> = (0..9)
            .map(|i| b.admit(&format!("f{i}.yaml"), None))
            .collect();
        assert_eq!(
            admitted,
            [true, true, false, false, false, false, false, false, false]
        );
        assert_eq!(
            b.note().unwrap(),
            "7 file(s) were not checked: one job checks at most 2 files and 1024 MiB; \
             `f2.yaml`, `f3.yaml`, `f4.yaml`, `f5.yaml`, `f6.yaml` and 2 more"
        );
    }

    #[test]
    fn bytes_held_close_the_budget_and_a_known_size_is_checked_first() {
        let mut b = Budget::new(100, 10 << 20);
        assert!(b.admit("a.yaml", None));
        b.hold(6 << 20);
        assert!(
            !b.admit("big.yaml", Some(5 << 20)),
            "would cross the budget"
        );
        assert!(b.admit("small.yaml", Some(1 << 20)));
        b.hold(4 << 20);
        assert!(!b.admit("late.yaml", None), "the budget is spent");
        assert_eq!(b.left_out(), ["big.yaml", "late.yaml"]);
    }

    #[test]
    fn nothing_left_out_means_no_note() {
        let mut b = Budget::review();
        assert!(b.admit("a.yaml", None));
        assert_eq!(b.note(), None);
    }
}

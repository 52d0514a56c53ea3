//! The text of a file as lines: byte offsets of line starts, line endings, the BOM.
//!
//! Patches replace whole lines, so everything here is about finding line boundaries without
//! disturbing a single byte of the original.

/// A file's text with a line index.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    eol: &'static str,
}

impl<'a> Source<'a> {
    /// Indexes `text` (which must not start with a BOM: strip it first).
    pub fn new(text: &'a str) -> Source<'a> {
        let bytes = text.as_bytes();
        // Lines average about 30 bytes in manifests: one allocation, nearly always.
        let mut line_starts = Vec::with_capacity(bytes.len() / 24 + 2);
        line_starts.push(0);
        // YAML breaks lines at `\n`, `\r\n` and a lone `\r`: count them the way the parser
        // does, or its line numbers and ours drift apart. Most texts have no `\r`, and then
        // a vectorised search for `\n` does.
        if memchr::memchr(b'\r', bytes).is_none() {
            line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        } else {
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    line_starts.push(i + 1);
                }
            }
        }
        // A final newline does not start another line.
        if line_starts.len() > 1 && *line_starts.last().unwrap_or(&0) == text.len() {
            line_starts.pop();
        }
        let eol = match text.find(['\n', '\r']) {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => "\r\n",
            Some(i) if bytes[i] == b'\r' => "\r",
            _ => "\n",
        };
        Source {
            text,
            line_starts,
            eol,
        }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The file's line ending, judged by its first line break.
    pub fn eol(&self) -> &'static str {
        self.eol
    }

    /// Number of lines (a file without a final newline still counts its last line).
    pub fn line_count(&self) -> usize {
        if self.text.is_empty() {
            0
        } else {
            self.line_starts.len()
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte range of 1-based `line`, including its line ending (empty past the end).
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let Some(&start) = line.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return self.text.len()..self.text.len();
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        start..end
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_range(line).start
    }

    /// The text of 1-based `line` without its line ending.
    pub fn line(&self, line: usize) -> &'a str {
        let r = self.line_range(line);
        self.text[r].trim_end_matches('\n').trim_end_matches('\r')
    }

    /// Whether 1-based `line` ends with a line ending (only the last line may not).
    pub fn has_eol(&self, line: usize) -> bool {
        self.text[self.line_range(line)].ends_with(['\n', '\r'])
    }

    /// The last line at or before byte `end` that holds something other than blanks,
    /// scanning back from `end` (exclusive).
    pub fn last_content_line(&self, end: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = end.min(bytes.len());
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            i -= 1;
        }
        self.line_of(i.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_endings() {
        let s = Source::new("a: 1\r\nb: 2\r\n");
        assert_eq!(s.eol(), "\r\n");
        assert_eq!(s.line_count(), 2);
        assert_eq!(s.line(2), "b: 2");
        assert_eq!(s.line_of(6), 2);
        assert!(s.has_eol(2));
        let s = Source::new("a\rb\r\nc");
        assert_eq!(s.line_count(), 3);
        assert_eq!(s.line(1), "a");
        assert_eq!(s.line(2), "b");
        assert_eq!(s.line_range(9), 6..6);
        assert_eq!(s.eol(), "\r");
        let s = Source::new("a\nb");
        assert_eq!(s.line_count(), 2);
        assert!(!s.has_eol(2));
        assert_eq!(s.last_content_line(3), 2);
    }
}

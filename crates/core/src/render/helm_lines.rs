//! (being written on branch helm-lines: this stub marks nothing)

/// Stub: the template unchanged.
pub fn annotate(template: &str, _file: u32) -> String {
    template.to_string()
}

/// Stub: the output unchanged, no line known.
pub fn strip(output: &str) -> (String, Vec<Option<(u32, usize)>>) {
    (output.to_string(), vec![None; output.lines().count()])
}

//! (being written on branch kustomize: these stubs read no annotation)

/// Stub.
pub fn wrapper(target_relative: &str) -> String {
    format!(
        "resources:\n- {target_relative}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"
    )
}

/// Stub.
pub struct Origin {
    /// Stub.
    pub path: String,
    /// Stub.
    pub repo: Option<String>,
    /// Stub.
    pub transformations: Vec<String>,
}

/// Stub.
pub struct RenderedObject {
    /// Stub.
    pub kind: String,
    /// Stub.
    pub name: String,
    /// Stub.
    pub origin: Option<Origin>,
}

/// Stub.
pub fn objects(_rendered: &str) -> Vec<RenderedObject> {
    Vec::new()
}

/// Stub.
pub fn strip_annotations(rendered: &str) -> String {
    rendered.to_string()
}

/// Stub.
pub fn remote_references(_kustomization_yaml: &str) -> Vec<String> {
    Vec::new()
}

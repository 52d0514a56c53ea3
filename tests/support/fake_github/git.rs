//! Git objects as the fake shows them: a commit's tree is computed from the files set at that
//! commit, folders included, with ids that depend only on contents (equal files, equal ids,
//! across commits and repositories — what a blob cache relies on).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::state::Repo;

/// One entry of a tree listing, path from the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: String,
    pub mode: &'static str,
    /// `blob` or `tree`.
    pub kind: &'static str,
    pub sha: String,
    pub size: Option<usize>,
}

fn id(text: &[u8]) -> String {
    hex::encode(Sha256::digest(text))[..40].to_string()
}

/// The id of a blob: like Git's, a hash of a `blob <len>\0` header and the bytes (SHA-256 cut
/// to 40 hex digits rather than SHA-1, which the fake has no crate for).
pub fn blob_id(bytes: &[u8]) -> String {
    let mut data = format!("blob {}\0", bytes.len()).into_bytes();
    data.extend_from_slice(bytes);
    id(&data)
}

/// The files set at `commit`, by path.
pub fn files_at<'a>(repo: &'a Repo, commit: &str) -> BTreeMap<&'a str, &'a [u8]> {
    // Files are ordered by (ref, path): one commit's files are one range, found without
    // walking every other commit's (a load run holds thousands).
    repo.files
        .range((commit.to_string(), String::new())..)
        .take_while(|((r, _), _)| r == commit)
        .map(|((_, p), b)| (p.as_str(), b.as_slice()))
        .collect()
}

/// Every entry of the tree of `files` (folders included, sorted by path) and the root's id.
pub fn tree(files: &BTreeMap<&str, &[u8]>) -> (String, Vec<Node>) {
    let mut out = Vec::new();
    let root = build(files, "", &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    (root, out)
}

fn build(files: &BTreeMap<&str, &[u8]>, prefix: &str, out: &mut Vec<Node>) -> String {
    // Direct children: a file, or a folder (None) named by the first segment after `prefix`.
    let mut children: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for (path, bytes) in files.range(prefix..) {
        let Some(rest) = path.strip_prefix(prefix) else {
            break;
        };
        match rest.split_once('/') {
            Some((dir, _)) => {
                children.entry(dir).or_insert(None);
            }
            None => {
                children.insert(rest, Some(bytes));
            }
        }
    }
    let mut listing = String::from("tree\0");
    for (name, file) in children {
        let path = format!("{prefix}{name}");
        let node = match file {
            Some(bytes) => Node {
                path,
                mode: "100644",
                kind: "blob",
                sha: blob_id(bytes),
                size: Some(bytes.len()),
            },
            None => {
                let sha = build(files, &format!("{path}/"), out);
                Node {
                    path,
                    mode: "040000",
                    kind: "tree",
                    sha,
                    size: None,
                }
            }
        };
        listing.push_str(&format!("{} {name} {}\n", node.mode, node.sha));
        out.push(node);
    }
    id(listing.as_bytes())
}

/// The folder with id (or commit) `sha` in any commit of the repository: its path prefix
/// (`""` for a root, `dir/` otherwise) and every entry of that commit's tree.
pub fn find_tree(repo: &Repo, sha: &str) -> Option<(String, String, Vec<Node>)> {
    // A commit's own tree, without building every other commit's first.
    let own = files_at(repo, sha);
    if !own.is_empty() {
        let (root, nodes) = tree(&own);
        return Some((root, String::new(), nodes));
    }
    let mut commits: Vec<&str> = repo.files.keys().map(|(r, _)| r.as_str()).collect();
    commits.sort_unstable();
    commits.dedup();
    for commit in commits {
        let (root, nodes) = tree(&files_at(repo, commit));
        if commit == sha || root == sha {
            return Some((root, String::new(), nodes));
        }
        if let Some(dir) = nodes.iter().find(|n| n.kind == "tree" && n.sha == sha) {
            let prefix = format!("{}/", dir.path);
            return Some((sha.to_string(), prefix, nodes));
        }
    }
    None
}

/// The bytes of the blob with id `sha`, wherever the repository has it.
pub fn find_blob<'a>(repo: &'a Repo, sha: &str) -> Option<&'a [u8]> {
    if let Some(b) = repo.blobs.get(sha) {
        return Some(b);
    }
    repo.files
        .values()
        .find(|b| blob_id(b) == sha)
        .map(Vec::as_slice)
}

/// Every file at `commit`, owned.
pub fn files_of_commit(repo: &Repo, commit: &str) -> BTreeMap<String, Vec<u8>> {
    files_at(repo, commit)
        .into_iter()
        .map(|(p, b)| (p.to_string(), b.to_vec()))
        .collect()
}

/// The root tree id of these files.
pub fn tree_id(files: &BTreeMap<String, Vec<u8>>) -> String {
    let borrowed: BTreeMap<&str, &[u8]> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    tree(&borrowed).0
}

/// Every file of the tree with id `sha`: one made through the API, or a commit's root.
pub fn files_of_tree(repo: &Repo, sha: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    if let Some(files) = repo.trees.get(sha) {
        return Some(files.clone());
    }
    let mut commits: Vec<&str> = repo.files.keys().map(|(r, _)| r.as_str()).collect();
    commits.dedup();
    commits
        .into_iter()
        .map(|c| files_of_commit(repo, c))
        .find(|files| tree_id(files) == sha)
}

/// Whether `sha` names a commit of the repository (made by a test or through the API).
pub fn is_commit(repo: &Repo, sha: &str) -> bool {
    repo.commits.contains_key(sha) || !files_at(repo, sha).is_empty()
}

/// A new commit's id: from its tree, parents, message and a counter, the way a real
/// commit's includes its timestamp (the same request twice makes two commits).
pub fn commit_id(tree: &str, parents: &[String], message: &str, counter: u64) -> String {
    id(format!("commit {tree} {} {counter}\n{message}", parents.join(" ")).as_bytes())
}

/// Records a commit and its files.
pub fn store_commit(
    repo: &mut Repo,
    sha: &str,
    files: &BTreeMap<String, Vec<u8>>,
    parents: Vec<String>,
    author: &str,
    message: &str,
) {
    for (path, bytes) in files {
        repo.files
            .insert((sha.to_string(), path.clone()), bytes.clone());
    }
    repo.commits.insert(
        sha.to_string(),
        super::state::Commit {
            sha: sha.to_string(),
            tree: tree_id(files),
            parents,
            author: author.to_string(),
            message: message.to_string(),
        },
    );
}

/// Whether `sha` is `ancestor` or has it in its history.
pub fn descends_from(repo: &Repo, sha: &str, ancestor: &str) -> bool {
    let mut todo = vec![sha.to_string()];
    while let Some(c) = todo.pop() {
        if c == ancestor {
            return true;
        }
        if let Some(commit) = repo.commits.get(&c) {
            todo.extend(commit.parents.iter().cloned());
        }
    }
    false
}

/// Moves a branch; the open pull requests from it follow, as on GitHub.
pub fn move_branch(repo: &mut Repo, branch: &str, sha: &str) {
    repo.branches.insert(branch.to_string(), sha.to_string());
    for p in repo.pulls.values_mut() {
        if p.head_ref == branch && p.state == "open" {
            p.head_sha = sha.to_string();
            p.head_history.push(sha.to_string());
        }
    }
}

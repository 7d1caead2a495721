//! The documentation tells the truth and stands alone: `CONFORMANCE.md` is the catalogue the
//! code generates, every relative link in every Markdown file resolves inside the
//! repository, the published crates' READMEs (their crates.io pages) link nowhere relative,
//! no document names a Markdown file the repository does not have, every count of
//! scenarios in prose is the real count, and the README's Auth.js layout table counts each
//! layout's passes and gaps from its gap list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use adapter_conformance::{catalogue_markdown, SCENARIOS};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance-cli lives in the workspace root")
        .to_path_buf()
}

/// Every Markdown file of the repository, outside build output and installed packages.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(name.as_ref(), "target" | "node_modules" | ".git") {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root(), &mut files);
    files.sort();
    files
}

/// The targets of the inline links `[text](target)` in `text`, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            targets.push(target.to_owned());
            rest = &after[end..];
        }
    }
    targets
}

fn is_relative(target: &str) -> bool {
    !(target.is_empty()
        || target.starts_with('#')
        || target.contains("://")
        || target.starts_with("mailto:"))
}

#[test]
fn conformance_md_is_the_generated_catalogue() {
    let path = repo_root().join("CONFORMANCE.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = catalogue_markdown();
    assert!(
        committed == generated,
        "CONFORMANCE.md differs from the catalogue in adapter-conformance/src/registry.rs; \
         regenerate it: cargo run -q -p conformance-cli -- list --markdown > CONFORMANCE.md"
    );
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = repo_root();
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let dir = file.parent().unwrap_or(&root);
        for target in link_targets(&text) {
            if !is_relative(&target) {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            let resolved = dir.join(path);
            let inside = resolved
                .canonicalize()
                .map(|p| p.starts_with(&root))
                .unwrap_or(false);
            if !inside {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links that do not resolve: {broken:#?}");
}

#[test]
fn published_readmes_have_no_relative_links() {
    let root = repo_root();
    let mut relative = Vec::new();
    for krate in [
        "auth-core",
        "auth-sql",
        "adapter-conformance",
        "adapter-sqlx",
        "adapter-diesel",
        "adapter-seaorm",
        "adapter-redis",
        "adapter-mongo",
        "auth-tower-sessions",
    ] {
        let readme = root.join(krate).join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap_or_default();
        assert!(!text.is_empty(), "{} is missing", readme.display());
        relative.extend(
            link_targets(&text)
                .into_iter()
                .filter(|t| is_relative(t))
                .map(|t| format!("{krate}/README.md: {t}")),
        );
    }
    assert!(
        relative.is_empty(),
        "a crate README is its crates.io page, where relative links break; link docs.rs \
         instead: {relative:#?}"
    );
}

#[test]
fn no_document_names_a_markdown_file_the_repository_lacks() {
    let files = markdown_files();
    let have: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
            let word = word.trim_end_matches('.');
            let Some(stem) = word.strip_suffix(".md") else {
                continue;
            };
            if !stem.is_empty()
                && stem.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && !have.contains(word)
            {
                missing.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documents that are not here: {missing:#?}"
    );
}

#[test]
fn scenario_counts_in_prose_are_the_real_count() {
    let count = SCENARIOS.len();
    let last = SCENARIOS.last().map(|s| &s.name[..3]).unwrap_or_default();
    let mut wrong = Vec::new();
    for file in markdown_files() {
        if file.ends_with("CHANGELOG.md") {
            // History: it says what was true then.
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let words: Vec<&str> = text.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[1].trim_end_matches([',', '.', ';', ':', ')']) == "scenarios" {
                if let Ok(n) = pair[0].trim_start_matches('(').parse::<usize>() {
                    if n != count && n > 12 {
                        wrong.push(format!("{}: \"{} {}\"", file.display(), pair[0], pair[1]));
                    }
                }
            }
        }
        for range in ["s01 … s", "s01…s", "s01 - s", "s01–s"] {
            for (at, _) in text.match_indices(range) {
                let end: String = text[at + range.len() - 1..].chars().take(3).collect();
                if end != last {
                    wrong.push(format!("{}: {range}{}", file.display(), &end[1..]));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the suite has {count} scenarios (s01 … {last}), but: {wrong:#?}"
    );
}

#[test]
fn the_layout_table_counts_the_real_gaps() {
    use adapter_conformance::Gap;
    let count = SCENARIOS.len();
    let layouts: [(&str, &[Gap]); 6] = [
        (
            "postgres-authjs",
            adapter_sqlx::conformance::authjs::PG_GAPS,
        ),
        (
            "postgres-drizzle",
            adapter_sqlx::conformance::authjs::POSTGRES_DRIZZLE_GAPS,
        ),
        (
            "sqlite-drizzle",
            adapter_sqlx::conformance::authjs::SQLITE_DRIZZLE_GAPS,
        ),
        (
            "mariadb-drizzle",
            adapter_sqlx::conformance::authjs::MARIADB_DRIZZLE_GAPS,
        ),
        ("mongo-authjs", adapter_mongo::conformance::AUTHJS_GAPS),
        ("redis-authjs", adapter_redis::conformance::AUTHJS_GAPS),
    ];
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap_or_default();
    for (name, gaps) in layouts {
        let passes = count - gaps.len();
        let expected = match gaps.len() {
            0 => format!("`{name}`: {passes} pass |"),
            1 => format!("`{name}`: {passes} pass, 1 gap |"),
            n => format!("`{name}`: {passes} pass, {n} gaps |"),
        };
        assert!(
            readme.contains(&expected),
            "README.md's layout table should say {expected:?}"
        );
    }
}

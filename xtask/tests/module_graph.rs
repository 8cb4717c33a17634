//! Every crate's modules depend on each other one way: no module reaches back, through
//! `use` or a path, into a module that depends on it, and no module uses an item of the
//! crate root that runs it (the root runs the modules; the modules do not call it). A
//! dependency is any path that names another top-level module (`crate::lower`,
//! `super::kinds` from a top-level module, `$crate::log` in a macro); tests
//! (`#[cfg(test)]`) may use anything and are left out.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

/// The crate root's node in the graph.
const ROOT: &str = "(crate root)";

#[derive(Debug, serde::Deserialize)]
struct Manifest {
    workspace: Workspace,
}

#[derive(Debug, serde::Deserialize)]
struct Workspace {
    members: Vec<String>,
}

/// The root files of every target of every workspace member: `src/lib.rs`, `src/main.rs`
/// and `src/bin/*.rs`.
fn crate_roots() -> Vec<PathBuf> {
    let root = common::repo_root();
    let manifest: Manifest = toml::from_str(
        &std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace manifest"),
    )
    .expect("a workspace manifest");
    let mut roots = Vec::new();
    for member in manifest.workspace.members {
        let src = root.join(&member).join("src");
        for file in ["lib.rs", "main.rs"] {
            if src.join(file).is_file() {
                roots.push(src.join(file));
            }
        }
        if let Ok(bins) = std::fs::read_dir(src.join("bin")) {
            let mut bins: Vec<PathBuf> = bins
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            bins.sort();
            roots.extend(bins);
        }
    }
    assert!(roots.len() >= 8, "{roots:?}");
    roots
}

/// One crate's module graph: for each top-level module (and the root), the others it uses.
#[derive(Debug, Default)]
struct Graph {
    /// The top-level modules, and for each the macros it exports at the crate root.
    modules: BTreeMap<String, BTreeSet<String>>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn of(root_file: &Path) -> Graph {
        let file = parse(root_file);
        let dir = root_file.parent().expect("src").to_path_buf();
        let mut graph = Graph::default();
        // First the modules and their files, then the paths in them.
        let mut sources: Vec<(String, usize, Vec<syn::Item>)> = Vec::new();
        let mut root_items = Vec::new();
        for item in file.items {
            if is_test(&item) {
                continue;
            }
            match item {
                syn::Item::Mod(module) => {
                    let name = module.ident.to_string();
                    let mut items = Vec::new();
                    collect_module(&dir, module, 1, &mut items);
                    for (depth, item) in items {
                        if let syn::Item::Macro(mac) = &item
                            && mac.attrs.iter().any(|a| a.path().is_ident("macro_export"))
                            && let Some(ident) = &mac.ident
                        {
                            graph
                                .modules
                                .entry(name.clone())
                                .or_default()
                                .insert(ident.to_string());
                        }
                        sources.push((name.clone(), depth, vec![item]));
                    }
                    graph.modules.entry(name).or_default();
                }
                other => root_items.push(other),
            }
        }
        let exported: BTreeMap<String, String> = (graph.modules.iter())
            .flat_map(|(module, macros)| macros.iter().map(|m| (m.clone(), module.clone())))
            .collect();
        for (module, depth, items) in sources {
            for item in items {
                for target in crate_paths(item.to_token_stream(), depth) {
                    let to = match (graph.modules.contains_key(&target), exported.get(&target)) {
                        (true, _) => target,
                        (false, Some(module)) => module.clone(),
                        (false, None) => ROOT.to_owned(),
                    };
                    if to != module {
                        graph.edges.entry(module.clone()).or_default().insert(to);
                    }
                }
            }
        }
        for item in root_items {
            for start in path_starts(item.to_token_stream()) {
                if graph.modules.contains_key(&start) {
                    graph
                        .edges
                        .entry(ROOT.to_owned())
                        .or_default()
                        .insert(start);
                }
            }
        }
        graph
    }

    /// A cycle, as the modules on it, if there is one.
    fn cycle(&self) -> Option<Vec<String>> {
        fn visit(
            graph: &Graph,
            node: &str,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(start) = path.iter().position(|n| n == node) {
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.contains(node) {
                return None;
            }
            path.push(node.to_owned());
            for next in graph.edges.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(graph, next, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            done.insert(node.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        self.edges
            .keys()
            .find_map(|node| visit(self, node, &mut Vec::new(), &mut done))
    }
}

fn parse(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_test(item: &syn::Item) -> bool {
    let attrs: &[syn::Attribute] = match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Const(c) => &c.attrs,
        _ => return false,
    };
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string() == "test")
    })
}

/// The items of `module` (declared in a file of folder `dir`) and of its submodules, each
/// with the depth of the module it is in (a top-level module is 1).
fn collect_module(
    dir: &Path,
    module: syn::ItemMod,
    depth: usize,
    out: &mut Vec<(usize, syn::Item)>,
) {
    let name = module.ident.to_string();
    let (items, child_dir) = match module.content {
        Some((_, items)) => (items, dir.join(&name)),
        None => {
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let file = if flat.is_file() { flat } else { nested };
            (parse(&file).items, dir.join(&name))
        }
    };
    for item in items {
        if is_test(&item) {
            continue;
        }
        match item {
            syn::Item::Mod(child) => collect_module(&child_dir, child, depth + 1, out),
            other => out.push((depth, other)),
        }
    }
}

/// The first segment after `crate::` (or `$crate::`, or as many `super::` as climb to the
/// root from `depth`) of every path in `tokens`.
fn crate_paths(tokens: TokenStream, depth: usize) -> Vec<String> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let TokenTree::Group(group) = &tokens[i] {
            found.extend(crate_paths(group.stream(), depth));
            i += 1;
            continue;
        }
        let is = |at: usize, word: &str| matches!(tokens.get(at), Some(TokenTree::Ident(ident)) if ident == word);
        let path_sep = |at: usize| {
            matches!((tokens.get(at), tokens.get(at + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
        };
        let mut at = i;
        let from_root = if is(at, "crate") && path_sep(at + 1) {
            at += 3;
            true
        } else if is(at, "super") {
            let mut supers = 0;
            while is(at, "super") && path_sep(at + 1) {
                supers += 1;
                at += 3;
            }
            supers >= depth
        } else {
            false
        };
        if from_root {
            match tokens.get(at) {
                Some(TokenTree::Ident(ident)) => found.push(ident.to_string()),
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                    found.extend(path_starts(group.stream()));
                }
                _ => {}
            }
            i = at.max(i + 1);
        } else {
            i += 1;
        }
    }
    found
}

/// The first segment of every path in `tokens` that has one more segment after it
/// (`lower::lower`, `use kinds::{Class, Kind}`), and of each path of a `use` group.
fn path_starts(tokens: TokenStream) -> Vec<String> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => found.extend(path_starts(group.stream())),
            TokenTree::Ident(ident) => {
                let after_sep = i >= 2
                    && matches!((&tokens[i - 2], &tokens[i - 1]),
                        (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
                let before_sep = matches!((tokens.get(i + 1), tokens.get(i + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':');
                let alone = matches!(tokens.get(i + 1), None | Some(TokenTree::Punct(_)))
                    && (i == 0
                        || matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ','));
                if (!after_sep || ident == "self") && (before_sep || alone) {
                    found.push(ident.to_string());
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
    found
}

#[test]
fn every_crates_module_graph_is_acyclic() {
    let mut cycles = Vec::new();
    let mut checked = 0;
    let repo = common::repo_root();
    for root in crate_roots() {
        let graph = Graph::of(&root);
        checked += graph.modules.len();
        let cycle = graph.cycle().map(|cycle| cycle.join(" -> "));
        let relative = root
            .strip_prefix(&repo)
            .unwrap_or(&root)
            .to_string_lossy()
            .into_owned();
        if let Some(cycle) = cycle {
            cycles.push(format!("{relative}: {cycle}"));
        }
    }
    assert!(checked >= 40, "{checked} modules");
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

#[test]
fn a_module_that_reaches_back_is_a_cycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "mod lower;\nmod share;\npub fn run() { lower::lower(); }\n",
    )
    .expect("write");
    std::fs::write(
        src.join("lower.rs"),
        "pub fn lower() { crate::share::share(); }\n",
    )
    .expect("write");
    std::fs::write(
        src.join("share.rs"),
        "use super::{lower::lower};\npub fn share() { lower(); }\n#[cfg(test)]\nmod tests { use crate::run; }\n",
    )
    .expect("write");
    let graph = Graph::of(&src.join("lib.rs"));
    assert_eq!(
        graph.cycle(),
        Some(vec!["lower".into(), "share".into(), "lower".into()])
    );
    // One way, the test module aside: no cycle.
    std::fs::write(src.join("share.rs"), "pub fn share() {}\n").expect("write");
    assert_eq!(Graph::of(&src.join("lib.rs")).cycle(), None);
    // A module that calls back into the root that runs it.
    std::fs::write(src.join("share.rs"), "pub fn share() { crate::run(); }\n").expect("write");
    assert_eq!(
        Graph::of(&src.join("lib.rs")).cycle(),
        Some(vec![
            ROOT.into(),
            "lower".into(),
            "share".into(),
            ROOT.into()
        ])
    );
}

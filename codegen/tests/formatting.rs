//! Generated Rust reads like hand-written, formatted code: no line anywhere in the output
//! (the committed `generated/` and every fixture CRD's module) holds tokens laid out with
//! spaces between them, which is what prettyplease leaves inside macro bodies.

mod common;

/// Spacings that formatted Rust never has outside comments and string literals.
const TOKEN_SPACINGS: &[&str] = &[
    " : ", " :: ", ":: <", " ! [", "! [", " ! (", " . ", "( ", " )", " ,", " ;", "< '", "& '",
];

/// The lines of `source` with token spacing, comments and string contents left out.
fn token_spaced_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let code = without_strings(line.trim());
            if code.starts_with("//") {
                return None;
            }
            let closure_param = code.split('|').skip(1).step_by(2).any(|param| {
                param.starts_with(' ') && param.ends_with(' ') && !param.trim().is_empty()
            });
            let spaced = TOKEN_SPACINGS.iter().any(|s| code.contains(s))
                || code.starts_with(". ")
                || code.ends_with(" :")
                || closure_param;
            spaced.then(|| line.to_owned())
        })
        .collect()
}

/// `line` with the contents of its string literals removed (`"a : b"` -> `""`).
fn without_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in line.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    out.push(c);
                }
                _ => {}
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

#[test]
fn the_check_catches_macro_bodies_prettyplease_leaves_alone() {
    let spaced = r#"
        vec![
            component_runtime::OutputValue { name : "conditions", ty :
            value : status.and_then(| s | s.conditions.as_ref()).and_then(| v |
            serde_json::to_value(v).ok()), }, component_runtime::OutputValue { name :
            .debug_rule_evaluation_statuses.as_deref(), value : status
        ]
    "#;
    assert_eq!(token_spaced_lines(spaced).len(), 4);
    let formatted = r#"
        /// A doc comment may say anything : even this.
        let value = status.and_then(|s| s.conditions.as_ref()).map(|v| v.len());
        let help = "strings may too : ( ";
        Self { name: "x", ..Default::default() }
    "#;
    assert_eq!(token_spaced_lines(formatted), Vec::<String>::new());
}

#[test]
fn committed_generated_code_is_formatted() {
    let dir = common::repo_root().join("generated/src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("generated/src") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("readable");
        let spaced = token_spaced_lines(&source);
        assert!(
            spaced.is_empty(),
            "{}:\n{}",
            path.display(),
            spaced.join("\n")
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "generated/src holds lib.rs and at least one resource"
    );
}

#[test]
fn every_fixture_crd_generates_formatted_code() {
    for (name, yaml) in common::fixture_crds() {
        let spaced = token_spaced_lines(&common::generate(&yaml).rust);
        assert!(spaced.is_empty(), "{name}:\n{}", spaced.join("\n"));
    }
}

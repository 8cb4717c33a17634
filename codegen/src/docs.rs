//! CRD descriptions as rustdoc and as one-line component descriptions.
//!
//! Descriptions are kept word for word. Rustdoc reads them as Markdown, so the few
//! characters that would make rustdoc warn or lose text are escaped instead of rewritten:
//! `[x]` would be an intra-doc link, `<x>` an HTML tag, a leading `#` a heading, and a bare URL is
//! wrapped in `<...>` so it renders as the link it is (the text's own closing parenthesis
//! after a URL stays outside it).

/// One line of rustdoc per element, with no trailing white space.
pub fn rustdoc_lines(description: &str) -> Vec<String> {
    let text = description.trim_end();
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| escape_line(line.trim_end()))
        .collect();
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    lines
}

fn escape_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(url_len) = url_at(rest) {
            out.push('<');
            out.push_str(&rest[..url_len]);
            out.push('>');
            rest = &rest[url_len..];
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        let heading = c == '#' && out.trim().is_empty();
        if matches!(c, '[' | ']' | '<' | '>' | '\\') || heading {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length of the URL that starts `text`, if one does. A URL ends at white space or
/// at characters that cannot end one; a closing parenthesis belongs to it only when the
/// URL opened one.
fn url_at(text: &str) -> Option<usize> {
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return None;
    }
    let mut end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '[' | ']'))
        .unwrap_or(text.len());
    loop {
        let url = &text[..end];
        let last = url.chars().last()?;
        let unbalanced_paren = last == ')' && url.matches('(').count() < url.matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'') || unbalanced_paren {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    (end > "https://".len()).then_some(end)
}

/// The first sentence of a description on one line: what a component input's
/// `description` carries.
pub fn first_sentence(description: &str) -> String {
    let flat = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut search_from = 0;
    while let Some(pos) = flat[search_from..].find(". ") {
        let end = search_from + pos + 1;
        if !ends_with_abbreviation(&flat[..end]) {
            return flat[..end].to_owned();
        }
        search_from = end;
    }
    flat
}

fn ends_with_abbreviation(text: &str) -> bool {
    let last_word = text.rsplit(' ').next().unwrap_or_default().to_lowercase();
    matches!(
        last_word.as_str(),
        "e.g." | "i.e." | "etc." | "vs." | "approx." | "(e.g." | "(i.e."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_autolinks_without_the_texts_parenthesis() {
        let lines = rustdoc_lines(
            "see Algorithms (https://docs.aws.amazon.com/sagemaker/latest/dg/algos.html).",
        );
        assert_eq!(
            lines,
            ["see Algorithms (<https://docs.aws.amazon.com/sagemaker/latest/dg/algos.html>)."]
        );
        let lines = rustdoc_lines("More info: https://git.k8s.io/a.md#resources");
        assert_eq!(lines, ["More info: <https://git.k8s.io/a.md#resources>"]);
    }

    #[test]
    fn markdown_characters_are_escaped_and_lines_trimmed() {
        let lines = rustdoc_lines("\nA [list] of <YOUR BUCKET>   \n  # not_a heading\n");
        assert_eq!(
            lines,
            ["A \\[list\\] of \\<YOUR BUCKET\\>", "  \\# not_a heading"]
        );
    }

    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(
            first_sentence("The path, e.g. s3://bucket. More text here."),
            "The path, e.g. s3://bucket."
        );
        assert_eq!(
            first_sentence("One line\nwrapped. Two."),
            "One line wrapped."
        );
        assert_eq!(first_sentence("No full stop"), "No full stop");
    }
}

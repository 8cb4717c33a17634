//! The documentation's commands, as data, so that tests run every one of them.
//!
//! Every fenced block of `README.md` and `docs/*.md` that holds commands (`sh`, `bash`,
//! `console`, `shell`) or a pipeline (`python`) says in its info string how it is checked;
//! the words after the language are ignored when the page is rendered:
//!
//! | mark | the block is | checked by |
//! |---|---|---|
//! | `run` | commands run here, from the repository's root (or `cwd=DIR`), exiting 0 (or `exit=N`) | `xtask/tests/docs.rs`, in a scratch copy of the repository, page by page, top to bottom |
//! | `run mirror` | the same, for commands that fetch controller releases | the same, with `ACK_RELEASES_URL` set to `fixtures/ack-mirror` (this machine has no internet) |
//! | `kfp` | a pipeline (`file=NAME.py`, its first line naming the SDK) or the commands that compile one | `kfp-tests/test_docs.py`, with each SDK |
//! | `ci` / `ci="STEP"` | commands too heavy to run from a test (the tests themselves, the benchmarks, the image) | `.ci/run`, which must run each of them (or `STEP`) |
//! | `test=PATH id=ID` | commands that need a cluster | the test at `PATH`, which reads the block by its `id` |
//! | `example` | a template with `<placeholders>` to fill in, not runnable as written | nothing; it must hold a `<placeholder>` |
//!
//! A ```` ```text output ```` block after a `run` block is what those commands print: each
//! of its lines must be in their output, in order (`...` stands for any lines). Other
//! languages (`text`, `yaml`, `toml`) are not commands and need no mark. A block of a
//! command language without a mark, with an unknown mark, or whose commands are not ones a
//! test can run, fails the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The pages whose commands are checked: the README and every page under `docs/`.
pub fn pages(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut pages = vec!["README.md".to_owned()];
    let docs = root.join("docs");
    let mut more = Vec::new();
    for entry in std::fs::read_dir(&docs).with_context(|| docs.display().to_string())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            more.push(format!("docs/{name}"));
        }
    }
    more.sort();
    pages.extend(more);
    Ok(pages)
}

/// One fenced block of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The page, relative to the repository root.
    pub page: String,
    /// The line of the opening fence (1-based).
    pub line: usize,
    /// The first word of the info string.
    pub lang: String,
    /// The other words: `run`, `cwd=DIR`, `ci="cargo xtask bench --quick"`.
    pub marks: BTreeMap<String, Option<String>>,
    pub text: String,
}

impl Block {
    /// `page:line`, for messages.
    pub fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }

    pub fn has(&self, mark: &str) -> bool {
        self.marks.contains_key(mark)
    }

    pub fn mark(&self, mark: &str) -> Option<&str> {
        self.marks.get(mark).and_then(Option::as_deref)
    }

    /// The exit status its commands end with: 0 unless the block says `exit=N`.
    pub fn exit_status(&self) -> i32 {
        self.mark("exit").and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    /// The directory its commands run from, relative to the repository root.
    pub fn cwd(&self) -> &str {
        self.mark("cwd").unwrap_or(".")
    }

    /// The commands of the block: continuation lines joined, comments and blank lines
    /// dropped, one entry per line (a line may chain several with `&&` or `|`).
    pub fn command_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut pending = String::new();
        for raw in self.text.lines() {
            if let Some(head) = raw.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(raw);
            let line = strip_comment(&pending).trim().to_owned();
            pending.clear();
            if !line.is_empty() {
                lines.push(line);
            }
        }
        lines
    }
}

/// The languages whose blocks are commands or pipelines, and so must say how they are
/// checked.
pub const COMMAND_LANGUAGES: &[&str] = &["sh", "bash", "console", "shell", "python"];

/// How a block is checked; see the module docs.
pub const CHECKS: &[&str] = &["run", "kfp", "ci", "test", "example"];

/// Marks that qualify a check.
const QUALIFIERS: &[&str] = &["cwd", "mirror", "exit", "file", "id", "output"];

/// Every fenced block of a page, in order.
pub fn blocks(page: &str, markdown: &str) -> anyhow::Result<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let (lang, marks) = parse_info(info).with_context(|| format!("{page}:{}", index + 1))?;
        let mut text = String::new();
        let mut closed = false;
        for (_, body) in lines.by_ref() {
            if body.trim_start().starts_with("```") && body.trim() == "```" {
                closed = true;
                break;
            }
            text.push_str(body.get(indent..).unwrap_or(body.trim_start()));
            text.push('\n');
        }
        anyhow::ensure!(
            closed,
            "{page}:{}: the fenced block is not closed",
            index + 1
        );
        blocks.push(Block {
            page: page.to_owned(),
            line: index + 1,
            lang,
            marks,
            text,
        });
    }
    Ok(blocks)
}

/// `sh run cwd=kfp-tests ci="cargo xtask bench --quick"` -> (`sh`, marks).
fn parse_info(info: &str) -> anyhow::Result<(String, BTreeMap<String, Option<String>>)> {
    let words = split_words(info)?;
    let mut words = words.into_iter();
    let lang = words.next().unwrap_or_default();
    let mut marks = BTreeMap::new();
    for word in words {
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (key.to_owned(), Some(value.to_owned())),
            None => (word, None),
        };
        anyhow::ensure!(
            marks.insert(key.clone(), value).is_none(),
            "mark `{key}` given twice"
        );
    }
    Ok((lang, marks))
}

/// Splits on whitespace, keeping `"..."` and `'...'` together (quotes removed).
pub fn split_words(text: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                let mut closed = false;
                for inner in chars.by_ref() {
                    if inner == c {
                        closed = true;
                        break;
                    }
                    word.push(inner);
                }
                anyhow::ensure!(closed, "unclosed {c} in `{text}`");
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The line up to a `#` that starts a shell comment (not one inside quotes or a word).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (index, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => return &line[..index],
            _ => {}
        }
        previous = c;
    }
    line
}

/// The programs a `run` block may call: `cargo` (only `cargo xtask` and `cargo run -p
/// launcher`, which the runner stands in for), `git`, and the shell's own `cd` and `export`.
pub const RUNNABLE: &[&str] = &["cargo", "git", "cd", "export"];

/// The simple commands of a command line: split on `&&`, `||`, `;` and `|`, each as its
/// words without leading `NAME=value` assignments or redirections.
pub fn simple_commands(line: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let mut commands = Vec::new();
    let mut current = Vec::new();
    let mut redirect = false;
    for word in split_words(line)? {
        if matches!(word.as_str(), "&&" | "||" | ";" | "|") {
            commands.push(std::mem::take(&mut current));
            continue;
        }
        if redirect {
            redirect = false;
            continue;
        }
        if matches!(word.as_str(), ">" | ">>" | "<" | "2>") {
            redirect = true;
            continue;
        }
        let assignment = current.is_empty()
            && word
                .split_once('=')
                .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(is_name_char));
        if !assignment {
            current.push(word);
        }
    }
    commands.push(current);
    commands.retain(|c| !c.is_empty());
    Ok(commands)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// What is wrong with the marks of `blocks` (one page's, in order); `root` to find the
/// files `test=` names and `.ci/run`.
pub fn problems(root: &Path, blocks: &[Block]) -> anyhow::Result<Vec<String>> {
    let ci = std::fs::read_to_string(root.join(".ci/run")).context(".ci/run")?;
    let ci_lines: Vec<Vec<String>> = ci
        .lines()
        .map(|l| split_words(strip_comment(l)).unwrap_or_default())
        .collect();
    let in_ci = |command: &str| {
        let words = split_words(command).unwrap_or_default();
        ci_lines.iter().any(|line| line.starts_with(&words))
    };
    let mut problems = Vec::new();
    let mut previous: Option<&Block> = None;
    for block in blocks {
        let mut say = |what: String| problems.push(format!("{}: {what}", block.at()));
        for key in block.marks.keys() {
            if !CHECKS.contains(&key.as_str()) && !QUALIFIERS.contains(&key.as_str()) {
                say(format!(
                    "unknown mark `{key}` (marks: {CHECKS:?}, {QUALIFIERS:?})"
                ));
            }
        }
        let checks: Vec<&str> = CHECKS.iter().copied().filter(|c| block.has(c)).collect();
        if block.has("output") {
            if block.lang != "text" || previous.is_none_or(|p| !p.has("run")) {
                say("an `output` block is a ```text block right after a `run` block".into());
            }
            previous = Some(block);
            continue;
        }
        if !COMMAND_LANGUAGES.contains(&block.lang.as_str()) {
            if !checks.is_empty() {
                say(format!(
                    "a ```{} block holds no commands to check",
                    block.lang
                ));
            }
            previous = Some(block);
            continue;
        }
        let [check] = checks.as_slice() else {
            say(format!(
                "a ```{} block says how it is checked with one of {CHECKS:?}, not {checks:?} \
                 (see xtask/src/docs.rs)",
                block.lang
            ));
            previous = Some(block);
            continue;
        };
        let lines = block.command_lines();
        match *check {
            "run" => {
                if block
                    .mark("exit")
                    .is_some_and(|n| n.parse::<i32>().is_err())
                {
                    say("`exit=N` names an exit status".into());
                }
                if block.lang == "python" {
                    say("a pipeline is compiled by kfp-tests: mark it `kfp`, not `run`".into());
                }
                if block.cwd().split('/').any(|part| part == "..") || block.cwd().starts_with('/') {
                    say(format!(
                        "cwd={} is not a folder of the repository",
                        block.cwd()
                    ));
                } else if !root.join(block.cwd()).is_dir() {
                    say(format!("cwd={}: no such folder", block.cwd()));
                }
                for line in &lines {
                    for command in simple_commands(line)? {
                        if !RUNNABLE.contains(&command[0].as_str()) {
                            say(format!(
                                "`{}` is not a command the runner can run here ({RUNNABLE:?}); \
                                 mark the block `ci`, `test=` or `example`",
                                command[0]
                            ));
                        }
                    }
                }
            }
            "kfp" if block.lang == "python" => {
                let file = block.mark("file").unwrap_or_default();
                if !file.ends_with(".py") {
                    say("a pipeline marked `kfp` names its file: `file=NAME.py`".into());
                }
                if sdks(&block.text).is_empty() {
                    say("a pipeline's first line names its SDK: `# kfp==1.8.22`, `# kfp>=2,<3` or both, joined by ` or `".into());
                }
            }
            "kfp" => {
                if lines.is_empty() {
                    say("no commands".into());
                }
            }
            "ci" => {
                let covered = match block.mark("ci") {
                    Some(step) => vec![step.to_owned()],
                    None => lines
                        .iter()
                        .flat_map(|l| simple_commands(l).unwrap_or_default())
                        .map(|words| words.join(" "))
                        .collect(),
                };
                for command in covered {
                    if !in_ci(&command) {
                        say(format!(
                            "`{command}` is marked `ci`, but .ci/run does not run it"
                        ));
                    }
                }
            }
            "test" => {
                let path = block.mark("test").unwrap_or_default();
                let id = block.mark("id");
                match (std::fs::read_to_string(root.join(path)), id) {
                    (_, None) => {
                        say("a block run by a test has an `id=` the test finds it by".into())
                    }
                    (Err(_), _) => say(format!("test={path}: no such file")),
                    (Ok(test), Some(id)) if !test.contains(&format!("\"{id}\"")) => {
                        say(format!("test={path} never reads the block `{id}`"));
                    }
                    _ => {}
                }
            }
            "example" => {
                if !has_placeholder(&block.text) {
                    say(
                        "an `example` has a <placeholder> to fill in; without one, mark it `run`"
                            .into(),
                    );
                }
            }
            _ => unreachable!("one of CHECKS"),
        }
        previous = Some(block);
    }
    Ok(problems)
}

/// The SDK major versions a pipeline's first line names (`# kfp==1.8.22 or kfp>=2,<3`).
pub fn sdks(text: &str) -> Vec<u8> {
    let first = text.lines().next().unwrap_or_default();
    let Some(rest) = first.strip_prefix("# ") else {
        return Vec::new();
    };
    let mut sdks = Vec::new();
    for part in rest.split(" or ") {
        let spec = part.split_whitespace().next().unwrap_or_default();
        if spec == "kfp==1.8.22" {
            sdks.push(1);
        } else if spec == "kfp>=2,<3" {
            sdks.push(2);
        }
    }
    sdks
}

fn has_placeholder(text: &str) -> bool {
    text.split('<').skip(1).any(|rest| {
        rest.split_once('>').is_some_and(|(inside, _)| {
            !inside.is_empty()
                && inside
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_ .".contains(c))
        })
    })
}

/// The block of `page` with `id=ID`: for the tests that run `test=` blocks.
pub fn block_by_id(root: &Path, id: &str) -> anyhow::Result<Block> {
    for page in pages(root)? {
        let text = std::fs::read_to_string(root.join(&page)).context(page.clone())?;
        if let Some(block) = blocks(&page, &text)?
            .into_iter()
            .find(|b| b.mark("id") == Some(id))
        {
            return Ok(block);
        }
    }
    anyhow::bail!("no documented block has id={id}")
}

/// The lines of a page that are running text: not in a fenced block, nor in an HTML
/// comment (where the places other work fills in are marked), with their numbers.
fn prose_lines(markdown: &str) -> Vec<(usize, &str)> {
    let mut prose = Vec::new();
    let (mut in_fence, mut in_comment) = (false, false);
    for (index, line) in markdown.lines().enumerate() {
        if !in_comment && line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if line.trim_start().starts_with("<!--") {
            in_comment = true;
        }
        if !in_comment {
            prose.push((index + 1, line));
        }
        if line.contains("-->") {
            in_comment = false;
        }
    }
    prose
}

/// Relative links of a page (`[text](path)`, `[text](path#anchor)`) that name no file or
/// folder of the repository.
pub fn broken_links(root: &Path, page: &str, markdown: &str) -> Vec<String> {
    let dir = Path::new(page).parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for (number, line) in prose_lines(markdown) {
        for target in line.split("](").skip(1).filter_map(|s| s.split_once(')')) {
            let target = target.0.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let path: PathBuf = dir.join(target);
            if !root.join(&path).exists() {
                broken.push(format!("{page}:{number}: {target}"));
            }
        }
    }
    broken
}

/// The `cargo xtask ...` commands a page names in running text (inline code), so that a
/// renamed subcommand or flag shows: (line, words).
pub fn inline_xtask_commands(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    for (number, line) in prose_lines(markdown) {
        for span in line.split('`').skip(1).step_by(2) {
            if let Some(rest) = span.strip_prefix("cargo xtask ") {
                let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
                if words.first().is_some_and(|w| w != "...") {
                    found.push((number, words));
                }
            }
        }
    }
    found
}

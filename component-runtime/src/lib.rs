//! Reading KFP command-line arguments into the generated spec types.
//!
//! Kubeflow Pipelines hands every component input to the container as one command-line
//! string, and how it spells values depends on the SDK and backend (`kfp-tests/sdk.py`
//! spells them as each does): `True`/`False` or `true`/`false` for booleans, `3600.0` for an integer that went
//! through a float64, JSON with or without spaces, or YAML for hand-written arguments.
//! Optional inputs always arrive, carrying a neutral default (`''`, `'{}'`, `'[]'`,
//! `'False'`) that means "not set".
//!
//! The generated `*Inputs::to_spec` calls [`InputReader`] once per input. The reader keeps
//! going after a bad value so that one run reports every problem, each naming the input,
//! the JSON path inside it and what was expected.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The KFP type of a component input, as written in component.yaml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    String,
    Integer,
    Float,
    Bool,
    JsonObject,
    JsonArray,
}

impl InputType {
    /// The name component.yaml uses for this type.
    pub fn kfp_name(self) -> &'static str {
        match self {
            InputType::String => "String",
            InputType::Integer => "Integer",
            InputType::Float => "Float",
            InputType::Bool => "Bool",
            InputType::JsonObject => "JsonObject",
            InputType::JsonArray => "JsonArray",
        }
    }

    /// Reads one argument into JSON, or `None` when it is absent or the neutral default.
    fn read(self, raw: &str) -> Result<Option<Value>, String> {
        match self {
            InputType::String if raw.is_empty() => Ok(None),
            InputType::String => Ok(Some(Value::String(raw.to_owned()))),
            InputType::Bool => match raw.trim() {
                "True" | "true" => Ok(Some(Value::Bool(true))),
                // `False` is the neutral default KFP passes for an unset Bool input.
                "False" | "false" | "" => Ok(None),
                _ => Err(format!(
                    "expected a Bool (True, False, true or false), got `{raw}`"
                )),
            },
            InputType::Integer => read_integer(raw.trim()),
            InputType::Float => read_float(raw.trim()),
            InputType::JsonObject | InputType::JsonArray => self.read_document(raw),
        }
    }

    fn read_document(self, raw: &str) -> Result<Option<Value>, String> {
        if matches!(raw.trim(), "" | "{}" | "[]") {
            return Ok(None);
        }
        // Untrimmed for YAML: white space can be part of its last plain scalar.
        let value: Value = match serde_json::from_str(raw) {
            Ok(value) => value,
            // Hand-written pipeline arguments are often YAML; the earlier component took it too.
            Err(json_error) => serde_saphyr::from_str(raw).map_err(|_| {
                format!(
                    "expected a {} as JSON or YAML; not valid JSON: {json_error}",
                    self.kfp_name()
                )
            })?,
        };
        let value = whole_floats_as_integers(value);
        match (self, &value) {
            (InputType::JsonObject, Value::Object(map)) if map.is_empty() => Ok(None),
            (InputType::JsonArray, Value::Array(items)) if items.is_empty() => Ok(None),
            (InputType::JsonObject, Value::Object(_)) | (InputType::JsonArray, Value::Array(_)) => {
                Ok(Some(value))
            }
            (_, Value::Null) => Ok(None),
            _ => Err(format!(
                "expected a {}, got {}",
                self.kfp_name(),
                json_kind(&value)
            )),
        }
    }
}

/// KFP v2 carries JSON numbers as float64, so an integer field may hold `1.0`. A whole
/// float becomes an integer; a float field still reads an integer, so nothing is lost.
fn whole_floats_as_integers(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(whole_floats_as_integers).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_floats_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

fn read_integer(raw: &str) -> Result<Option<Value>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(Some(Value::from(n)));
    }
    // KFP v2 sends numbers through float64: accept `3600.0` or `3.6e3`, but not `3.5`.
    match raw.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Ok(Some(Value::from(f as i64)))
        }
        _ => Err(format!("expected an Integer, got `{raw}`")),
    }
}

fn read_float(raw: &str) -> Result<Option<Value>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(serde_json::Number::from_f64(f).map(Value::Number)),
        _ => Err(format!("expected a Float, got `{raw}`")),
    }
}

/// Adds the closest valid name to serde's "unknown field `x`, expected one of `a`, `b`".
fn with_suggestion(message: String) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message;
    };
    let closest = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| {
            (
                edit_distance(&unknown.to_lowercase(), &candidate.to_lowercase()),
                candidate,
            )
        })
        .min();
    match closest {
        Some((distance, candidate)) if distance <= (unknown.len() / 3).max(2) => {
            format!("{message}; did you mean `{candidate}`?")
        }
        _ => message,
    }
}

/// Levenshtein distance, for suggesting a field name.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// More problems than this in one input are not looked for (each costs a decoding pass).
const MAX_PROBLEMS_PER_INPUT: usize = 100;

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Index(usize),
    Key(String),
    Other,
}

impl From<&serde_path_to_error::Segment> for Step {
    fn from(segment: &serde_path_to_error::Segment) -> Self {
        match segment {
            serde_path_to_error::Segment::Seq { index } => Step::Index(*index),
            serde_path_to_error::Segment::Map { key } => Step::Key(key.clone()),
            _ => Step::Other,
        }
    }
}

/// `[0].dataSource.s3URI`; empty for the value as a whole.
fn display_path(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Index(index) => text.push_str(&format!("[{index}]")),
            Step::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Step::Other => text.push_str(".?"),
        }
    }
    text
}

/// The value at `path`, if the path leads anywhere.
fn at<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Index(index) => value.as_array_mut()?.get_mut(*index),
        Step::Key(key) => value.as_object_mut()?.get_mut(key),
        Step::Other => None,
    })
}

/// `name` in serde's "<prefix>name`...".
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// A value of the type serde's message says it expected, to decode on past a problem.
fn stand_in_for(message: &str) -> Option<Value> {
    if let Some(variant) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("expected one of `"))
        .and_then(|(_, candidates)| candidates.split('`').next())
    {
        return Some(Value::String(variant.to_owned()));
    }
    let expected = message.rsplit_once("expected ")?.1;
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| expected.starts_with(p));
    if starts(&["a string", "string", "a borrowed string", "a character"]) {
        Some(Value::String(String::new()))
    } else if starts(&["a boolean", "bool"]) {
        Some(Value::Bool(false))
    } else if starts(&[
        "i8",
        "i16",
        "i32",
        "i64",
        "u8",
        "u16",
        "u32",
        "u64",
        "an integer",
        "f32",
        "f64",
        "a float",
        "a number",
    ]) {
        Some(Value::from(0))
    } else if starts(&["a sequence", "a vec", "a list", "an array", "tuple"]) {
        Some(Value::Array(Vec::new()))
    } else if starts(&["struct", "a map", "map", "an object"]) {
        Some(Value::Object(serde_json::Map::new()))
    } else {
        None
    }
}

/// One problem with one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The component input's name, as in component.yaml.
    pub input: &'static str,
    /// Where inside the input's value, as a JSON path (`[0].dataSource`); empty for the
    /// value as a whole.
    pub path: String,
    /// What is wrong and what was expected.
    pub problem: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "input `{}`: {}", self.input, self.problem)
        } else {
            write!(
                f,
                "input `{}` at `{}`: {}",
                self.input, self.path, self.problem
            )
        }
    }
}

/// Every problem found in one set of inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

/// Reads inputs one by one and collects what is wrong with them.
#[derive(Debug, Default)]
pub struct InputReader {
    errors: Vec<InputError>,
}

impl InputReader {
    /// An input that may be left out: `None` when absent or the neutral default.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        input: &'static str,
        ty: InputType,
        raw: Option<&str>,
    ) -> Option<T> {
        let value = match raw.map(|raw| ty.read(raw)).transpose() {
            Ok(value) => value.flatten()?,
            Err(problem) => {
                self.push(input, String::new(), problem);
                return None;
            }
        };
        self.decode(input, value)
    }

    /// Decodes `value` into `T`, reporting every problem in it, not only the first one
    /// serde stops at: after each error the value is repaired where the error points (an
    /// unknown field removed, a wrong or missing value replaced by a stand-in of the
    /// expected type) and decoded again. Errors inside a stand-in are the repair's own and
    /// are not reported. `None` if anything was wrong.
    fn decode<T: DeserializeOwned>(&mut self, input: &'static str, mut value: Value) -> Option<T> {
        let mut stand_ins: Vec<Vec<Step>> = Vec::new();
        let mut failed = false;
        for _ in 0..MAX_PROBLEMS_PER_INPUT {
            let error = match serde_path_to_error::deserialize::<_, T>(&value) {
                Ok(typed) => return (!failed).then_some(typed),
                Err(error) => error,
            };
            let path: Vec<Step> = error.path().iter().map(Step::from).collect();
            let message = error.into_inner().to_string();
            if !stand_ins.iter().any(|stand_in| path.starts_with(stand_in)) {
                self.push(input, display_path(&path), with_suggestion(message.clone()));
                failed = true;
            }
            let repaired = if let Some(field) = quoted_after(&message, "unknown field `") {
                // The path ends at the unknown key itself.
                path.split_last().is_some_and(|(last, parent)| {
                    *last == Step::Key(field.to_owned())
                        && at(&mut value, parent)
                            .and_then(Value::as_object_mut)
                            .and_then(|object| object.remove(field))
                            .is_some()
                })
            } else if let Some(field) = quoted_after(&message, "missing field `") {
                // A null first: the next pass says which type the field wants.
                let mut field_path = path.clone();
                field_path.push(Step::Key(field.to_owned()));
                stand_ins.push(field_path);
                at(&mut value, &path)
                    .and_then(Value::as_object_mut)
                    .map(|object| object.insert(field.to_owned(), Value::Null))
                    .is_some()
            } else if let Some(stand_in) = stand_in_for(&message) {
                stand_ins.push(path.clone());
                match at(&mut value, &path) {
                    Some(slot) if *slot != stand_in => {
                        *slot = stand_in;
                        true
                    }
                    _ => false,
                }
            } else {
                false
            };
            if !repaired {
                break;
            }
        }
        if !failed {
            // Gave up repairing before finding what is wrong: say so rather than pass it.
            self.push(
                input,
                String::new(),
                "cannot be read into the expected type".to_owned(),
            );
        }
        None
    }

    /// An input that must be given; its absence is recorded as a problem.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        input: &'static str,
        ty: InputType,
        raw: Option<&str>,
    ) -> Option<T> {
        let errors_before = self.errors.len();
        let value = self.optional(input, ty, raw);
        if value.is_none() && self.errors.len() == errors_before {
            self.push(
                input,
                String::new(),
                format!("is required: expected a non-empty {}", ty.kfp_name()),
            );
        }
        value
    }

    fn push(&mut self, input: &'static str, path: String, problem: String) {
        self.errors.push(InputError {
            input,
            path,
            problem,
        });
    }

    /// `Err` with every problem found, if there was any.
    pub fn finish(self) -> Result<(), InputErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.into_errors())
        }
    }

    /// Every problem found so far.
    pub fn into_errors(self) -> InputErrors {
        InputErrors(self.errors)
    }
}

/// One output of a component: where KFP wants it and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputValue<'a> {
    pub name: &'static str,
    pub ty: InputType,
    /// The file KFP passed for it, if any.
    pub path: Option<&'a std::path::Path>,
    /// `None` when the status does not have the field (yet).
    pub value: Option<Value>,
}

impl OutputValue<'_> {
    /// The file's content: plain text for a String (a non-string value as JSON), JSON for
    /// everything else. An absent value is written as the type's empty value (`""`, `{}`,
    /// `[]`, `0`, `0.0`, `false`), so the file is always there and always parses as its
    /// type: KFP v2 refuses `null` for a number or a boolean, and a `null` a v1 step reads
    /// is not a number either.
    pub fn content(&self) -> String {
        match (&self.value, self.ty) {
            (Some(Value::String(text)), InputType::String) => text.clone(),
            (Some(value), _) => value.to_string(),
            (None, InputType::String) => String::new(),
            (None, InputType::JsonObject) => "{}".to_owned(),
            (None, InputType::JsonArray) => "[]".to_owned(),
            (None, InputType::Integer) => "0".to_owned(),
            (None, InputType::Float) => "0.0".to_owned(),
            (None, InputType::Bool) => "false".to_owned(),
        }
    }
}

/// Writes every output that has a path, creating parent folders as KFP expects.
/// Goes on past a failure so that as many outputs as possible are there; returns the
/// first error.
pub fn write_outputs(outputs: &[OutputValue<'_>]) -> std::io::Result<()> {
    let mut first_error = None;
    for output in outputs {
        let Some(path) = output.path else { continue };
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, output.content()));
        if let Err(error) = result {
            first_error.get_or_insert(std::io::Error::new(
                error.kind(),
                format!(
                    "writing output `{}` to {}: {error}",
                    output.name,
                    path.display()
                ),
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// What a component's inputs describe: the resource's spec and where to create it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceInputs<S> {
    /// The AWS region, for the `services.k8s.aws/region` annotation.
    pub region: String,
    pub spec: S,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn absent_outputs_parse_as_their_type_never_null() {
        let content = |ty| {
            super::OutputValue {
                name: "x",
                ty,
                path: None,
                value: None,
            }
            .content()
        };
        assert_eq!(content(super::InputType::Integer), "0");
        assert_eq!(content(super::InputType::Float), "0.0");
        assert_eq!(content(super::InputType::Bool), "false");
        assert_eq!(content(super::InputType::String), "");
        assert_eq!(content(super::InputType::JsonObject), "{}");
        assert_eq!(content(super::InputType::JsonArray), "[]");
    }

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Channel {
        #[serde(rename = "channelName")]
        channel_name: String,
    }

    #[test]
    fn neutral_defaults_read_as_absent() {
        let mut reader = InputReader::default();
        assert_eq!(
            reader.optional::<String>("s", InputType::String, Some("")),
            None
        );
        assert_eq!(
            reader.optional::<bool>("b", InputType::Bool, Some("False")),
            None
        );
        let object: Option<BTreeMap<String, String>> =
            reader.optional("o", InputType::JsonObject, Some("{}"));
        assert_eq!(object, None);
        assert_eq!(
            reader.optional::<Vec<Channel>>("a", InputType::JsonArray, Some("[]")),
            None
        );
        assert_eq!(reader.optional::<i64>("i", InputType::Integer, None), None);
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn explicit_zero_and_false_stay_distinct_from_not_set() {
        let mut reader = InputReader::default();
        // Optional Integer and Float inputs have no neutral default (they are passed only
        // when present), so `0` is a value.
        assert_eq!(
            reader.optional("i", InputType::Integer, Some("0")),
            Some(0_i64)
        );
        assert_eq!(
            reader.optional("f", InputType::Float, Some("0.0")),
            Some(0.0_f64)
        );
        assert_eq!(reader.optional::<i64>("i", InputType::Integer, None), None);
        // Inside a document, false and 0 are kept as given.
        let flags: Option<BTreeMap<String, serde_json::Value>> = reader.optional(
            "o",
            InputType::JsonObject,
            Some(r#"{"enabled": false, "count": 0}"#),
        );
        assert_eq!(
            flags,
            Some(BTreeMap::from([
                ("count".to_owned(), serde_json::json!(0)),
                ("enabled".to_owned(), serde_json::json!(false)),
            ]))
        );
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn kfp_spellings_of_scalars_are_accepted() {
        let mut reader = InputReader::default();
        assert_eq!(
            reader.optional("b", InputType::Bool, Some("True")),
            Some(true)
        );
        assert_eq!(
            reader.optional("b", InputType::Bool, Some("true")),
            Some(true)
        );
        assert_eq!(
            reader.optional("i", InputType::Integer, Some("3600.0")),
            Some(3600_i64)
        );
        assert_eq!(
            reader.optional("i", InputType::Integer, Some("3.6e3")),
            Some(3600_i64)
        );
        assert_eq!(
            reader.optional("f", InputType::Float, Some("0.5")),
            Some(0.5_f64)
        );
        let nested: Option<BTreeMap<String, i64>> =
            reader.optional("o", InputType::JsonObject, Some(r#"{"count": 2.0}"#));
        assert_eq!(nested, Some(BTreeMap::from([("count".to_owned(), 2)])));
        let float: Option<BTreeMap<String, f64>> =
            reader.optional("o", InputType::JsonObject, Some(r#"{"ratio": 2}"#));
        assert_eq!(float, Some(BTreeMap::from([("ratio".to_owned(), 2.0)])));
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn yaml_is_accepted_for_documents() {
        let mut reader = InputReader::default();
        let channels: Option<Vec<Channel>> =
            reader.optional("c", InputType::JsonArray, Some("- channelName: train\n"));
        assert_eq!(
            channels,
            Some(vec![Channel {
                channel_name: "train".into()
            }])
        );
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn every_problem_is_reported_with_input_and_path() {
        let mut reader = InputReader::default();
        let _: Option<Vec<Channel>> = reader.optional(
            "input_data_config",
            InputType::JsonArray,
            Some(r#"[{"channelName": "train", "RecordWrapperType": "None"}]"#),
        );
        let _: Option<i64> = reader.optional("max", InputType::Integer, Some("3.5"));
        let _: Option<bool> = reader.optional("flag", InputType::Bool, Some("yes"));
        let _: Option<Vec<Channel>> =
            reader.optional("list", InputType::JsonArray, Some("{\"a\": 1}"));
        let _: Option<String> = reader.required("role_arn", InputType::String, None);
        let errors = reader.finish().unwrap_err();
        let text = errors.to_string();
        assert_eq!(errors.0.len(), 5, "{text}");
        assert_eq!(errors.0[0].input, "input_data_config");
        assert_eq!(errors.0[0].path, "[0].RecordWrapperType");
        assert!(
            errors.0[0]
                .problem
                .contains("unknown field `RecordWrapperType`"),
            "{text}"
        );
        assert!(
            errors.0[1].problem.contains("expected an Integer"),
            "{text}"
        );
        assert!(errors.0[2].problem.contains("expected a Bool"), "{text}");
        assert_eq!(errors.0[3].problem, "expected a JsonArray, got an object");
        assert_eq!(
            errors.0[4].to_string(),
            "input `role_arn`: is required: expected a non-empty String"
        );
    }

    #[test]
    fn every_problem_inside_one_object_is_reported() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Source {
            #[serde(rename = "s3URI")]
            s3_uri: String,
            #[serde(rename = "s3DataType")]
            s3_data_type: String,
        }
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Input {
            #[serde(rename = "channelName")]
            channel_name: String,
            #[serde(rename = "recordWrapperType")]
            record_wrapper_type: Option<String>,
            #[serde(rename = "inputMode")]
            input_mode: Option<String>,
            #[serde(rename = "dataSource")]
            data_source: Source,
            count: Option<i64>,
        }
        let mut reader = InputReader::default();
        // As the earlier component's sample pipeline passes a channel: PascalCase keys.
        let read: Option<Vec<Input>> = reader.optional(
            "input_data_config",
            InputType::JsonArray,
            Some(
                r#"[{"channelName": "train", "RecordWrapperType": "None", "InputMode": "File",
                     "dataSource": {"s3URI": 5}, "count": "x"},
                    {"channelName": 7, "dataSource": {"s3URI": "s3://b", "s3DataType": "S3Prefix"}}]"#,
            ),
        );
        assert!(read.is_none());
        let errors = reader.finish().unwrap_err();
        let found: Vec<(&str, &str)> = errors
            .0
            .iter()
            .map(|e| (e.path.as_str(), e.problem.as_str()))
            .collect();
        let text = errors.to_string();
        for (path, fragment) in [
            ("[0].RecordWrapperType", "did you mean `recordWrapperType`?"),
            ("[0].InputMode", "did you mean `inputMode`?"),
            ("[0].dataSource.s3URI", "expected a string"),
            ("[0].dataSource", "missing field `s3DataType`"),
            ("[0].count", "expected i64"),
            ("[1].channelName", "expected a string"),
        ] {
            assert!(
                found
                    .iter()
                    .any(|(p, problem)| *p == path && problem.contains(fragment)),
                "{path}: {fragment}\n{text}"
            );
        }
        assert_eq!(
            errors.0.len(),
            6,
            "nothing reported twice or made up:\n{text}"
        );
    }

    #[test]
    fn outputs_are_always_written_and_always_parse() {
        let dir = std::env::temp_dir().join(format!("component-runtime-{}", std::process::id()));
        let paths: Vec<_> = ["a/data", "b/data", "c/data", "d/data"]
            .iter()
            .map(|p| dir.join(p))
            .collect();
        let outputs = [
            OutputValue {
                name: "status",
                ty: InputType::String,
                path: Some(&paths[0]),
                value: Some(Value::from("Completed")),
            },
            OutputValue {
                name: "meta",
                ty: InputType::JsonObject,
                path: Some(&paths[1]),
                value: None,
            },
            OutputValue {
                name: "rules",
                ty: InputType::JsonArray,
                path: Some(&paths[2]),
                value: Some(serde_json::json!([{"x": 1}])),
            },
            OutputValue {
                name: "reason",
                ty: InputType::String,
                path: Some(&paths[3]),
                value: None,
            },
            OutputValue {
                name: "unwanted",
                ty: InputType::String,
                path: None,
                value: None,
            },
        ];
        write_outputs(&outputs).expect("written");
        let read = |i: usize| std::fs::read_to_string(&paths[i]).expect("output file");
        assert_eq!(read(0), "Completed");
        assert_eq!(read(1), "{}");
        assert_eq!(read(2), r#"[{"x":1}]"#);
        assert_eq!(read(3), "");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn wrong_type_deep_inside_names_the_path() {
        #[derive(Debug, Deserialize)]
        struct Outer {
            #[allow(dead_code)]
            inner: Vec<Inner>,
        }
        #[derive(Debug, Deserialize)]
        struct Inner {
            #[allow(dead_code)]
            count: i64,
        }
        let mut reader = InputReader::default();
        let _: Option<Outer> = reader.optional(
            "o",
            InputType::JsonObject,
            Some(r#"{"inner": [{"count": "x"}]}"#),
        );
        let errors = reader.finish().unwrap_err();
        assert_eq!(errors.0[0].path, "inner[0].count");
        assert!(errors.0[0].problem.contains("expected i64"), "{errors}");
    }
}

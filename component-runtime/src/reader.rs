//! Reading the inputs into the generated spec types, every problem collected: the reader
//! keeps going after a bad value so that one run reports every problem, each naming the
//! input, the JSON path inside it and what was expected.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::kfp_type::KfpType;

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
        ty: KfpType,
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
        ty: KfpType,
        raw: Option<&str>,
    ) -> Option<T> {
        let errors_before = self.errors.len();
        let value = self.optional(input, ty, raw);
        if value.is_none() && self.errors.len() == errors_before {
            self.push(
                input,
                String::new(),
                format!("is required: expected a non-empty {}", ty.name()),
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

    /// Ends the reading: `Err` with every problem found, or what `build` makes of the
    /// values read. A required input that is absent or wrong is a problem, so without one
    /// `build` has every required value (the generated `read` marks each with `?`).
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, InputErrors> {
        self.finish()?;
        build().ok_or_else(|| {
            InputErrors(vec![InputError {
                input: "?",
                path: String::new(),
                problem: "a required input was not read".to_owned(),
            }])
        })
    }
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
            reader.optional::<String>("s", KfpType::String, Some("")),
            None
        );
        assert_eq!(
            reader.optional::<bool>("b", KfpType::Bool, Some("False")),
            None
        );
        let object: Option<BTreeMap<String, String>> =
            reader.optional("o", KfpType::JsonObject, Some("{}"));
        assert_eq!(object, None);
        assert_eq!(
            reader.optional::<Vec<Channel>>("a", KfpType::JsonArray, Some("[]")),
            None
        );
        assert_eq!(reader.optional::<i64>("i", KfpType::Integer, None), None);
        // The defaults component.yaml declares are the ones read as absent.
        for ty in [
            KfpType::String,
            KfpType::Integer,
            KfpType::Float,
            KfpType::Bool,
            KfpType::JsonObject,
            KfpType::JsonArray,
        ] {
            let read: Option<serde_json::Value> = reader.optional("n", ty, ty.neutral_default());
            assert_eq!(read, None, "{ty:?}");
        }
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn explicit_zero_and_false_stay_distinct_from_not_set() {
        let mut reader = InputReader::default();
        // Optional Integer and Float inputs have no neutral default (they are passed only
        // when present), so `0` is a value.
        assert_eq!(
            reader.optional("i", KfpType::Integer, Some("0")),
            Some(0_i64)
        );
        assert_eq!(
            reader.optional("f", KfpType::Float, Some("0.0")),
            Some(0.0_f64)
        );
        assert_eq!(reader.optional::<i64>("i", KfpType::Integer, None), None);
        // Inside a document, false and 0 are kept as given.
        let flags: Option<BTreeMap<String, serde_json::Value>> = reader.optional(
            "o",
            KfpType::JsonObject,
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
            reader.optional("b", KfpType::Bool, Some("True")),
            Some(true)
        );
        assert_eq!(
            reader.optional("b", KfpType::Bool, Some("true")),
            Some(true)
        );
        assert_eq!(
            reader.optional("i", KfpType::Integer, Some("3600.0")),
            Some(3600_i64)
        );
        assert_eq!(
            reader.optional("i", KfpType::Integer, Some("3.6e3")),
            Some(3600_i64)
        );
        assert_eq!(
            reader.optional("f", KfpType::Float, Some("0.5")),
            Some(0.5_f64)
        );
        let nested: Option<BTreeMap<String, i64>> =
            reader.optional("o", KfpType::JsonObject, Some(r#"{"count": 2.0}"#));
        assert_eq!(nested, Some(BTreeMap::from([("count".to_owned(), 2)])));
        let float: Option<BTreeMap<String, f64>> =
            reader.optional("o", KfpType::JsonObject, Some(r#"{"ratio": 2}"#));
        assert_eq!(float, Some(BTreeMap::from([("ratio".to_owned(), 2.0)])));
        assert_eq!(reader.finish(), Ok(()));
    }

    #[test]
    fn yaml_is_accepted_for_documents() {
        let mut reader = InputReader::default();
        let channels: Option<Vec<Channel>> =
            reader.optional("c", KfpType::JsonArray, Some("- channelName: train\n"));
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
            KfpType::JsonArray,
            Some(r#"[{"channelName": "train", "RecordWrapperType": "None"}]"#),
        );
        let _: Option<i64> = reader.optional("max", KfpType::Integer, Some("3.5"));
        let _: Option<bool> = reader.optional("flag", KfpType::Bool, Some("yes"));
        let _: Option<Vec<Channel>> =
            reader.optional("list", KfpType::JsonArray, Some("{\"a\": 1}"));
        let _: Option<String> = reader.required("role_arn", KfpType::String, None);
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
            KfpType::JsonArray,
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
            KfpType::JsonObject,
            Some(r#"{"inner": [{"count": "x"}]}"#),
        );
        let errors = reader.finish().unwrap_err();
        assert_eq!(errors.0[0].path, "inner[0].count");
        assert!(errors.0[0].problem.contains("expected i64"), "{errors}");
    }
}

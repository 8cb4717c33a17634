//! Writing a component's output files.

use serde_json::Value;

use crate::kfp_type::KfpType;

/// One output of a component: where KFP wants it and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputValue<'a> {
    pub name: &'static str,
    pub ty: KfpType,
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
            (Some(Value::String(text)), KfpType::String) => text.clone(),
            (Some(value), _) => value.to_string(),
            (None, KfpType::String) => String::new(),
            (None, KfpType::JsonObject) => "{}".to_owned(),
            (None, KfpType::JsonArray) => "[]".to_owned(),
            (None, KfpType::Integer) => "0".to_owned(),
            (None, KfpType::Float) => "0.0".to_owned(),
            (None, KfpType::Bool) => "false".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_outputs_parse_as_their_type_never_null() {
        let content = |ty| {
            OutputValue {
                name: "x",
                ty,
                path: None,
                value: None,
            }
            .content()
        };
        assert_eq!(content(KfpType::Integer), "0");
        assert_eq!(content(KfpType::Float), "0.0");
        assert_eq!(content(KfpType::Bool), "false");
        assert_eq!(content(KfpType::String), "");
        assert_eq!(content(KfpType::JsonObject), "{}");
        assert_eq!(content(KfpType::JsonArray), "[]");
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
                ty: KfpType::String,
                path: Some(&paths[0]),
                value: Some(Value::from("Completed")),
            },
            OutputValue {
                name: "meta",
                ty: KfpType::JsonObject,
                path: Some(&paths[1]),
                value: None,
            },
            OutputValue {
                name: "rules",
                ty: KfpType::JsonArray,
                path: Some(&paths[2]),
                value: Some(serde_json::json!([{"x": 1}])),
            },
            OutputValue {
                name: "reason",
                ty: KfpType::String,
                path: Some(&paths[3]),
                value: None,
            },
            OutputValue {
                name: "unwanted",
                ty: KfpType::String,
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
}

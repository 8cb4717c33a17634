//! The KFP types of component inputs and outputs, and how KFP spells their values on the
//! command line (`kfp-tests/sdk.py` spells them as each SDK does): `True`/`False` or
//! `true`/`false` for booleans, `3600.0` for an integer
//! that went through a float64, JSON with or without spaces, or YAML for hand-written
//! arguments; and the neutral defaults (`''`, `'{}'`, `'[]'`, `'False'`) that mean "not set".

use serde_json::Value;

/// The KFP type of a component input or output, as component.yaml declares it: the types
/// a KFP v1 component.yaml can declare that both SDKs pass by value. The generator
/// (`codegen::component`) decides each input's and output's type; this crate reads and
/// writes values of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KfpType {
    String,
    Integer,
    Float,
    Bool,
    JsonObject,
    JsonArray,
}

impl KfpType {
    /// The name component.yaml uses for this type.
    pub fn name(self) -> &'static str {
        match self {
            KfpType::String => "String",
            KfpType::Integer => "Integer",
            KfpType::Float => "Float",
            KfpType::Bool => "Bool",
            KfpType::JsonObject => "JsonObject",
            KfpType::JsonArray => "JsonArray",
        }
    }

    /// The default component.yaml gives an optional input of this type to mean "not
    /// set", where the type has one; [`crate::InputReader`] reads it as absent. No number can mean
    /// "not set" (any could be meant): an optional Integer or Float is passed only when
    /// present.
    pub fn neutral_default(self) -> Option<&'static str> {
        match self {
            KfpType::String => Some(""),
            KfpType::Bool => Some("False"),
            KfpType::JsonObject => Some("{}"),
            KfpType::JsonArray => Some("[]"),
            KfpType::Integer | KfpType::Float => None,
        }
    }

    /// Reads one argument into JSON, or `None` when it is absent or the neutral default.
    pub(crate) fn read(self, raw: &str) -> Result<Option<Value>, String> {
        match self {
            KfpType::String if raw.is_empty() => Ok(None),
            KfpType::String => Ok(Some(Value::String(raw.to_owned()))),
            KfpType::Bool => match raw.trim() {
                "True" | "true" => Ok(Some(Value::Bool(true))),
                // `False` is the neutral default KFP passes for an unset Bool input.
                "False" | "false" | "" => Ok(None),
                _ => Err(format!(
                    "expected a Bool (True, False, true or false), got `{raw}`"
                )),
            },
            KfpType::Integer => read_integer(raw.trim()),
            KfpType::Float => read_float(raw.trim()),
            KfpType::JsonObject | KfpType::JsonArray => self.read_document(raw),
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
                    self.name()
                )
            })?,
        };
        let value = whole_floats_as_integers(value);
        match (self, &value) {
            (KfpType::JsonObject, Value::Object(map)) if map.is_empty() => Ok(None),
            (KfpType::JsonArray, Value::Array(items)) if items.is_empty() => Ok(None),
            (KfpType::JsonObject, Value::Object(_)) | (KfpType::JsonArray, Value::Array(_)) => {
                Ok(Some(value))
            }
            (_, Value::Null) => Ok(None),
            _ => Err(format!(
                "expected a {}, got {}",
                self.name(),
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

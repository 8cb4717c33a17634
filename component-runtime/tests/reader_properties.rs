//! Properties of the reader under arbitrary input, checked against the generated
//! TrainingJob inputs: reading never panics and either gives a spec or names the input of
//! each problem; every spec the generated types can hold survives being written as KFP
//! spells it and read back.

use std::collections::BTreeMap;

use clap::{Args, Command, FromArgMatches};
use generated::training_job::{TrainingJobInputs, TrainingJobSpec};
use proptest::prelude::*;
use serde_json::Value;

/// The inputs' names, as component.yaml and the flags spell them.
fn input_names() -> Vec<String> {
    TrainingJobInputs::augment_args(Command::new("t"))
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect()
}

/// The inputs as the launcher's command line would carry them.
fn inputs(values: &BTreeMap<String, String>) -> TrainingJobInputs {
    let mut argv = vec!["t".to_owned()];
    for (name, value) in values {
        argv.push(format!("--{name}"));
        argv.push(value.clone());
    }
    let matches = TrainingJobInputs::augment_args(Command::new("t"))
        .try_get_matches_from(argv)
        .expect("every value is accepted as a string");
    TrainingJobInputs::from_arg_matches(&matches).expect("inputs")
}

/// Field names the schema uses, so that arbitrary objects sometimes get close to valid.
const KEYS: &[&str] = &[
    "channelName",
    "dataSource",
    "s3DataSource",
    "s3URI",
    "s3DataType",
    "instanceType",
    "instanceCount",
    "volumeSizeInGB",
    "maxRuntimeInSeconds",
    "trainingImage",
    "trainingInputMode",
    "s3OutputPath",
    "RecordWrapperType",
    "InputMode",
    "key",
    "value",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        proptest::sample::select(KEYS).prop_map(str::to_owned),
        "[a-zA-Z]{1,6}"
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One argument as it could reach the container: any JSON or YAML text, KFP's scalar
/// spellings, or arbitrary bytes (made UTF-8, as a command line is here).
fn any_argument() -> impl Strategy<Value = String> {
    prop_oneof![
        any_json().prop_map(|v| v.to_string()),
        any_json().prop_map(|v| serde_saphyr::to_string(&v).unwrap_or_default()),
        proptest::sample::select(
            &[
                "", "True", "False", "true", "{}", "[]", "3600.0", "1e3", "null", "- a\n- b"
            ][..]
        )
        .prop_map(str::to_owned),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_arguments_give_a_spec_or_name_the_input_of_every_problem(
        values in proptest::collection::btree_map(
            proptest::sample::select(input_names()), any_argument(), 0..26)
    ) {
        let names = input_names();
        match inputs(&values).read() {
            Ok(read) => prop_assert!(!read.region.is_empty()),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for error in &errors.0 {
                    prop_assert!(names.iter().any(|n| n == error.input), "{error}");
                    prop_assert!(!error.problem.is_empty(), "{error}");
                    // A problem inside a document says where; one with the value as a
                    // whole has no path.
                    prop_assert!(!error.path.starts_with('.'), "{error}");
                }
            }
        }
    }
}

/// JSON values the CRD's schema allows at `schema`, which the generated types must hold.
fn from_schema(schema: &Value) -> BoxedStrategy<Value> {
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    match kind {
        "string" => "\\PC{0,10}".prop_map(Value::String).boxed(),
        // Within float64's exact range: KFP v2 carries numbers as float64.
        "integer" => (-(1_i64 << 53)..(1_i64 << 53))
            .prop_map(Value::from)
            .boxed(),
        "number" => any::<f64>()
            .prop_filter_map("finite", |f| {
                serde_json::Number::from_f64(f).map(Value::Number)
            })
            .boxed(),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "array" => {
            let items = from_schema(schema.get("items").unwrap_or(&Value::Null));
            proptest::collection::vec(items, 0..3)
                .prop_map(Value::Array)
                .boxed()
        }
        _ => {
            if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                let values = from_schema(values);
                return proptest::collection::btree_map("[a-zA-Z_]{1,8}", values, 0..3)
                    .prop_map(|map| Value::Object(map.into_iter().collect()))
                    .boxed();
            }
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return Just(Value::Object(serde_json::Map::new())).boxed();
            };
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
                .iter()
                .map(|(key, property)| {
                    let key = key.clone();
                    let value = from_schema(property);
                    if required.contains(&key.as_str()) {
                        value.prop_map(move |v| Some((key.clone(), v))).boxed()
                    } else {
                        proptest::option::weighted(0.4, value)
                            .prop_map(move |v| v.map(|v| (key.clone(), v)))
                            .boxed()
                    }
                })
                .collect();
            fields
                .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
                .boxed()
        }
    }
}

fn spec_schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml"
    );
    let crd: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).expect("CRD")).expect("YAML");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

/// The input that carries a top-level spec field (`roleARN` -> `role_arn`).
fn input_for(key: &str, names: &[String]) -> String {
    let squashed = key.to_lowercase();
    let found: Vec<&String> = names
        .iter()
        .filter(|n| n.replace('_', "") == squashed)
        .collect();
    assert_eq!(found.len(), 1, "{key}: {found:?}");
    found[0].clone()
}

/// Every whole number as a float, as a KFP v2 backend may hand numbers over (`3600.0`).
fn whole_as_float(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_i64() => serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
            .map_or(Value::Number(n.clone()), Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(whole_as_float).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), whole_as_float(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One top-level value as an SDK or backend writes it: v1 (`str()`, `json.dumps`), v2
/// (lower-case booleans, compact JSON, whole numbers as floats) or hand-written YAML.
fn spell(value: &Value, spelling: usize) -> String {
    match (value, spelling) {
        (Value::String(text), _) => text.clone(),
        (Value::Bool(b), 0) => if *b { "True" } else { "False" }.to_owned(),
        (Value::Bool(b), _) => b.to_string(),
        (_, 0) => serde_json::to_string_pretty(value).expect("JSON"),
        (_, 1) => whole_as_float(value).to_string(),
        (_, _) => serde_saphyr::to_string(value).expect("YAML"),
    }
}

/// Whether a top-level value is the neutral default of its input, which means "not set":
/// `""`, `{}`, `[]`, and `False` for a Bool (KFP passes it when the input is not given).
fn neutral(value: &Value) -> bool {
    matches!(value, Value::Bool(false))
        || value.as_str().is_some_and(str::is_empty)
        || value.as_object().is_some_and(serde_json::Map::is_empty)
        || value.as_array().is_some_and(Vec::is_empty)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn every_spec_survives_kfp_spelling_and_reading(
        json in from_schema(&spec_schema()),
        spelling in 0..3_usize,
    ) {
        let spec: TrainingJobSpec = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("the generated types hold what the schema allows: {e}\n{json}"));
        let Value::Object(fields) = serde_json::to_value(&spec).expect("JSON") else {
            panic!("a spec is an object");
        };
        let schema = spec_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // A required input whose value is its neutral default reads as missing, rightly.
        prop_assume!(!fields.iter().any(|(k, v)| required.contains(&k.as_str()) && neutral(v)));
        let names = input_names();
        let mut values = BTreeMap::from([("region".to_owned(), "us-west-2".to_owned())]);
        let mut expected = serde_json::Map::new();
        for (key, value) in &fields {
            let spelled = spell(value, spelling);
            // YAML is hand-written, not a KFP spelling: only values YAML itself carries
            // unchanged (serde-saphyr writes some white-space-only strings plain, which
            // then read back trimmed).
            prop_assume!(
                spelling != 2
                    || value.is_string()
                    || serde_saphyr::from_str::<Value>(&spelled).ok().as_ref() == Some(value)
            );
            values.insert(input_for(key, &names), spelled);
            if !neutral(value) {
                expected.insert(key.clone(), value.clone());
            }
        }
        let read = inputs(&values)
            .read()
            .unwrap_or_else(|e| panic!("{e}\nspelling {spelling} of {}", Value::Object(fields.clone())));
        prop_assert_eq!(read.region, "us-west-2");
        let expected: TrainingJobSpec = serde_json::from_value(Value::Object(expected)).expect("spec");
        prop_assert_eq!(read.spec, expected);
    }
}

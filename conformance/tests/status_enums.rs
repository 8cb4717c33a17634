//! Enums on the status side read values a newer controller may add; spec-side enums stay
//! closed, so a typo in a pipeline's input fails.

use conformance::widget::{Mode, Phase, WidgetStatus};

#[test]
fn an_unlisted_status_value_is_kept_as_other() {
    let status: WidgetStatus =
        serde_json::from_value(serde_json::json!({"phase": "Paused"})).expect("status reads");
    assert_eq!(status.phase, Some(Phase::Other("Paused".to_owned())));
    assert_eq!(
        serde_json::to_value(&status).expect("serialises"),
        serde_json::json!({"phase": "Paused"})
    );
}

#[test]
fn a_listed_status_value_is_its_variant() {
    let status: WidgetStatus =
        serde_json::from_value(serde_json::json!({"phase": "Running"})).expect("status reads");
    assert_eq!(status.phase, Some(Phase::Running));
}

#[test]
fn an_unlisted_spec_value_is_rejected() {
    assert!(serde_json::from_value::<Mode>(serde_json::json!("Turbo")).is_err());
    assert_eq!(
        serde_json::from_value::<Mode>(serde_json::json!("2x")).expect("listed"),
        Mode::V2x
    );
}

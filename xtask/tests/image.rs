//! `component-template/image.toml` is the one place the components' image comes from:
//! `cargo xtask image --set-version` rewrites it and regenerates, changing only `image:`.

mod common;

use std::process::Command;

use common::{repo_root, scratch_copy};

const COMPONENT: &str = "generated/components/training_job/component.yaml";

#[test]
fn the_component_names_the_image_of_image_toml() {
    let root = repo_root();
    let image = xtask::image::ImageConfig::read(&root).expect("image.toml");
    let component = std::fs::read_to_string(root.join(COMPONENT)).expect("component.yaml");
    let line = format!("image: {}", image.reference());
    assert_eq!(
        component.lines().filter(|l| l.trim() == line).count(),
        1,
        "{COMPONENT} should say `{line}`"
    );
}

#[test]
fn set_version_rewrites_image_toml_and_regenerates_only_the_image() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let root = scratch_copy(scratch.path());
    let before = std::fs::read_to_string(root.join(COMPONENT)).expect("component.yaml");
    let old = xtask::image::ImageConfig::read(&root).expect("image.toml");

    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["image", "--set-version", "9.8.7-rc.1"])
        .env("XTASK_PROJECT_ROOT", &root)
        .output()
        .expect("xtask runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let new = xtask::image::ImageConfig::read(&root).expect("image.toml");
    assert_eq!(new.version, "9.8.7-rc.1");
    assert_eq!(
        (&new.repository, &new.source),
        (&old.repository, &old.source)
    );
    let after = std::fs::read_to_string(root.join(COMPONENT)).expect("component.yaml");
    let changed: Vec<_> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .collect();
    assert_eq!(
        changed,
        [(
            format!("    image: {}", old.reference()).as_str(),
            format!("    image: {}:9.8.7-rc.1", old.repository).as_str()
        )]
    );
    assert_eq!(before.lines().count(), after.lines().count());
    // What the bump wrote is what `regenerate --check` expects.
    let plan = xtask::regenerate::plan(&root).expect("plan");
    assert!(
        xtask::regenerate::changes(&root, &plan)
            .expect("changes")
            .is_empty()
    );

    for bad in ["v1.0", "1.0 beta", ""] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["image", "--set-version", bad])
            .env("XTASK_PROJECT_ROOT", &root)
            .output()
            .expect("xtask runs");
        assert!(!out.status.success(), "{bad:?} accepted");
    }
    assert_eq!(
        xtask::image::ImageConfig::read(&root).expect("image.toml"),
        new
    );
}

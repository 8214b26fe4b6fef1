use std::path::Path;
use std::process::{Command, Output};

/// The binary on `args`, with its own empty ImageNet weights folder (so weights a developer
/// downloaded never change what a test trains from) and no mirror.
pub fn nerve_studio(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nerve-studio"))
        .args(args)
        .current_dir(cwd)
        .env("NERVE_STUDIO_WEIGHTS_DIR", cwd.join(".no-imagenet-weights"))
        .env_remove("NERVE_STUDIO_WEIGHTS_URL")
        .output()
        .expect("binary runs")
}

/// The binary run as on a lab's server: no desktop session, no display.
fn headless(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nerve-studio"))
        .args(args)
        .current_dir(cwd)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("binary runs")
}

pub fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
fn demo_info_import_export_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&nerve_studio(
        &[
            "demo", "p", "--images", "16", "--seed", "3", "--size", "160x90",
        ],
        d,
    ));
    let info = ok(&nerve_studio(&["info", "p", "--json"], d));
    assert_eq!(info["images"], 16);
    assert_eq!(info["name"], "p");
    let classes = info["classes"].as_object().unwrap();
    let sum: u64 = classes.values().map(|v| v.as_u64().unwrap()).sum::<u64>()
        + info["no_class"].as_u64().unwrap();
    assert_eq!(sum, 16);
    let splits: u64 = info["splits"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(splits + info["unassigned"].as_u64().unwrap(), 16);
    assert_eq!(info["problems"].as_array().unwrap().len(), 0);
    assert_eq!(info["read_only"], false);

    let human = nerve_studio(&["info", "p"], d);
    assert!(String::from_utf8_lossy(&human.stdout).contains("16 images"));

    let exported = ok(&nerve_studio(
        &["export", "supervisely", "p", "sly", "--json"],
        d,
    ));
    assert_eq!(exported["images"], 16);
    let imported = ok(&nerve_studio(
        &["import", "supervisely", "sly", "q", "--json"],
        d,
    ));
    assert_eq!(imported["images"], 16);
    let again = ok(&nerve_studio(&["info", "q", "--json"], d));
    assert_eq!(again["classes"], info["classes"]);
    assert_eq!(again["splits"], info["splits"]);
    assert_eq!(again["masks"], info["masks"]);

    ok(&nerve_studio(&["export", "masks", "q", "m"], d));
    assert_eq!(
        std::fs::read_dir(d.join("m")).unwrap().count() as u64,
        info["masks"].as_u64().unwrap()
    );
}

#[test]
fn errors_name_the_file_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = nerve_studio(&["info", "nowhere", "--json"], d);
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "errors must not print JSON to stdout"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));

    std::fs::create_dir_all(d.join("src/JPEGImages")).unwrap();
    std::fs::write(d.join("src/JPEGImages/x.jpg"), b"no jpeg").unwrap();
    let out = nerve_studio(&["import", "voc", "src", "dest"], d);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.jpg"));
    assert!(!d.join("dest").exists());

    ok(&nerve_studio(
        &["demo", "p", "--images", "2", "--size", "96x54"],
        d,
    ));
    let out = nerve_studio(&["demo", "p", "--images", "2", "--size", "96x54"], d);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}

#[test]
fn bench_reports_project_open_as_json() {
    let dir = tempfile::tempdir().unwrap();
    // Without a desktop session (no XDG_RUNTIME_DIR, no display), as on a lab's server: the
    // device search (a Vulkan instance) must not print the display layers' complaints.
    let out = headless(
        &["bench", "--json", "--images", "300", "--no-models"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    let report = ok(&out);
    assert!(report["device"].is_string());
    assert!(report["results"].is_array());
    let open = &report["project_open"];
    assert_eq!(open["images"], 300);
    assert!(open["open_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(open["first_screen_thumbnails"], 35);
}

#[test]
fn the_window_without_a_display_says_so_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let out = headless(&["open", "nowhere"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no display"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bench_reports_model_speed_in_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let report = ok(&nerve_studio(
        &[
            "bench",
            "--json",
            "--no-project",
            "--device",
            "cpu",
            "--arch",
            "mu_net",
            "--size",
            "64",
            "--train-batch",
            "2",
        ],
        dir.path(),
    ));
    assert!(report["device"].as_str().unwrap().starts_with("CPU"));
    let results = report["results"].as_array().unwrap();
    let tasks: Vec<&str> = results
        .iter()
        .map(|r| r["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["infer", "train"]);
    for r in results {
        assert_eq!(r["arch"], "mu_net");
        assert_eq!(r["size"], 64);
        assert!(r["ms_per_batch"].as_f64().unwrap() > 0.0);
        let expected = r["batch"].as_f64().unwrap() * 1e3 / r["ms_per_batch"].as_f64().unwrap();
        assert!((r["images_per_s"].as_f64().unwrap() - expected).abs() < 1e-6);
    }
    assert_eq!(results[0]["batch"], 1);
    assert_eq!(results[1]["batch"], 2);
    assert!(report.get("project_open").is_none());
}

#[test]
fn label_sets_class_and_status_of_many_images_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&nerve_studio(
        &[
            "demo", "p", "--images", "12", "--seed", "5", "--size", "96x54",
        ],
        d,
    ));
    let root = d.join("p");
    let unlabeled: Vec<String> = nerve_studio_lib_unlabeled(&root);
    assert!(!unlabeled.is_empty());
    let before = crate::support::tree(&root);

    // The count first, nothing written.
    let dry = ok(&nerve_studio(
        &[
            "label",
            "p",
            "--class",
            "tendon",
            "--status",
            "labeled",
            "--filter",
            "status=unlabeled",
            "--dry-run",
            "--json",
        ],
        d,
    ));
    assert_eq!(dry["images"], unlabeled.len());
    assert_eq!(
        crate::support::tree(&root),
        before,
        "a dry run writes nothing"
    );

    // A class the project does not have: refused, nothing written.
    let out = nerve_studio(
        &[
            "label",
            "p",
            "--class",
            "bone",
            "--filter",
            "status=unlabeled",
        ],
        d,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bone"));
    assert_eq!(crate::support::tree(&root), before);

    let done = ok(&nerve_studio(
        &[
            "label",
            "p",
            "--class",
            "tendon",
            "--status",
            "labeled",
            "--filter",
            "status=unlabeled",
            "--json",
        ],
        d,
    ));
    assert_eq!(done["changed"], unlabeled.len());
    let p = nerve_studio::project::Project::open_read_only(&root).unwrap();
    for s in &unlabeled {
        let e = p.get(s).unwrap();
        assert_eq!(e.label.class.as_deref(), Some("tendon"));
        assert_eq!(e.label.status, nerve_studio::project::Status::Labeled);
    }

    // By a list of stems: the split.
    std::fs::write(d.join("list.txt"), format!("{}\n", unlabeled[0])).unwrap();
    ok(&nerve_studio(
        &["label", "p", "--split", "test", "--stems", "list.txt"],
        d,
    ));
    let test = std::fs::read_to_string(root.join("splits/test.txt")).unwrap();
    assert!(test.lines().any(|l| l == unlabeled[0]));
}

fn nerve_studio_lib_unlabeled(root: &Path) -> Vec<String> {
    nerve_studio::project::Project::open_read_only(root)
        .unwrap()
        .images()
        .iter()
        .filter(|e| e.label.status == nerve_studio::project::Status::Unlabeled)
        .map(|e| e.stem.clone())
        .collect()
}

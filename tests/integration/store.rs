use crate::support::small_demo;
use nerve_studio::mask::Mask;
use nerve_studio::project::lock::current_holder;
use nerve_studio::project::{
    Access, ImageLabel, Manifest, MaskProvenance, Project, ProjectError, Split, Status,
};
use std::process::{Command, Stdio};

#[test]
fn create_open_and_save_label_and_mask() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    let p = Project::create(&root, Manifest::new("p")).unwrap();
    for f in [
        "images",
        "labels",
        "masks",
        "splits",
        "runs",
        "cache",
        "project.toml",
    ] {
        assert!(root.join(f).exists(), "{f} missing");
    }
    assert!(p.images().is_empty());
    drop(p);
    image::RgbImage::new(20, 10)
        .save(root.join("images/a_0001.png"))
        .unwrap();
    let mut p = Project::open(&root).unwrap();
    assert!(!p.is_read_only());
    let mut label = ImageLabel {
        class: Some("tendon".into()),
        status: Status::Reviewed,
        ..Default::default()
    };
    label.touch("tech01");
    p.save_label("a_0001", &label).unwrap();
    let mut m = Mask::empty(20, 10);
    m.set(3, 4, true);
    p.save_mask("a_0001", &m).unwrap();
    assert_eq!(p.assign_splits().unwrap(), 1);
    drop(p);
    let p = Project::open(&root).unwrap();
    let e = p.get("a_0001").unwrap();
    assert_eq!(e.label, label);
    assert!(e.has_mask && e.split.is_some());
    assert_eq!(p.load_mask("a_0001").unwrap().unwrap(), m);
    assert_eq!(e.experiment(), "a");
    assert!(p.check().is_empty(), "{:?}", p.check());
}

#[test]
fn opening_a_folder_without_project_toml_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Project::open(dir.path()).unwrap_err();
    assert!(matches!(err, ProjectError::NotAProject(_)));
    assert!(err.to_string().contains("no project.toml"));
    std::fs::write(dir.path().join("project.toml"), "name = 3").unwrap();
    let err = Project::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("project.toml"), "{err}");
}

#[test]
fn a_second_copy_opens_read_only_and_cannot_write() {
    let (_dir, root) = small_demo(4, 1);
    let first = Project::open(&root).unwrap();
    assert!(!first.is_read_only());
    let mut second = Project::open(&root).unwrap();
    assert!(second.is_read_only());
    let stem = second.images()[0].stem.clone();
    let before = std::fs::read(root.join(format!("labels/{stem}.json"))).unwrap();
    let err = second
        .save_label(&stem, &ImageLabel::default())
        .unwrap_err();
    assert!(matches!(err, ProjectError::ReadOnly(_)), "{err}");
    assert_eq!(
        std::fs::read(root.join(format!("labels/{stem}.json"))).unwrap(),
        before
    );
    drop(first);
    drop(second);
    assert!(!Project::open(&root).unwrap().is_read_only());
}

#[test]
fn lock_of_a_killed_process_is_taken_over() {
    let (_dir, root) = small_demo(2, 2);
    // Another process holds the project's lock, as a running Nerve Studio would.
    let lock = root.join(".nerve-studio.lock");
    std::fs::write(&lock, "").unwrap();
    let mut holder = Command::new("flock")
        .args(["-x", "-o"])
        .arg(&lock)
        .args(["sleep", "60"])
        .stdout(Stdio::null())
        .spawn()
        .expect("flock(1) from util-linux");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while current_holder(&root).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other process never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // What that process would have written about itself.
    std::fs::write(&lock, r#"{"pid": 4242, "user": "tech", "host": "bench"}"#).unwrap();
    match Project::open(&root).unwrap().access() {
        Access::ReadOnly { held_by } => assert_eq!(held_by.pid, 4242),
        Access::ReadWrite(_) => panic!("opened for writing while another process holds the lock"),
    }
    holder.kill().unwrap(); // SIGKILL: no chance to clean up
    holder.wait().unwrap();
    let p = Project::open(&root).unwrap();
    match p.access() {
        Access::ReadWrite(lock) => {
            assert_eq!(lock.took_over_from.as_ref().map(|o| o.pid), Some(4242))
        }
        Access::ReadOnly { held_by } => panic!("still locked by {held_by}"),
    }
}

#[test]
fn unreadable_label_is_reported_and_left_untouched() {
    let (_dir, root) = small_demo(3, 3);
    let stem = Project::open(&root).unwrap().images()[0].stem.clone();
    let path = root.join(format!("labels/{stem}.json"));
    std::fs::write(&path, b"{ not json").unwrap();
    let p = Project::open(&root).unwrap();
    assert_eq!(p.get(&stem).unwrap().label.status, Status::Unlabeled);
    let problems = p.check();
    assert!(
        problems
            .iter()
            .any(|q| q.file == format!("labels/{stem}.json")),
        "{problems:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");
}

#[test]
fn check_finds_wrong_size_and_grey_masks_and_strays() {
    let (_dir, root) = small_demo(4, 4);
    let p = Project::open(&root).unwrap();
    let with_mask: Vec<String> = p
        .images()
        .iter()
        .filter(|e| e.has_mask)
        .map(|e| e.stem.clone())
        .collect();
    drop(p);
    image::GrayImage::new(5, 5)
        .save(root.join(format!("masks/{}.png", with_mask[0])))
        .unwrap();
    image::GrayImage::from_pixel(192, 108, image::Luma([128]))
        .save(root.join(format!("masks/{}.png", with_mask[1])))
        .unwrap();
    std::fs::write(root.join("masks/ghost.png"), b"x").unwrap();
    std::fs::write(root.join("splits/test.txt"), "nobody\n").unwrap();
    let problems = Project::open(&root).unwrap().check();
    let text = format!("{problems:?}");
    assert!(
        text.contains("mask is 5x5 but its image is 192x108"),
        "{text}"
    );
    assert!(text.contains("values other than 0 and 255"), "{text}");
    assert!(text.contains("masks/ghost.png"), "{text}");
    assert!(text.contains("splits/test.txt"), "{text}");
}

#[test]
fn splits_are_stable_when_images_are_added() {
    let (_dir, root) = small_demo(20, 5);
    let p = Project::open(&root).unwrap();
    let before: Vec<(String, Option<Split>)> = p
        .images()
        .iter()
        .map(|e| (e.stem.clone(), e.split))
        .collect();
    assert!(before.iter().all(|(_, s)| s.is_some()));
    drop(p);
    for i in 0..10 {
        image::RgbImage::new(192, 108)
            .save(root.join(format!("images/new_{i:04}.png")))
            .unwrap();
    }
    let mut p = Project::open(&root).unwrap();
    assert_eq!(p.assign_splits().unwrap(), 10);
    for (stem, split) in &before {
        assert_eq!(p.get(stem).unwrap().split, *split, "{stem} moved");
    }
    let trainval = std::fs::read_to_string(root.join("splits/trainval.txt")).unwrap();
    let train = std::fs::read_to_string(root.join("splits/train.txt")).unwrap();
    assert_eq!(
        trainval.lines().count(),
        train.lines().count()
            + std::fs::read_to_string(root.join("splits/val.txt"))
                .unwrap()
                .lines()
                .count()
    );
}

#[test]
fn provenance_names_match_the_design() {
    assert_eq!(MaskProvenance::PredictedEdited.name(), "predicted+edited");
}

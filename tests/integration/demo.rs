use crate::support::{small_demo, tree};
use nerve_studio::project::demo::{self, DemoOptions};
use nerve_studio::project::{Project, Status};

#[test]
fn demo_is_deterministic_for_a_seed() {
    let (_a, ra) = small_demo(12, 7);
    let (_b, rb) = small_demo(12, 7);
    let (_c, rc) = small_demo(12, 8);
    let ta = tree(&ra);
    assert_eq!(ta, tree(&rb), "same seed, different bytes");
    assert_ne!(
        folder_bytes(&ta, "images"),
        folder_bytes(&tree(&rc), "images")
    );
}

fn folder_bytes(t: &std::collections::BTreeMap<String, Vec<u8>>, f: &str) -> Vec<Vec<u8>> {
    t.iter()
        .filter(|(k, _)| k.starts_with(f))
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn demo_has_the_three_classes_in_dated_sequences_with_exact_masks() {
    let (_d, root) = small_demo(60, 42);
    let p = Project::open(&root).unwrap();
    let c = p.counts();
    assert_eq!(c.images, 60);
    assert_eq!(c.experiments, 3);
    for class in ["nerve", "opening wound", "tendon"] {
        assert!(c.classes[class] >= 5, "too few {class}: {:?}", c.classes);
    }
    assert!(c.status["unlabeled"] > 0 && c.status["reviewed"] > 0);
    assert_eq!(c.unassigned, 0);
    assert!(p.check().is_empty(), "{:?}", p.check());
    for e in p.images() {
        assert!(
            e.label
                .experiment
                .as_deref()
                .is_some_and(|x| x.starts_with("2021-"))
        );
        let mask = p.load_mask(&e.stem).unwrap();
        match (e.label.status, e.label.class.as_deref()) {
            (Status::Unlabeled, _) => assert!(mask.is_none()),
            (_, Some("nerve")) => {
                assert!(mask.unwrap().count() > 0, "{} nerve without mask", e.stem)
            }
            (_, Some(_)) => assert!(mask.unwrap().is_empty(), "{} has nerve pixels", e.stem),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Frames are numbered in order within each experiment.
    let mut frames: Vec<(String, u32)> = p
        .images()
        .iter()
        .map(|e| (e.label.experiment.clone().unwrap(), e.label.frame.unwrap()))
        .collect();
    let sorted = {
        let mut s = frames.clone();
        s.sort();
        s
    };
    frames.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(frames, sorted);
}

#[test]
fn demo_refuses_a_folder_that_holds_something() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
    let err = demo::generate(
        dir.path(),
        &DemoOptions {
            images: 2,
            width: 96,
            height: 54,
            seed: 1,
        },
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "keep me"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().contains(".staging-")
                && e.path().starts_with(dir.path())
        })
        .collect();
    assert!(leftovers.is_empty());
}

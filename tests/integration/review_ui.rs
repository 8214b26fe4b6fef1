//! The Review screen driven as a clinician would, through iced_test, on a demo project with a
//! small trained segmenter and classifier: the worst image comes first, a key accepts the
//! prediction (the mask file changes, provenance says predicted), one image is flagged with a
//! comment, a confusion-matrix cell opens exactly its images, Edit opens Annotate, the report
//! records the decisions; the linked view plays an experiment and exports it.

use crate::support::small_demo;
use crate::window::{click, ctrl_key, key, open_window, settle, settle_deep, shows};
use nerve_studio::gui::screens::review::{self, Tab};
use nerve_studio::gui::{App, Message, Screen, State};
use nerve_studio::ml::device;
use nerve_studio::ml::train::train_small;
use nerve_studio::project::{MaskProvenance, Project, Status};
use nerve_studio::review::linked::{self, Linked};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Trains a tiny model with `recipe` and makes it the active one; returns its run id.
fn trained(project: &Path, name: &str, size: usize, epochs: usize) -> String {
    let outcome = train_small(project, name, size, epochs, &device::cpu()).unwrap();
    nerve_studio::ml::registry::activate(project, &outcome.run.id).unwrap();
    outcome.run.id
}

fn label_json(root: &Path, stem: &str) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root.join(format!("labels/{stem}.json"))).unwrap(),
    )
    .unwrap()
}

fn current_stem(app: &App) -> String {
    app.review()
        .unwrap()
        .current()
        .expect("an image is shown")
        .stem
        .clone()
}

#[test]
fn review_worst_first_accept_flag_confusion_cell_edit_report_and_linked_view() {
    let (dir, root) = small_demo(36, 71);
    let segmenter = trained(&root, "mu_net", 32, 2);
    let classifier = trained(&root, "mobilenet_v2", 32, 1);

    let mut app = open_window(&root);
    assert!(matches!(app.state, State::Ready { .. }));

    // Open Review: the active runs are chosen, predictions made, every image scored.
    let task = click(&mut app, "Review");
    settle_deep(&mut app, task);
    assert_eq!(app.screen, Screen::Review);
    assert_eq!(app.review().unwrap().error, None);
    let table = app
        .review()
        .unwrap()
        .table
        .clone()
        .expect("the review was built");
    assert_eq!(table.models.segmenter.as_deref(), Some(segmenter.as_str()));
    assert_eq!(
        table.models.classifier.as_deref(),
        Some(classifier.as_str())
    );

    // The worst image comes first: no scored image has a lower IoU, and the queue climbs.
    let worst = table
        .rows
        .iter()
        .filter_map(|r| r.iou())
        .fold(f64::INFINITY, f64::min);
    let first = app.review().unwrap().current().unwrap().clone();
    assert_eq!(first.iou(), Some(worst));
    let ious: Vec<f64> = app
        .review()
        .unwrap()
        .queue
        .iter()
        .filter_map(|&i| table.rows[i].iou())
        .collect();
    assert!(ious.windows(2).all(|w| w[0] <= w[1]), "{ious:?}");
    assert!(first.has_mask && worst < 1.0);
    // Its three pictures are there, the same size as the photo, and its scores are shown.
    let panes = app
        .review()
        .unwrap()
        .panes
        .as_ref()
        .expect("the side-by-side pictures");
    assert_eq!(panes.stem, first.stem);
    assert!(shows(&app, "Ground truth") && shows(&app, "Difference"));
    assert!(shows(&app, &format!("IoU {worst:.3}")));
    assert!(shows(&app, "clDice"));

    // Accept with the A key: the mask file becomes the prediction, provenance "predicted",
    // status reviewed; the old mask is kept; the decision is recorded.
    let stem = first.stem.clone();
    let mask_path = root.join(format!("masks/{stem}.png"));
    let before = std::fs::read(&mask_path).unwrap();
    let first_label = label_json(&root, &stem);
    let task = key(&mut app, "a");
    settle_deep(&mut app, task);
    let after = std::fs::read(&mask_path).unwrap();
    assert_ne!(before, after, "the mask file changed");
    let label = label_json(&root, &stem);
    assert_eq!(label["mask"], "predicted");
    assert_eq!(label["status"], "reviewed");
    let kept = root.join(format!("runs/{segmenter}/review/replaced-masks/{stem}.png"));
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        before,
        "the replaced mask is kept"
    );
    let accepted_row = app
        .review()
        .unwrap()
        .table
        .as_ref()
        .unwrap()
        .row(&stem)
        .unwrap();
    assert_eq!(
        accepted_row.iou(),
        Some(1.0),
        "the truth is now the prediction"
    );
    // The window's project knows it too (Browse and Annotate show it).
    if let State::Ready { project, .. } = &app.state {
        assert_eq!(
            project.get(&stem).unwrap().label.mask,
            Some(MaskProvenance::Predicted)
        );
    }
    let on_disk = Project::open_read_only(&root).unwrap();
    assert_eq!(on_disk.get(&stem).unwrap().label.status, Status::Reviewed);
    // The decision moved the review on to the next image.
    assert_ne!(current_stem(&app), stem);

    // Ctrl+Z takes it back: the old mask byte for byte, the old label, the old scores.
    let label_before_accept = first_label;
    let task = ctrl_key(&mut app, "z");
    settle_deep(&mut app, task);
    assert_eq!(
        std::fs::read(&mask_path).unwrap(),
        before,
        "the mask is back"
    );
    assert_eq!(
        label_json(&root, &stem),
        label_before_accept,
        "the label is back"
    );
    assert_eq!(current_stem(&app), stem, "the undone image is shown again");
    assert_eq!(app.review().unwrap().current().unwrap().iou(), Some(worst));
    if let State::Ready { project, .. } = &app.state {
        let restored: nerve_studio::project::ImageLabel =
            serde_json::from_value(label_before_accept.clone()).unwrap();
        assert_eq!(project.get(&stem).unwrap().label, restored);
    }
    assert!(shows(&app, "undone"));

    // Flag with a comment typed into the box: it moves on to the next image.
    let task = click(&mut app, "Next");
    settle_deep(&mut app, task);
    let flagged = current_stem(&app);
    assert_ne!(flagged, stem);
    drop(click(&mut app, "Flag… (F)"));
    assert!(app.review().unwrap().flagging.is_some());
    let typed: Vec<Message> = {
        let mut ui = iced_test::simulator(app.view());
        ui.click(iced_test::selector::id("review-comment")).unwrap();
        ui.typewrite("nerve edge unclear");
        ui.into_messages().collect()
    };
    for m in typed {
        drop(app.update(m));
    }
    assert_eq!(
        app.review().unwrap().flagging.as_deref(),
        Some("nerve edge unclear")
    );
    let task = click(&mut app, "Flag");
    settle_deep(&mut app, task);
    assert_ne!(current_stem(&app), flagged, "flagging moved on");
    let label = label_json(&root, &flagged);
    assert_eq!(label["status"], "flagged");
    assert_eq!(label["comment"], "nerve edge unclear");
    let log = std::fs::read_to_string(root.join(format!("runs/{segmenter}/review/decisions.json")))
        .unwrap();
    assert!(
        log.contains("\"accepted_mask\"") && log.contains("\"flagged\""),
        "{log}"
    );
    assert!(log.contains("nerve edge unclear"));
    assert!(log.contains("\"undone\""), "{log}");

    // The flagged image, then Edit: the log keeps both decisions, and Esc in Annotate comes
    // back to Review.
    let pos = app
        .review()
        .unwrap()
        .queue
        .iter()
        .position(|&i| app.review().unwrap().table.as_ref().unwrap().rows[i].stem == flagged)
        .unwrap();
    let task = app.update(Message::Review(review::Message::Select(pos)));
    settle_deep(&mut app, task);
    let task = key(&mut app, "e");
    settle(&mut app, task);
    assert_eq!(app.screen, Screen::Images);
    let task = click(&mut app, "← Browse");
    settle_deep(&mut app, task);
    assert_eq!(app.screen, Screen::Review, "Esc returns to Review");
    let log: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root.join(format!("runs/{segmenter}/review/decisions.json")))
            .unwrap(),
    )
    .unwrap();
    let of_flagged: Vec<&str> = log
        .iter()
        .filter(|d| d["stem"] == flagged.as_str())
        .map(|d| d["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(of_flagged, ["flagged", "edited"], "{log:?}");

    // C accepts the classifier's call as the class of an image it disagrees with (or an
    // unlabeled one); its mask stays.
    let t = app.review().unwrap().table.as_ref().unwrap();
    let pos = app
        .review()
        .unwrap()
        .queue
        .iter()
        .position(|&i| {
            let r = &t.rows[i];
            r.call().is_some_and(|c| Some(c.0) != r.truth) && r.stem != stem && r.stem != flagged
        })
        .expect("an image whose class the classifier would change");
    let task = app.update(Message::Review(review::Message::Select(pos)));
    settle_deep(&mut app, task);
    let row = app.review().unwrap().current().unwrap().clone();
    let (call, _) = row.call().expect("a classifier call");
    let class_name = app.review().unwrap().table.as_ref().unwrap().classes[call].clone();
    let mask_before = std::fs::read(root.join(format!("masks/{}.png", row.stem))).ok();
    let task = key(&mut app, "c");
    settle_deep(&mut app, task);
    let label = label_json(&root, &row.stem);
    assert_eq!(label["class"], class_name.as_str());
    assert_eq!(label["status"], "reviewed");
    assert_eq!(
        std::fs::read(root.join(format!("masks/{}.png", row.stem))).ok(),
        mask_before
    );

    // The summary's confusion matrix: a cell opens exactly the images labeled t and called c,
    // as the classifier's own scores.csv says.
    let task = click(&mut app, "Summary");
    settle_deep(&mut app, task);
    assert!(shows(&app, "Confusion matrix"));
    assert!(shows(&app, "mean [95 % CI]"));
    let scores =
        std::fs::read_to_string(root.join(format!("cache/predictions/{classifier}/scores.csv")))
            .unwrap();
    let table = app.review().unwrap().table.clone().unwrap();
    let on_disk = Project::open_read_only(&root).unwrap();
    let mut cells: std::collections::BTreeMap<(usize, usize), Vec<String>> = Default::default();
    for line in scores.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let p: Vec<f64> = f[3..].iter().map(|v| v.parse().unwrap()).collect();
        let called = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        let e = on_disk.get(f[0]).unwrap();
        if !matches!(e.label.status, Status::Labeled | Status::Reviewed) {
            continue;
        }
        let Some(t) = e
            .label
            .class
            .as_deref()
            .and_then(|c| table.classes.iter().position(|k| k == c))
        else {
            continue;
        };
        cells.entry((t, called)).or_default().push(f[0].to_string());
    }
    let (&(t, c), expected) = cells
        .iter()
        .find(|((t, c), _)| t != c)
        .or_else(|| cells.iter().next())
        .expect("some labeled image");
    let task = app.update(Message::Review(review::Message::Cell(t, c)));
    settle_deep(&mut app, task);
    assert_eq!(app.review().unwrap().tab, Tab::Images);
    let mut opened: Vec<String> = app
        .review()
        .unwrap()
        .queue
        .iter()
        .map(|&i| table.rows[i].stem.clone())
        .collect();
    opened.sort();
    let mut expected = expected.clone();
    expected.sort();
    assert_eq!(opened, expected, "cell ({t}, {c})");
    assert!(shows(&app, "Show all"));

    // Edit opens Annotate on the image shown.
    let shown = current_stem(&app);
    let task = click(&mut app, "Edit in Annotate (E)");
    settle(&mut app, task);
    assert_eq!(app.screen, Screen::Images);
    match app.annotate() {
        Some(a) => assert_eq!(a.current(), shown),
        _ => panic!("Annotate is not open"),
    }

    // Back to Review: the report records the decisions.
    let task = click(&mut app, "Review");
    settle_deep(&mut app, task);
    let task = click(&mut app, "Write review report");
    settle_deep(&mut app, task);
    let report =
        std::fs::read_to_string(root.join(format!("runs/{segmenter}/review/report.md"))).unwrap();
    for wanted in [
        stem.as_str(),
        flagged.as_str(),
        "accepted mask",
        "accepted class",
        "flagged",
        "edited",
        "nerve edge unclear",
        "## Segmentation",
        "## Classification",
        "iou_histogram.png",
    ] {
        assert!(
            report.contains(wanted),
            "the report lacks {wanted:?}:\n{report}"
        );
    }
    assert!(
        root.join(format!("runs/{segmenter}/review/confusion.png"))
            .exists()
    );

    // The linked view plays an experiment's frames in order, with their speed.
    let task = click(&mut app, "Linked view");
    settle_deep(&mut app, task);
    let experiment = app
        .review()
        .unwrap()
        .linked
        .experiment
        .clone()
        .expect("an experiment");
    let frames = app
        .review()
        .unwrap()
        .linked
        .experiments
        .iter()
        .find(|(e, _)| *e == experiment)
        .unwrap()
        .1;
    let task = click(&mut app, "Play");
    settle_deep(&mut app, task);
    assert_eq!(app.review().unwrap().linked.error, None);
    assert_eq!(app.review().unwrap().linked.frames.len(), frames);
    let order: Vec<usize> = app
        .review()
        .unwrap()
        .linked
        .frames
        .iter()
        .map(|f| f.index)
        .collect();
    assert_eq!(order, (0..frames).collect::<Vec<_>>());
    assert!(shows(&app, "ms/frame"));
    drop(dir);
}

#[test]
fn the_linked_view_exports_a_gif_and_png_frames_in_chronological_order() {
    let (_dir, root) = small_demo(24, 73);
    let segmenter = trained(&root, "mu_net", 32, 1);
    let classifier = trained(&root, "mobilenet_v2", 32, 1);
    let project = Project::open_read_only(&root).unwrap();
    let (experiment, count) = linked::experiments(&project)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    let frames: Vec<String> = linked::sequence(&project, &experiment)
        .iter()
        .map(|e| e.stem.clone())
        .collect();
    let numbers: Vec<Option<u32>> = linked::sequence(&project, &experiment)
        .iter()
        .map(|e| e.label.frame)
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{numbers:?}");
    let models = Linked::load(&root, Some(&classifier), &segmenter, device::cpu()).unwrap();
    let out: PathBuf = root.join("export");
    let report = linked::export(&root, &models, &experiment, &out, &mut |_, _| {}).unwrap();
    assert_eq!(report.frames, count);
    assert!(report.mean_ms > 0.0 && report.frames_per_s > 0.0);
    let mut written: Vec<String> = std::fs::read_dir(out.join("frames"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let expected: Vec<String> = frames
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:04}_{s}.png", i + 1))
        .collect();
    assert_eq!(written, expected);
    // The GIF decodes, with one frame per image.
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(&report.video).unwrap());
    let gif = image::codecs::gif::GifDecoder::new(file).unwrap();
    assert_eq!(gif.into_frames().count(), count);
    let first = image::open(out.join("frames").join(&expected[0])).unwrap();
    assert!(first.width() <= linked::DISPLAY_WIDTH);
}

#[test]
fn a_prediction_pass_stops_between_batches_and_keeps_what_it_wrote() {
    let (_dir, root) = small_demo(80, 9);
    let segmenter = trained(&root, "mu_net", 32, 1);
    let everything = |_: &nerve_studio::project::ImageEntry| true;
    let stop = AtomicBool::new(false);
    let result = nerve_studio::ml::predict::predict_where(
        &root,
        &segmenter,
        ("all", &everything),
        &device::cpu(),
        &stop,
        &mut |done, _| {
            if done > 0 {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
    );
    assert!(
        matches!(result, Err(nerve_studio::ml::Error::Stopped)),
        "{result:?}"
    );
    let maps = || {
        std::fs::read_dir(nerve_studio::ml::predict::predictions_dir(
            &root, &segmenter,
        ))
        .unwrap()
        .count()
    };
    // The first batch of 32 was written, and nothing after the stop.
    assert_eq!(maps(), 32);
    // Stopped from Review's side it is `Stopped` there too, so the screen says nothing.
    let review_error: nerve_studio::review::Error = nerve_studio::ml::Error::Stopped.into();
    assert!(matches!(review_error, nerve_studio::review::Error::Stopped));
    let whole =
        nerve_studio::ml::predict::predict(&root, &segmenter, None, &device::cpu(), &mut |_, _| {})
            .unwrap();
    assert_eq!(whole.images, 80);
    assert_eq!(maps(), 80);
}

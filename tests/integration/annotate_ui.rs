//! The Annotate screen driven as a person would, through iced_test: a class key, a brush drag
//! on the canvas, Undo and Redo buttons, the next-image key; the files on disk follow.

use crate::support::{Shared, run_task, small_demo};
use iced::mouse::{self, Button};
use iced::{Event, Point};
use iced_test::simulator;
use nerve_studio::gui::screens::annotate::{Action, Annotate, Message, Request, SaveOutcome};
use nerve_studio::gui::screens::browse::Browse;
use nerve_studio::gui::write_save;
use nerve_studio::mask::{Mask, read_mask};
use nerve_studio::project::{MaskProvenance, Project, Status};
use std::time::{Duration, Instant};

/// Carries out what the screen asks as the app does: its loads run, saves are written for
/// real, and the messages go back to it.
fn perform(a: &mut Annotate, project: &mut Project, action: Action) {
    let mut messages = run_task(action.task);
    for request in action.requests {
        if let Request::Save(job) = request {
            let result = write_save(&job, project);
            if result.is_ok() {
                project.record_saved(&job.stem, job.label.clone(), job.mask.is_some());
            }
            messages.push(Message::Saved(SaveOutcome {
                wrote_mask: job.mask.is_some(),
                stem: job.stem,
                revision: job.revision,
                label: job.label,
                result,
            }));
        }
    }
    for m in messages {
        let shared = Shared::default();
        let next = a.update(m, &shared.ctx(project));
        perform(a, project, next);
    }
}

/// Runs `interact` on the screen's widgets and feeds the resulting messages to the screen.
fn interact(
    a: &mut Annotate,
    project: &mut Project,
    interact: impl FnOnce(&mut iced_test::Simulator<'_, Message>),
) -> Vec<Message> {
    let shared = Shared::default();
    let messages: Vec<Message> = {
        let ctx = shared.ctx(project);
        let mut ui = simulator(a.view(&ctx));
        interact(&mut ui);
        ui.into_messages().collect()
    };
    for m in messages.clone() {
        let action = a.update(m, &shared.ctx(project));
        perform(a, project, action);
    }
    messages
}

/// Time passes: the autosave fires.
fn wait_a_second(a: &mut Annotate, project: &mut Project) {
    let shared = Shared::default();
    let tick = Message::Tick(Instant::now() + Duration::from_secs(1));
    let action = a.update(tick, &shared.ctx(project));
    perform(a, project, action);
}

/// The Browse order of `project` and an Annotate screen on `stem`, loaded.
fn annotate(project: &mut Project, stem: &str) -> (Vec<String>, Annotate) {
    let shared = Shared::default();
    let ctx = shared.ctx(project);
    let (browse, _) = Browse::new(&ctx, None);
    let order = browse.order(project);
    let (a, action) = Annotate::new(&ctx, order.clone(), stem.to_string(), Vec::new());
    let mut a = a;
    perform(&mut a, project, action);
    (order, a)
}

fn moved(p: Point) -> Event {
    Event::Mouse(mouse::Event::CursorMoved { position: p })
}

#[test]
fn class_key_brush_drag_undo_redo_and_next_image_reach_the_disk() {
    let (_d, root) = small_demo(12, 41);
    let mut project = Project::open(&root).unwrap();
    // A tendon frame: labeled, with an empty mask, so every painted pixel is ours.
    let stem = project
        .images()
        .iter()
        .find(|e| e.label.class.as_deref() == Some("tendon") && e.has_mask)
        .unwrap()
        .stem
        .clone();
    let original_mask = std::fs::read(project.mask_path(&stem)).unwrap();
    let (order, mut a) = annotate(&mut project, &stem);
    assert!(a.mask().is_some(), "the image loaded");

    // The canvas learns its size (and fits the image) from the first pointer movement.
    interact(&mut a, &mut project, |ui| {
        ui.point_at(Point::new(400.0, 400.0));
        ui.simulate([moved(Point::new(400.0, 400.0))]);
    });

    // Key 2: opening wound.
    let m = interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("2".into()));
    });
    assert!(!m.is_empty(), "the key reached the canvas");
    assert_eq!(a.label().class.as_deref(), Some("opening wound"));
    assert!(a.has_unsaved());

    // A brush drag across the canvas.
    let (p1, p2) = (Point::new(300.0, 380.0), Point::new(500.0, 420.0));
    let messages = interact(&mut a, &mut project, |ui| {
        ui.point_at(p1);
        ui.simulate([
            moved(p1),
            Event::Mouse(mouse::Event::ButtonPressed(Button::Left)),
        ]);
        ui.point_at(p2);
        ui.simulate([moved(p2)]);
        ui.simulate([Event::Mouse(mouse::Event::ButtonReleased(Button::Left))]);
    });
    let (start, end) = match (
        messages.iter().find_map(|m| {
            if let Message::StrokeStart(p) = m {
                Some(*p)
            } else {
                None
            }
        }),
        messages.iter().find_map(|m| {
            if let Message::StrokeTo(p) = m {
                Some(*p)
            } else {
                None
            }
        }),
    ) {
        (Some(s), Some(e)) => (s, e),
        _ => panic!("no stroke from the drag: {messages:?}"),
    };
    let painted = a.mask().unwrap().clone();
    let mid = ((start.x + end.x) / 2.0, (start.y + end.y) / 2.0);
    assert!(
        painted.get(mid.0 as u32, mid.1 as u32),
        "the middle of the drag is painted (no gap)"
    );
    assert!(painted.count() > 100);
    assert!(painted.as_bytes().iter().all(|&v| v == 0 || v == 255));

    wait_a_second(&mut a, &mut project);
    assert!(!a.has_unsaved(), "{}", a.save_state());
    assert_eq!(read_mask(&project.mask_path(&stem)).unwrap(), painted);
    let label: nerve_studio::project::ImageLabel =
        serde_json::from_slice(&std::fs::read(project.label_path(&stem)).unwrap()).unwrap();
    assert_eq!(label.class.as_deref(), Some("opening wound"));
    assert_eq!(label.mask, Some(MaskProvenance::Drawn));
    assert_eq!(label.status, Status::Labeled);

    // Undo, saved: the file is the original again, byte for byte. Redo brings the stroke back.
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    wait_a_second(&mut a, &mut project);
    assert_eq!(
        std::fs::read(project.mask_path(&stem)).unwrap(),
        original_mask
    );
    interact(&mut a, &mut project, |ui| {
        ui.click("Redo").unwrap();
    });
    wait_a_second(&mut a, &mut project);
    assert_eq!(read_mask(&project.mask_path(&stem)).unwrap(), painted);

    // D: the next image in Browse's order; A: back, where undo still knows the stroke.
    interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("d".into()));
    });
    let i = order.iter().position(|s| *s == stem).unwrap();
    assert_eq!(a.current(), order[(i + 1).min(order.len() - 1)]);
    interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("a".into()));
    });
    assert_eq!(a.current(), stem);
    assert_eq!(a.mask().unwrap(), &painted);
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    assert_eq!(
        a.mask().unwrap(),
        &Mask::empty(painted.width(), painted.height())
    );
}

#[test]
fn a_failed_save_is_shown_and_the_edit_kept_until_it_can_be_written() {
    let (_d, root) = small_demo(4, 42);
    let mut project = Project::open(&root).unwrap();
    let stem = project.images()[0].stem.clone();
    let (_, mut a) = annotate(&mut project, &stem);
    // The labels folder cannot be written (as on a full or read-only disk).
    let labels = root.join("labels");
    let blocked = root.join("labels-away");
    std::fs::rename(&labels, &blocked).unwrap();
    std::fs::write(&labels, b"not a folder").unwrap();
    interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("3".into()));
    });
    wait_a_second(&mut a, &mut project);
    assert!(
        a.save_state().starts_with("Not saved"),
        "{}",
        a.save_state()
    );
    assert!(a.has_unsaved());
    assert_eq!(
        a.label().class.as_deref(),
        Some("tendon"),
        "the edit is kept in memory"
    );
    // The disk recovers; the retry writes it.
    std::fs::remove_file(&labels).unwrap();
    std::fs::rename(&blocked, &labels).unwrap();
    let shared = Shared::default();
    let tick = Message::Tick(Instant::now() + Duration::from_secs(5));
    let action = a.update(tick, &shared.ctx(&project));
    perform(&mut a, &mut project, action);
    assert!(!a.has_unsaved(), "{}", a.save_state());
    let label: nerve_studio::project::ImageLabel =
        serde_json::from_slice(&std::fs::read(project.label_path(&stem)).unwrap()).unwrap();
    assert_eq!(label.class.as_deref(), Some("tendon"));
}

/// A key with Ctrl held, as the keyboard sends it.
fn ctrl(c: &str) -> Event {
    use iced::keyboard::{self, Key, Location, Modifiers, key::NativeCode, key::Physical};
    Event::Keyboard(keyboard::Event::KeyPressed {
        key: Key::Character(c.into()),
        modified_key: Key::Character(c.into()),
        physical_key: Physical::Unidentified(NativeCode::Unidentified),
        location: Location::Standard,
        modifiers: Modifiers::CTRL,
        text: None,
        repeat: false,
    })
}

#[test]
fn ctrl_s_saves_at_once_and_ctrl_z_undoes_a_fill() {
    let (_d, root) = small_demo(6, 43);
    let mut project = Project::open(&root).unwrap();
    let stem = project
        .images()
        .iter()
        .find(|e| e.label.class.as_deref() == Some("opening wound") && e.has_mask)
        .unwrap()
        .stem
        .clone();
    let (_, mut a) = annotate(&mut project, &stem);
    interact(&mut a, &mut project, |ui| {
        ui.point_at(Point::new(400.0, 400.0));
        ui.simulate([moved(Point::new(400.0, 400.0))]);
    });
    // F, then a click: the empty mask is one background region, so the fill covers it all.
    interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("f".into()));
    });
    interact(&mut a, &mut project, |ui| {
        ui.point_at(Point::new(400.0, 400.0));
        ui.simulate([
            moved(Point::new(400.0, 400.0)),
            Event::Mouse(mouse::Event::ButtonPressed(Button::Left)),
        ]);
    });
    let m = a.mask().unwrap();
    assert_eq!(
        m.count(),
        (m.width() * m.height()) as usize,
        "the fill covered the image"
    );
    // Ctrl+S writes now, without waiting for the autosave.
    interact(&mut a, &mut project, |ui| {
        ui.simulate([ctrl("s")]);
    });
    assert!(!a.has_unsaved(), "{}", a.save_state());
    assert_eq!(
        &read_mask(&project.mask_path(&stem)).unwrap(),
        a.mask().unwrap()
    );
    interact(&mut a, &mut project, |ui| {
        ui.simulate([ctrl("z")]);
    });
    assert!(a.mask().unwrap().is_empty(), "Ctrl+Z undid the fill");
}

/// A demo project of 480x270 frames and a nerve frame in it whose truth is one simple nerve,
/// with that truth's centreline.
fn nerve_frame() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    String,
    Vec<(f32, f32)>,
) {
    use nerve_studio::eval::annotator::Nerve;
    use nerve_studio::project::demo::{self, DemoOptions};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    let opts = DemoOptions {
        images: 40,
        seed: 7,
        width: 480,
        height: 270,
    };
    demo::generate(&root, &opts, &mut |_, _| {}).unwrap();
    let project = Project::open_read_only(&root).unwrap();
    let (stem, nerve) = project
        .images()
        .iter()
        .filter(|e| e.has_mask && e.label.class.as_deref() == Some("nerve"))
        .find_map(|e| {
            let rgb = image::open(project.image_path(e))
                .unwrap()
                .to_rgb8()
                .into_raw();
            let truth = read_mask(&project.mask_path(&e.stem)).unwrap();
            Nerve::new(rgb, truth).map(|n| (e.stem.clone(), n))
        })
        .expect("a demo nerve frame with one simple nerve");
    (dir, root, stem, nerve.centreline)
}

fn iou(a: &Mask, b: &Mask) -> f64 {
    nerve_studio::eval::annotator::scored(b, a).0
}

#[test]
fn the_tracer_follows_a_nerve_from_two_clicks_its_width_is_edited_and_undone() {
    let (_d, root, stem, centreline) = nerve_frame();
    let mut project = Project::open(&root).unwrap();
    let truth = read_mask(&project.mask_path(&stem)).unwrap();
    let (_, mut a) = annotate(&mut project, &stem);
    interact(&mut a, &mut project, |ui| {
        ui.point_at(Point::new(400.0, 400.0));
        ui.simulate([moved(Point::new(400.0, 400.0))]);
    });
    // Where the canvas lies in the window: a wheel turn of zero with the brush says where the
    // pointer is on the canvas.
    let probe = Point::new(400.0, 400.0);
    let zoom = interact(&mut a, &mut project, |ui| {
        ui.point_at(probe);
        ui.simulate([
            moved(probe),
            Event::Mouse(mouse::Event::WheelScrolled {
                delta: mouse::ScrollDelta::Lines { x: 0.0, y: 0.0 },
            }),
        ]);
    });
    let on_canvas = zoom
        .iter()
        .find_map(|m| match m {
            Message::Zoom(p, _) => Some(*p),
            _ => None,
        })
        .expect("the wheel reached the canvas");
    let origin = probe - on_canvas;
    // Start from nothing: Clear, then the tracer (T), whose ridges were measured on load.
    interact(&mut a, &mut project, |ui| {
        ui.click("Clear").unwrap();
    });
    assert!(a.mask().unwrap().is_empty());
    interact(&mut a, &mut project, |ui| {
        ui.tap_key(iced::keyboard::Key::Character("t".into()));
    });
    assert_eq!(a.tool(), nerve_studio::gui::screens::annotate::Tool::Tracer);
    assert!(
        a.tracer().is_some(),
        "the tracer is ready once the image loaded"
    );

    // Two clicks, at the nerve's two ends: the path follows the nerve between them.
    let screen = |p: (f32, f32)| a.viewport().to_screen(Point::new(p.0, p.1)) + origin;
    let ends = [screen(centreline[0]), screen(*centreline.last().unwrap())];
    for end in ends {
        interact(&mut a, &mut project, |ui| {
            ui.point_at(end);
            ui.simulate([
                moved(end),
                Event::Mouse(mouse::Event::ButtonPressed(Button::Left)),
                Event::Mouse(mouse::Event::ButtonReleased(Button::Left)),
            ]);
        });
    }
    assert_eq!(a.paths().len(), 1);
    assert_eq!(a.paths()[0].waypoints.len(), 2);
    let traced = a.mask().unwrap().clone();
    assert!(traced.as_bytes().iter().all(|&v| v == 0 || v == 255));
    let first = iou(&traced, &truth);
    assert!(first > 0.6, "IoU after two clicks: {first:.2}");

    // The wheel over a node widens the nerve there; Undo puts the path and the mask back.
    let node = a.paths()[0].segments[0][a.paths()[0].segments[0].len() / 2];
    let at = a.viewport().to_screen(Point::new(node.x, node.y)) + origin;
    interact(&mut a, &mut project, |ui| {
        ui.point_at(at);
        ui.simulate([
            moved(at),
            Event::Mouse(mouse::Event::WheelScrolled {
                delta: mouse::ScrollDelta::Lines { x: 0.0, y: 3.0 },
            }),
        ]);
    });
    let widened = a.paths()[0].clone();
    let nearest = widened.nearest(node.x, node.y).unwrap().0;
    let width_now = widened.segments[nearest.0][nearest.1.unwrap()].width;
    assert!(
        width_now > node.width * 1.25,
        "{} -> {width_now}",
        node.width
    );
    assert!(a.mask().unwrap().count() > traced.count());
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    assert_eq!(a.mask().unwrap(), &traced);
    assert_eq!(
        a.paths()[0].segments[nearest.0][nearest.1.unwrap()].width,
        node.width
    );

    // Saved: the mask on disk is the traced one, and the label keeps the path for later edits.
    wait_a_second(&mut a, &mut project);
    assert!(!a.has_unsaved(), "{}", a.save_state());
    assert_eq!(read_mask(&project.mask_path(&stem)).unwrap(), traced);
    let label: nerve_studio::project::ImageLabel =
        serde_json::from_slice(&std::fs::read(project.label_path(&stem)).unwrap()).unwrap();
    assert_eq!(label.paths, a.paths());
    assert_eq!(label.mask, Some(MaskProvenance::Drawn));

    // Each click was a step: Undo takes back the second waypoint, then the first (the Clear
    // before them is still there to undo).
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    assert_eq!(a.paths()[0].waypoints.len(), 1);
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    assert!(a.paths().is_empty());
    assert!(a.mask().unwrap().is_empty());
}

#[test]
fn a_mask_carried_from_the_frame_before_is_shown_then_kept_with_enter_or_discarded_with_esc() {
    let (_d, root, _, _) = nerve_frame();
    let mut project = Project::open(&root).unwrap();
    // A nerve frame whose frame before, in the same experiment, has a nerve mask.
    let stem = project
        .images()
        .iter()
        .filter(|e| e.has_mask && e.label.class.as_deref() == Some("nerve"))
        .find(|e| {
            project.images().iter().any(|p| {
                p.experiment() == e.experiment()
                    && p.has_mask
                    && p.label.class.as_deref() == Some("nerve")
                    && p.label.frame.map(|f| f + 1) == e.label.frame
            })
        })
        .unwrap()
        .stem
        .clone();
    let truth = read_mask(&project.mask_path(&stem)).unwrap();
    let (_, mut a) = annotate(&mut project, &stem);
    interact(&mut a, &mut project, |ui| {
        ui.point_at(Point::new(400.0, 400.0));
        ui.simulate([moved(Point::new(400.0, 400.0))]);
    });
    interact(&mut a, &mut project, |ui| {
        ui.click("Clear").unwrap();
    });
    let key = |a: &mut Annotate, project: &mut Project, k: iced::keyboard::Key| {
        interact(a, project, |ui| {
            ui.tap_key(k);
        });
    };
    // C: the frame before's mask is proposed over this one; the mask itself is untouched.
    key(
        &mut a,
        &mut project,
        iced::keyboard::Key::Character("c".into()),
    );
    let proposed = a.proposal().expect("a proposal").proposal.mask.clone();
    assert!(
        a.mask().unwrap().is_empty(),
        "nothing is overwritten before Enter"
    );
    assert!(
        iou(&proposed, &truth) > 0.5,
        "{:.2}",
        iou(&proposed, &truth)
    );
    // Esc discards it; C again and Enter keeps it, as one undoable step, and it is saved.
    let named = iced::keyboard::Key::Named;
    key(
        &mut a,
        &mut project,
        named(iced::keyboard::key::Named::Escape),
    );
    assert!(a.proposal().is_none());
    assert!(a.mask().unwrap().is_empty());
    assert_eq!(
        a.current(),
        stem,
        "Esc discarded the proposal, it did not leave"
    );
    key(
        &mut a,
        &mut project,
        iced::keyboard::Key::Character("c".into()),
    );
    key(
        &mut a,
        &mut project,
        named(iced::keyboard::key::Named::Enter),
    );
    assert!(a.proposal().is_none());
    assert_eq!(a.mask().unwrap(), &proposed);
    wait_a_second(&mut a, &mut project);
    assert_eq!(read_mask(&project.mask_path(&stem)).unwrap(), proposed);
    interact(&mut a, &mut project, |ui| {
        ui.click("Undo").unwrap();
    });
    assert!(a.mask().unwrap().is_empty());
}

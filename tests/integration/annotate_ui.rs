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

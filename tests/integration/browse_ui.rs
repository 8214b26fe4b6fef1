//! The Browse screen driven as a person would: clicks on filters, through iced_test.

use crate::support::{Shared, small_demo};
use iced_test::simulator;
use nerve_studio::gui::Message;
use nerve_studio::gui::screens::browse::{self, Browse};
use nerve_studio::project::Project;

/// Clicks the widget showing `label`, feeds the messages to the screen as the app would, and
/// returns what the screen asked for last.
fn click(b: &mut Browse, project: &Project, label: &str) -> browse::Action {
    let shared = Shared::default();
    let ctx = shared.ctx(project);
    let messages: Vec<browse::Message> = {
        let mut ui = simulator(b.view(&ctx));
        ui.click(label)
            .unwrap_or_else(|e| panic!("no `{label}` to click: {e:?}"));
        ui.into_messages().collect()
    };
    assert!(!messages.is_empty(), "clicking `{label}` did nothing");
    messages
        .into_iter()
        .map(|m| b.update(m, &ctx))
        .last()
        .expect("one message")
}

#[test]
fn filters_change_what_is_shown() {
    let (_d, root) = small_demo(40, 21);
    let project = Project::open(&root).unwrap();
    let shared = Shared::default();
    let (mut b, _) = Browse::new(&shared.ctx(&project), None);
    assert!(!b.in_view(&project).is_empty(), "thumbnails to load");
    assert_eq!(b.shown_stems(&project).len(), 40);
    let tendons = project
        .images()
        .iter()
        .filter(|e| e.label.class.as_deref() == Some("tendon"))
        .count();
    assert!(tendons > 0);

    let action = click(&mut b, &project, "tendon");
    let shown = b.shown_stems(&project);
    // A new filter scrolls back to the top and asks for the thumbnails now on screen.
    match &action.requests[..] {
        [browse::Request::Thumbnails(want)] => {
            assert_eq!(want.first().map(String::as_str), shown.first().copied())
        }
        other => panic!("expected the thumbnails of the new list, got {other:?}"),
    }
    assert_eq!(action.task.units(), 1, "and a scroll back to the top");
    assert_eq!(shown.len(), tendons);
    assert!(
        shown
            .iter()
            .all(|s| project.get(s).unwrap().label.class.as_deref() == Some("tendon"))
    );
    {
        let ctx = shared.ctx(&project);
        let mut ui = simulator(b.view(&ctx));
        assert!(
            ui.find(format!("Showing {tendons} of 40 images").as_str())
                .is_ok()
        );
        assert!(ui.find(shown[0]).is_ok(), "the first tendon is on screen");
    }

    let _ = click(&mut b, &project, "test");
    assert!(b.shown_stems(&project).iter().all(|s| {
        let e = project.get(s).unwrap();
        e.split == Some(nerve_studio::project::Split::Test)
            && e.label.class.as_deref() == Some("tendon")
    }));

    let _ = click(&mut b, &project, "Clear filters");
    assert_eq!(b.shown_stems(&project).len(), 40);

    let _ = click(&mut b, &project, "unlabeled");
    let unlabeled = b.shown_stems(&project);
    assert!(!unlabeled.is_empty());
    assert!(
        unlabeled
            .iter()
            .all(|s| project.get(s).unwrap().label.class.is_none())
    );
}

#[test]
fn clicking_a_thumbnail_shows_its_details() {
    let (_d, root) = small_demo(6, 22);
    let project = Project::open(&root).unwrap();
    let shared = Shared::default();
    let ctx = shared.ctx(&project);
    let (mut b, _) = Browse::new(&ctx, None);
    let stem = project.images()[2].stem.clone();
    let _ = click(&mut b, &project, &stem);
    assert_eq!(b.selected(), Some(stem.as_str()));
    let mut ui = simulator(b.view(&ctx));
    assert!(
        ui.find(project.images()[2].file_name.as_str()).is_ok(),
        "details show the file name"
    );
    assert!(ui.find("Experiment").is_ok());
}

#[test]
fn empty_project_and_empty_filter_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::create(
        &dir.path().join("e"),
        nerve_studio::project::Manifest::new("e"),
    )
    .unwrap();
    let shared = Shared::default();
    let ctx = shared.ctx(&project);
    let (b, _) = Browse::new(&ctx, None);
    let mut ui = simulator(b.view(&ctx));
    assert!(ui.find("This project has no images yet.").is_ok());
}

/// Clicks the text `label` in the right-hand panel (the class names also label the filters on
/// the left and the chips of the grid; the simulated window is 1024 wide and the panel 300);
/// returns the task its message started.
fn click_in_panel(app: &mut nerve_studio::gui::App, label: &str) -> iced::Task<Message> {
    use iced_test::selector::Candidate;
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        let wanted = label.to_string();
        ui.click(move |c: Candidate<'_>| {
            let hit = matches!(c, Candidate::Text { content, bounds, .. }
                if content == wanted && bounds.x > 1024.0 - 300.0);
            hit.then(|| iced_test::selector::Target::from(c))
        })
        .unwrap_or_else(|e| panic!("no {label:?} in the panel: {e:?}"));
        ui.into_messages().collect()
    };
    assert!(!produced.is_empty(), "clicking {label:?} did nothing");
    iced::Task::batch(produced.into_iter().map(|m| app.update(m)))
}

/// Clicks `label` anywhere in the window and runs what it started to its end.
fn press(app: &mut nerve_studio::gui::App, label: &str) {
    let task = crate::window::click(app, label);
    crate::window::settle(app, task);
}

/// Clicks `label` in the right-hand panel and runs what it started (a write) to its end.
fn choose(app: &mut nerve_studio::gui::App, label: &str) {
    let task = click_in_panel(app, label);
    crate::window::settle(app, task);
}

/// The project's label and split files, as bytes.
fn labels_and_splits(root: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let tree = crate::support::tree(root);
    let mut out = crate::support::folder(&tree, "labels");
    out.extend(crate::support::folder(&tree, "splits"));
    out
}

#[test]
fn a_range_is_labeled_in_one_step_and_undone() {
    use crate::window::{open_window, shows};
    use iced::keyboard::Modifiers;
    use nerve_studio::project::{Split, Status};

    let (_d, root) = small_demo(12, 23);
    let original = labels_and_splits(&root);
    let mut app = open_window(&root);
    let stems: Vec<String> = Project::open_read_only(&root)
        .unwrap()
        .images()
        .iter()
        .map(|e| e.stem.clone())
        .collect();
    let browse = |m| Message::Browse(m);

    // Click the first image, Shift+click the fourth: four images chosen.
    press(&mut app, &stems[0]);
    drop(app.update(browse(browse::Message::Modifiers(Modifiers::SHIFT))));
    press(&mut app, &stems[3]);
    drop(app.update(browse(browse::Message::Modifiers(Modifiers::empty()))));
    assert!(shows(&app, "4 images chosen"));

    // Class tendon: the count is shown first, nothing is written until Apply.
    choose(&mut app, "tendon");
    assert!(shows(&app, "Set class tendon on 4 images?"));
    assert_eq!(labels_and_splits(&root), original);
    choose(&mut app, "Apply to 4 images");
    let after_class = labels_and_splits(&root);
    let project = Project::open_read_only(&root).unwrap();
    for (i, stem) in stems.iter().enumerate() {
        let e = project.get(stem).unwrap();
        let key = format!("labels/{stem}.json");
        if i < 4 {
            assert_eq!(e.label.class.as_deref(), Some("tendon"), "{stem}");
        } else {
            assert_eq!(
                after_class.get(&key),
                original.get(&key),
                "{stem} untouched"
            );
        }
    }

    // Status reviewed and split test on the same four.
    choose(&mut app, "reviewed");
    choose(&mut app, "Apply to 4 images");
    choose(&mut app, "test");
    choose(&mut app, "Apply to 4 images");
    let project = Project::open_read_only(&root).unwrap();
    for stem in &stems[..4] {
        let e = project.get(stem).unwrap();
        assert_eq!(e.label.status, Status::Reviewed, "{stem}");
        assert_eq!(e.split, Some(Split::Test), "{stem}");
    }

    // Undo, step by step, back to the files as they were, byte for byte.
    choose(&mut app, "Undo: split test on 4 images");
    choose(&mut app, "Undo: status reviewed on 4 images");
    assert_eq!(labels_and_splits(&root), after_class);
    choose(&mut app, "Undo: class tendon on 4 images");
    assert_eq!(labels_and_splits(&root), original);

    // Ctrl+A chooses every image the filters show; Esc none.
    drop(app.update(browse(browse::Message::ChooseAll)));
    assert!(shows(&app, "12 images chosen"));
    drop(app.update(browse(browse::Message::ChooseNone)));
    assert!(!shows(&app, "images chosen"));
}

#[test]
fn browse_hears_its_keys() {
    use iced::keyboard::{Event, Key, Location, Modifiers, key};
    let press = |k: Key, modifiers| {
        iced::Event::Keyboard(Event::KeyPressed {
            key: k.clone(),
            modified_key: k,
            physical_key: key::Physical::Unidentified(key::NativeCode::Unidentified),
            location: Location::Standard,
            modifiers,
            repeat: false,
            text: None,
        })
    };
    let heard = |e| browse::key_event(e, iced::event::Status::Ignored);
    assert!(matches!(
        heard(press(Key::Character("a".into()), Modifiers::CTRL)),
        Some(browse::Message::ChooseAll)
    ));
    assert!(matches!(
        heard(press(Key::Character("z".into()), Modifiers::CTRL)),
        Some(browse::Message::Undo)
    ));
    assert!(matches!(
        heard(press(Key::Named(key::Named::Escape), Modifiers::empty())),
        Some(browse::Message::ChooseNone)
    ));
    assert!(heard(press(Key::Character("a".into()), Modifiers::empty())).is_none());
    assert!(matches!(
        heard(iced::Event::Keyboard(Event::ModifiersChanged(Modifiers::SHIFT))),
        Some(browse::Message::Modifiers(m)) if m.shift()
    ));
}

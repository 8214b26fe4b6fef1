//! The whole app driven through `update`, with the background jobs really running: open a
//! project, import into it, and see a failed import leave it as it was.

use crate::support::{run_task as run, small_demo, tree};
use nerve_studio::gui::screens::{annotate, browse};
use nerve_studio::gui::{App, Launch, Message, Screen, State};
use nerve_studio::project::exchange::ImportFormat;

/// Feeds messages to the app; the tasks they start (thumbnails, scrolling) are left unrun.
fn feed(app: &mut App, messages: Vec<Message>) {
    for m in messages {
        drop(app.update(m));
    }
}

fn image_count(app: &App) -> usize {
    match &app.state {
        State::Ready { project, .. } => project.images().len(),
        State::Busy { title, .. } => panic!("still busy: {title}"),
        State::Failed { error, .. } => panic!("failed: {error}"),
    }
}

#[test]
fn open_then_import_folders_then_a_bad_import_changes_nothing() {
    let (dir, root) = small_demo(8, 31);
    let (mut app, task) = App::new(Launch {
        project: Some(root.clone()),
        image: None,
        remember: false,
        annotate: false,
        screen: Screen::Images,
    });
    assert!(
        matches!(app.state, State::Busy { .. }),
        "opening runs in the background"
    );
    feed(&mut app, run(task));
    assert_eq!(image_count(&app), 8);
    assert_eq!(app.title(), "Nerve Studio — demo");

    let src = dir.path().join("lab");
    std::fs::create_dir_all(src.join("testing/Nerve")).unwrap();
    for i in 0..3 {
        image::RgbImage::new(32, 18)
            .save(src.join(format!("testing/Nerve/n{i}.png")))
            .unwrap();
    }
    let task = app.update(Message::Import(ImportFormat::Folders, Some(src.clone())));
    assert!(
        matches!(app.state, State::Busy { .. }),
        "the import runs in the background"
    );
    feed(&mut app, run(task));
    assert_eq!(image_count(&app), 11);
    assert!(
        app.notice().unwrap().starts_with("Imported 3 images"),
        "{:?}",
        app.notice()
    );

    // The same folder again: refused, said so, and the project reopens unchanged.
    let before = tree(&root);
    let task = app.update(Message::Import(ImportFormat::Folders, Some(src)));
    feed(&mut app, run(task));
    assert_eq!(image_count(&app), 11);
    let notice = app.notice().unwrap();
    assert!(
        notice.starts_with("Nothing was imported") && notice.contains("n0.png"),
        "{notice}"
    );
    assert_eq!(tree(&root), before);
}

#[test]
fn a_missing_project_shows_why() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, task) = App::new(Launch {
        project: Some(dir.path().join("nowhere")),
        image: None,
        remember: false,
        annotate: false,
        screen: Screen::Images,
    });
    feed(&mut app, run(task));
    match &app.state {
        State::Failed { error, .. } => assert!(error.contains("no project.toml"), "{error}"),
        _ => panic!("expected the failure screen"),
    }
}

#[test]
fn an_import_saves_the_open_images_unsaved_edit_first() {
    let (dir, root) = small_demo(8, 33);
    let (mut app, task) = App::new(Launch {
        project: Some(root.clone()),
        image: None,
        remember: false,
        annotate: false,
        screen: Screen::Images,
    });
    feed(&mut app, run(task));
    let stem = match &app.state {
        State::Ready { project, .. } => project
            .images()
            .iter()
            .find(|e| e.label.class.as_deref() == Some("tendon"))
            .unwrap()
            .stem
            .clone(),
        _ => panic!("not open"),
    };
    let task = app.update(Message::Browse(browse::Message::Annotate(stem.clone())));
    feed(&mut app, run(task));
    // The class key 2 (opening wound): an edit that autosave has not written yet.
    drop(app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Class(1),
    ))));
    let label = |root: &std::path::Path| {
        let text = std::fs::read(root.join("labels").join(format!("{stem}.json"))).unwrap();
        serde_json::from_slice::<nerve_studio::project::ImageLabel>(&text).unwrap()
    };
    assert_eq!(
        label(&root).class.as_deref(),
        Some("tendon"),
        "not saved yet"
    );

    // An import (of nothing usable) releases and reopens the project: the edit is written first.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let task = app.update(Message::Import(ImportFormat::Folders, Some(empty.clone())));
    feed(&mut app, run(task));
    assert_eq!(label(&root).class.as_deref(), Some("opening wound"));

    // Back to Browse with an edit whose save has not finished (its task is never run here):
    // the next Annotate screen shows the edit, and an import writes it first.
    let task = app.update(Message::Browse(browse::Message::Annotate(stem.clone())));
    feed(&mut app, run(task));
    drop(app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Class(2),
    ))));
    drop(app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Cancel,
    ))));
    assert_eq!(
        label(&root).class.as_deref(),
        Some("opening wound"),
        "still saving"
    );
    let task = app.update(Message::Browse(browse::Message::Annotate(stem.clone())));
    feed(&mut app, run(task));
    match app.annotate() {
        Some(a) => assert_eq!(
            a.label().class.as_deref(),
            Some("tendon"),
            "the window shows the edit"
        ),
        _ => panic!("Annotate is not open"),
    }
    drop(app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Cancel,
    ))));
    let task = app.update(Message::Import(ImportFormat::Folders, Some(empty)));
    feed(&mut app, run(task));
    assert_eq!(label(&root).class.as_deref(), Some("tendon"));
}

#[test]
fn where_there_is_no_file_dialog_a_typed_path_imports() {
    use nerve_studio::gui::dialogs::{Picked, Purpose};
    let (dir, root) = small_demo(6, 34);
    let mut app = crate::window::open_window(&root);
    // The dialog came back empty at once: no dialog could be shown. The window says so.
    let format = ImportFormat::Folders;
    drop(app.update(Message::Picked(
        Purpose::Import(format),
        Picked::Unavailable,
    )));
    assert!(crate::window::shows(&app, "no file dialog"));
    // A typed path that is not there is refused, by name; nothing happens.
    let typed: Vec<Message> = {
        let mut ui = iced_test::simulator(app.view());
        ui.click(iced_test::selector::id("typed-path")).unwrap();
        ui.typewrite("/nowhere/lab");
        ui.into_messages().collect()
    };
    feed(&mut app, typed);
    let task = crate::window::click(&mut app, "OK");
    feed(&mut app, run(task));
    let error = app
        .prompt
        .as_ref()
        .and_then(|p| p.error.as_ref().map(ToString::to_string));
    assert!(
        error.as_deref().is_some_and(|e| e.contains("/nowhere/lab")),
        "{error:?}"
    );
    assert!(crate::window::shows(&app, error.as_deref().unwrap()));
    assert_eq!(image_count(&app), 6);

    let src = dir.path().join("lab");
    std::fs::create_dir_all(src.join("testing/Nerve")).unwrap();
    for i in 0..2 {
        image::RgbImage::new(32, 18)
            .save(src.join(format!("testing/Nerve/t{i}.png")))
            .unwrap();
    }
    drop(app.update(Message::PromptText(src.display().to_string())));
    // The path is checked on another thread, then the import runs on its own.
    let task = crate::window::click(&mut app, "OK");
    for checked in run(task) {
        let import = app.update(checked);
        feed(&mut app, run(import));
    }
    assert_eq!(image_count(&app), 8);
    assert!(app.prompt.is_none());
}

#[test]
fn a_save_reported_after_another_project_opened_changes_nothing_there() {
    let (_d1, first) = small_demo(6, 35);
    let (_d2, second) = small_demo(6, 35);
    let mut app = crate::window::open_window(&first);
    let stem = match &app.state {
        State::Ready { project, .. } => project
            .images()
            .iter()
            .find(|e| e.label.class.as_deref() != Some("tendon"))
            .unwrap()
            .stem
            .clone(),
        _ => panic!("not open"),
    };
    // An edit in the first project, left with Esc: its save is on its way.
    let task = app.update(Message::Browse(browse::Message::Annotate(stem.clone())));
    feed(&mut app, run(task));
    drop(app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Class(2),
    ))));
    let save = app.update(Message::Annotate(annotate::Message::Command(
        nerve_studio::gui::keys::Command::Cancel,
    )));
    // The second project (the same stems) opens before the save reports.
    let task = app.update(Message::Open(Some(second.clone())));
    feed(&mut app, run(task));
    let before = match &app.state {
        State::Ready { project, .. } => project.get(&stem).unwrap().label.clone(),
        _ => panic!("not open"),
    };
    feed(&mut app, run(save));
    match &app.state {
        State::Ready { project, .. } => {
            assert_eq!(project.root(), second.as_path());
            assert_eq!(project.get(&stem).unwrap().label, before, "untouched");
            assert_ne!(before.class.as_deref(), Some("tendon"));
        }
        _ => panic!("not open"),
    }
    // The first project's file has the edit.
    let text = std::fs::read(first.join("labels").join(format!("{stem}.json"))).unwrap();
    let label: nerve_studio::project::ImageLabel = serde_json::from_slice(&text).unwrap();
    assert_eq!(label.class.as_deref(), Some("tendon"));
}

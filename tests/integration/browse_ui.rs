//! The Browse screen driven as a person would: clicks on filters, through iced_test.

use crate::support::small_demo;
use iced_test::simulator;
use nerve_studio::gui::screens::browse::{self, Browse};
use nerve_studio::project::Project;

/// Clicks the widget showing `label`, feeds the messages to the screen as the app would, and
/// returns what the screen asked for last.
fn click(b: &mut Browse, project: &Project, label: &str) -> browse::Action {
    let messages: Vec<browse::Message> = {
        let mut ui = simulator(b.view(project));
        ui.click(label)
            .unwrap_or_else(|e| panic!("no `{label}` to click: {e:?}"));
        ui.into_messages().collect()
    };
    assert!(!messages.is_empty(), "clicking `{label}` did nothing");
    messages
        .into_iter()
        .map(|m| b.update(m, project))
        .last()
        .expect("one message")
}

#[test]
fn filters_change_what_is_shown() {
    let (_d, root) = small_demo(40, 21);
    let project = Project::open(&root).unwrap();
    let (mut b, action, _) = Browse::new(&project, None);
    assert!(matches!(action, browse::Action::WantThumbnails(ref w) if !w.is_empty()));
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
    match action {
        browse::Action::Refiltered(want) => {
            assert_eq!(want.first().map(String::as_str), shown.first().copied())
        }
        other => panic!("expected Refiltered, got {other:?}"),
    }
    assert_eq!(shown.len(), tendons);
    assert!(
        shown
            .iter()
            .all(|s| project.get(s).unwrap().label.class.as_deref() == Some("tendon"))
    );
    {
        let mut ui = simulator(b.view(&project));
        assert!(
            ui.find(format!("Showing {tendons} of 40 images").as_str())
                .is_ok()
        );
        assert!(ui.find(shown[0]).is_ok(), "the first tendon is on screen");
    }

    click(&mut b, &project, "test");
    assert!(b.shown_stems(&project).iter().all(|s| {
        let e = project.get(s).unwrap();
        e.split == Some(nerve_studio::project::Split::Test)
            && e.label.class.as_deref() == Some("tendon")
    }));

    click(&mut b, &project, "Clear filters");
    assert_eq!(b.shown_stems(&project).len(), 40);

    click(&mut b, &project, "unlabeled");
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
    let (mut b, _, _) = Browse::new(&project, None);
    let stem = project.images()[2].stem.clone();
    click(&mut b, &project, &stem);
    assert_eq!(b.selected(), Some(stem.as_str()));
    let mut ui = simulator(b.view(&project));
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
    let (b, _, _) = Browse::new(&project, None);
    let mut ui = simulator(b.view(&project));
    assert!(ui.find("This project has no images yet.").is_ok());
}

//! What the window shows is what is edited: a new visit to Annotate never shows the previous
//! visit's picture (on the GPU canvas or the CPU one), and a stroke lands on the image shown.

use crate::support::{Shared, small_demo};
use crate::window::{click, open_window, settle};
use iced::mouse::{self, Button};
use iced::widget::shader::Program;
use iced::{Event, Point, Rectangle, Size};
use iced_test::simulator;
use nerve_studio::gui::screens::annotate::{self, Annotate};
use nerve_studio::gui::screens::browse::{self, Browse};
use nerve_studio::gui::widgets::mask_shader::{MaskPrimitive, MaskShader, Upload};
use nerve_studio::gui::{App, Message, State, load_image};
use nerve_studio::project::Project;
use std::path::Path;

/// The primitive the GPU canvas would draw this frame.
fn frame(a: &Annotate) -> MaskPrimitive {
    MaskShader { annotate: a }.draw(
        &(),
        mouse::Cursor::Unavailable,
        Rectangle::new(Point::ORIGIN, Size::new(800.0, 600.0)),
    )
}

/// An Annotate screen on `stem`, its image loaded as the app loads it.
fn visit(project: &Project, order: &[String], stem: &str) -> Annotate {
    let shared = Shared::default();
    let ctx = shared.ctx(project);
    let (mut a, _) = Annotate::new(&ctx, order.to_vec(), stem.to_string(), Vec::new());
    let key = a.loading().expect("the screen asks for its image").clone();
    // While the picture is on its way, the canvas shows nothing rather than the last texture.
    assert_eq!(frame(&a).plan(None), Upload::Clear);
    let e = project.get(stem).unwrap();
    let mask = e.has_mask.then(|| project.mask_path(stem));
    drop(a.update(
        load_image(&key, &project.image_path(e), mask.as_deref()),
        &ctx,
    ));
    assert!(a.picture().is_some(), "{stem} loaded");
    a
}

#[test]
fn two_visits_in_a_row_upload_their_own_textures() {
    let (_d, root) = small_demo(6, 51);
    let project = Project::open(&root).unwrap();
    let shared = Shared::default();
    let (browse, _) = Browse::new(&shared.ctx(&project), None);
    let order = browse.order(&project);
    let (first, second) = (order[0].clone(), order[1].clone());

    // The first visit uploads its picture; the GPU then holds it.
    let a = visit(&project, &order, &first);
    let shown = frame(&a);
    assert_eq!(shown.plan(None), Upload::Whole);
    let held = shown.uploaded().unwrap();
    assert_eq!(held.key.stem, first);
    assert_eq!(shown.plan(Some(&held)), Upload::Nothing);
    drop(a);

    // A second screen (the user went back and opened another image, of the same size): its
    // first picture must be uploaded, not matched against the first visit's textures.
    let b = visit(&project, &order, &second);
    let next = frame(&b);
    assert_eq!(next.plan(Some(&held)), Upload::Whole);
    assert_eq!(next.uploaded().unwrap().key.stem, second);

    // Even a second visit to the same image is a new upload (its mask may have been saved since).
    let again = visit(&project, &order, &first);
    assert_eq!(frame(&again).plan(Some(&held)), Upload::Whole);
}

fn annotate_screen(app: &App) -> &Annotate {
    match app.annotate() {
        Some(a) => a,
        _ => panic!("Annotate is not open"),
    }
}

fn moved(p: Point) -> Event {
    Event::Mouse(mouse::Event::CursorMoved { position: p })
}

/// Feeds what the window's widgets said to the app, running what it starts.
fn interact(app: &mut App, events: &[Event]) {
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        for e in events {
            if let Event::Mouse(mouse::Event::CursorMoved { position }) = e {
                ui.point_at(*position);
            }
            ui.simulate([e.clone()]);
        }
        ui.into_messages().collect()
    };
    for m in messages {
        let task = app.update(m);
        settle(app, task);
    }
}

fn decoded(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().to_rgba8().into_raw()
}

#[test]
fn browse_annotate_back_annotate_another_then_a_stroke_edits_the_image_shown() {
    let (_d, root) = small_demo(6, 52);
    let mut app = open_window(&root);
    let (a_stem, b_stem, a_image, b_image) = match &app.state {
        State::Ready { project, screens } => {
            let order = screens.browse.order(project);
            let path = |s: &str| project.image_path(project.get(s).unwrap());
            (
                order[0].clone(),
                order[1].clone(),
                path(&order[0]),
                path(&order[1]),
            )
        }
        _ => panic!("not open"),
    };
    let masks = |stem: &str| std::fs::read(root.join(format!("masks/{stem}.png"))).ok();
    let a_mask = masks(&a_stem);
    let b_mask = masks(&b_stem);

    let task = app.update(Message::Browse(browse::Message::Annotate(a_stem.clone())));
    settle(&mut app, task);
    assert_eq!(annotate_screen(&app).current(), a_stem);
    let task = click(&mut app, "← Browse");
    settle(&mut app, task);
    assert!(app.annotate().is_none());

    let task = app.update(Message::Browse(browse::Message::Annotate(b_stem.clone())));
    settle(&mut app, task);
    let b = annotate_screen(&app);
    assert_eq!(b.current(), b_stem);
    // The canvas holds B's pixels, and the GPU view would upload B's picture.
    assert_eq!(b.picture().unwrap().rgba.as_slice(), decoded(&b_image));
    assert_ne!(decoded(&a_image), decoded(&b_image));
    assert_eq!(frame(b).uploaded().unwrap().key.stem, b_stem);

    // A brush stroke across the middle of the canvas, then the autosave.
    let (p1, p2) = (Point::new(300.0, 420.0), Point::new(560.0, 460.0));
    interact(&mut app, &[moved(p1)]);
    interact(
        &mut app,
        &[
            moved(p1),
            Event::Mouse(mouse::Event::ButtonPressed(Button::Left)),
            moved(p2),
            Event::Mouse(mouse::Event::ButtonReleased(Button::Left)),
        ],
    );
    let painted = annotate_screen(&app).mask().unwrap().clone();
    assert!(painted.count() > 100, "the stroke painted B's mask");
    let task = app.update(Message::Annotate(annotate::Message::Tick(
        std::time::Instant::now() + std::time::Duration::from_secs(1),
    )));
    settle(&mut app, task);
    assert_ne!(masks(&b_stem), b_mask, "B's mask file changed");
    assert_eq!(
        nerve_studio::mask::read_mask(&root.join(format!("masks/{b_stem}.png"))).unwrap(),
        painted
    );
    assert_eq!(masks(&a_stem), a_mask, "A's mask file is untouched");
}

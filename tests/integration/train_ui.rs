//! The Train and Models screens driven as a person would, through iced_test, with the training
//! really running on its thread: start a tiny training, see progress arrive, cancel, find the
//! run in Models; start again and paint a mask in Annotate while it trains.

use crate::support::small_demo;
use crate::window::{click, messages, open_window, settle, shows};
use iced::futures::StreamExt;
use iced::futures::executor::block_on;
use iced::futures::stream::BoxStream;
use iced::mouse::{self, Button};
use iced::{Event, Point};
use iced_test::simulator;
use nerve_studio::gui::screens::annotate;
use nerve_studio::gui::screens::train::{Field, Message as TrainMessage, What};
use nerve_studio::gui::training::Phase;
use nerve_studio::gui::{App, Closing, Message, Screen, State};
use nerve_studio::mask::read_mask;
use nerve_studio::ml::models::Task as MlTask;
use nerve_studio::ml::registry::RunSummary;
use nerve_studio::project::{Project, Split};
use std::time::{Duration, Instant};

/// Feeds training messages until `until` holds (or the training's stream ends).
fn train_until(
    app: &mut App,
    stream: &mut BoxStream<'static, Message>,
    until: impl Fn(&App) -> bool,
) {
    while !until(app) {
        let Some(m) = block_on(stream.next()) else {
            return;
        };
        drop(app.update(m));
    }
}

/// Opens the Models screen and returns the run's row.
fn in_models(app: &mut App, run: &str) -> RunSummary {
    let task = click(app, "Models");
    settle(app, task);
    app.models()
        .unwrap()
        .runs()
        .iter()
        .find(|r| r.id == run)
        .unwrap_or_else(|| panic!("run {run} is not listed"))
        .clone()
}

fn phase(app: &App) -> Phase {
    app.training.as_ref().expect("a training").phase.clone()
}

fn moved(p: Point) -> Event {
    Event::Mouse(mouse::Event::CursorMoved { position: p })
}

#[test]
fn start_see_progress_cancel_find_the_run_then_paint_while_training() {
    let (_d, root) = small_demo(40, 21);
    let mut app = open_window(&root);
    assert!(matches!(app.state, State::Ready { .. }));

    // The Train screen counts the data in the background.
    let task = click(&mut app, "Train");
    assert_eq!(app.screen, Screen::Train);
    settle(&mut app, task);
    let Some(Ok(plans)) = &app.train().unwrap().plans else {
        panic!("no data plan: {:?}", app.train().unwrap().plans);
    };
    let seg = plans.of(MlTask::Segment);
    assert!(seg.in_split(Split::Train) > 0 && seg.in_split(Split::Val) > 0);
    assert!(seg.excluded.contains_key("no mask") || seg.excluded.contains_key("unlabeled"));
    assert!(
        shows(&app, "Left out:"),
        "the excluded images are explained"
    );

    // A small segmenter: MU-Net at 32 px, for up to 30 epochs (long enough that a Pause or
    // Cancel pressed after the first batch comes before the end, even on a slow machine).
    for m in [
        TrainMessage::What(What::Segmenter),
        TrainMessage::Recipe(MlTask::Segment, "mu_net".into()),
    ] {
        drop(app.update(Message::Train(m)));
    }
    while app.train().unwrap().segmenter.as_ref().unwrap().epochs != 30 {
        let up = app.train().unwrap().segmenter.as_ref().unwrap().epochs < 30;
        drop(app.update(Message::Train(TrainMessage::Adjust(
            MlTask::Segment,
            Field::Epochs,
            up,
        ))));
    }
    for _ in 0..40 {
        drop(app.update(Message::Train(TrainMessage::Adjust(
            MlTask::Segment,
            Field::ImageSize,
            false,
        ))));
    }
    assert_eq!(
        app.train().unwrap().segmenter.as_ref().unwrap().image_size,
        32
    );

    // Start: progress events arrive while the window keeps handling messages.
    let mut stream = messages(click(&mut app, "Start training"));
    assert!(matches!(phase(&app), Phase::Running));
    train_until(&mut app, &mut stream, |a| {
        a.training.as_ref().unwrap().batch.is_some()
    });
    let batch = app.training.as_ref().unwrap().batch.unwrap();
    assert_eq!((batch.epoch, batch.epochs), (1, 30));
    assert!(shows(&app, "Pause"));
    let first_run = app
        .training
        .as_ref()
        .unwrap()
        .run
        .clone()
        .expect("the run's id");

    // Cancel: the training stops at its next batch; the run stays, with its checkpoint.
    drop(click(&mut app, "Cancel"));
    assert!(matches!(phase(&app), Phase::Cancelling));
    train_until(&mut app, &mut stream, |_| false);
    assert!(matches!(phase(&app), Phase::Cancelled));

    // Models lists it, cancelled, with Resume offered.
    let run = in_models(&mut app, &first_run);
    assert_eq!(run.info.status, nerve_studio::ml::run::RunStatus::Cancelled);
    assert!(shows(&app, &first_run));

    // Start again, then go to Images and paint a mask the run trains on, while it trains.
    let task = click(&mut app, "Train");
    settle(&mut app, task);
    let mut stream = messages(click(&mut app, "Start training"));
    train_until(&mut app, &mut stream, |a| {
        a.training.as_ref().unwrap().batch.is_some()
    });
    let second_run = app.training.as_ref().unwrap().run.clone().unwrap();
    assert_ne!(second_run, first_run);
    let snapshot =
        std::fs::read_to_string(root.join("runs").join(&second_run).join("snapshot.csv")).unwrap();
    let stem = snapshot
        .lines()
        .skip(1)
        .find(|l| l.contains(",train,"))
        .and_then(|l| l.split(',').next())
        .unwrap()
        .to_string();
    let before = std::fs::read(root.join("masks").join(format!("{stem}.png"))).unwrap();

    drop(click(&mut app, "Images"));
    assert_eq!(app.screen, Screen::Images);
    let task = app.update(Message::Browse(
        nerve_studio::gui::screens::browse::Message::Annotate(stem.clone()),
    ));
    settle(&mut app, task);
    let (p1, p2) = (Point::new(380.0, 420.0), Point::new(560.0, 440.0));
    // The canvas learns its size (and fits the image) from the first pointer movement.
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.point_at(p1);
        ui.simulate([moved(p1)]);
        ui.into_messages().collect()
    };
    for m in produced {
        drop(app.update(m));
    }
    let painted_at = Instant::now();
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.point_at(p1);
        ui.simulate([
            moved(p1),
            Event::Mouse(mouse::Event::ButtonPressed(Button::Left)),
        ]);
        ui.point_at(p2);
        ui.simulate([moved(p2)]);
        ui.simulate([Event::Mouse(mouse::Event::ButtonReleased(Button::Left))]);
        ui.into_messages().collect()
    };
    assert!(
        produced
            .iter()
            .any(|m| matches!(m, Message::Annotate(annotate::Message::StrokeTo(_)))),
        "the brush drag reached the editor: {produced:?}"
    );
    for m in produced {
        drop(app.update(m));
    }
    let task = app.update(Message::Annotate(annotate::Message::Tick(
        Instant::now() + Duration::from_secs(2),
    )));
    settle(&mut app, task);
    let after = std::fs::read(root.join("masks").join(format!("{stem}.png"))).unwrap();
    assert_ne!(before, after, "the painted mask was saved while training");
    eprintln!(
        "paint and save while training: {:.0} ms",
        painted_at.elapsed().as_secs_f64() * 1000.0
    );
    assert!(
        app.training.as_ref().unwrap().phase.is_active(),
        "the training goes on"
    );

    // Pause: it stops at its next batch; Resume continues the same run from its last epoch.
    drop(click(&mut app, "Train"));
    drop(click(&mut app, "Pause"));
    train_until(&mut app, &mut stream, |_| false);
    assert!(matches!(phase(&app), Phase::Paused));
    assert!(shows(&app, "Paused"));
    let mut stream = messages(click(&mut app, "Resume"));
    assert!(matches!(phase(&app), Phase::Running));

    // The training ends on its own, on the snapshot taken at its start.
    train_until(&mut app, &mut stream, |_| false);
    assert!(
        matches!(phase(&app), Phase::Finished),
        "{:?}",
        app.training.as_ref().unwrap().log
    );
    let session = app.training.as_ref().unwrap();
    let epochs: Vec<usize> = session.history.iter().map(|r| r.epoch).collect();
    assert!(epochs.len() >= 2, "{epochs:?}");
    assert_eq!(
        epochs,
        (1..=epochs.len()).collect::<Vec<_>>(),
        "resumed where it paused"
    );
    assert!(!session.samples.is_empty(), "sample predictions arrived");
    assert!(
        session.log.iter().any(|l| l.starts_with("val report:")),
        "{:?}",
        session.log
    );
    let snapshot_after =
        std::fs::read_to_string(root.join("runs").join(&second_run).join("snapshot.csv")).unwrap();
    assert_eq!(snapshot, snapshot_after);
    // A segmenter trained in the window ranks the unlabeled images for labeling next, and
    // leaves a heat map of its doubt for each.
    let ranking = nerve_studio::ml::uncertainty::dir(&root, &second_run).join("ranking.csv");
    let ranked = std::fs::read_to_string(&ranking).unwrap();
    let unlabeled = Project::open_read_only(&root)
        .unwrap()
        .images()
        .iter()
        .filter(|e| e.label.status == nerve_studio::project::Status::Unlabeled)
        .count();
    assert!(unlabeled > 0);
    assert_eq!(ranked.lines().count(), unlabeled + 1, "{ranked}");

    // Models: the new run is there and knows that a mask changed since it was trained.
    let run = in_models(&mut app, &second_run);
    assert!(run.info.status.completed(), "{}", run.info.status);
    assert_eq!(run.info.epochs_done, epochs.len());
    assert_eq!(run.stale.masks_changed, 1);
    assert!(shows(&app, "stale: 1 mask changed"));
    assert!(read_mask(&root.join("masks").join(format!("{stem}.png"))).is_ok());

    // Make it the active segmenter, then pre-annotate the unlabeled images with it.
    let task = click(&mut app, "Make active segmenter");
    settle(&mut app, task);
    // (Activating asks for the list again; `settle` leaves follow-ups unrun, so ask here.)
    let task = app.update(Message::Models(
        nerve_studio::gui::screens::models::Message::Refresh,
    ));
    settle(&mut app, task);
    let run = app
        .models()
        .unwrap()
        .runs()
        .iter()
        .find(|r| r.id == second_run)
        .unwrap();
    assert!(run.active);
    let unlabeled: Vec<String> = {
        let p = Project::open_read_only(&root).unwrap();
        p.images()
            .iter()
            .filter(|e| e.label.status == nerve_studio::project::Status::Unlabeled && !e.has_mask)
            .map(|e| e.stem.clone())
            .collect()
    };
    assert!(!unlabeled.is_empty());
    let task = click(&mut app, "Predict masks for unlabeled images");
    assert!(
        matches!(app.state, State::Busy { .. }),
        "it runs in the background"
    );
    settle(&mut app, task);
    assert!(matches!(app.state, State::Ready { .. }));
    let notice = app.notice().unwrap_or_default().to_string();
    assert!(
        notice.contains(&format!("of {} unlabeled images", unlabeled.len())),
        "{notice}"
    );
    let p = Project::open_read_only(&root).unwrap();
    for stem in &unlabeled {
        let e = p.get(stem).unwrap();
        assert_eq!(e.label.status, nerve_studio::project::Status::Unlabeled);
        if e.has_mask {
            assert_eq!(
                e.label.mask,
                Some(nerve_studio::project::MaskProvenance::Predicted)
            );
        }
    }
    drop(p);

    // Closing the window while a training runs asks first; "stop" cancels it, then closes.
    let task = click(&mut app, "Train");
    settle(&mut app, task);
    let mut stream = messages(click(&mut app, "Start training"));
    train_until(&mut app, &mut stream, |a| {
        a.training.as_ref().unwrap().batch.is_some()
    });
    let window = iced::window::Id::unique();
    drop(app.update(Message::CloseRequested(window)));
    assert_eq!(app.closing, Some(Closing::Asking(window)));
    assert!(shows(&app, "A training is running"));
    drop(click(&mut app, "Don't close"));
    assert_eq!(app.closing, None);
    drop(app.update(Message::CloseRequested(window)));
    drop(click(&mut app, "Stop the training"));
    assert_eq!(app.closing, Some(Closing::Stopping(window)));
    train_until(&mut app, &mut stream, |_| false);
    assert!(matches!(phase(&app), Phase::Cancelled));
}

#[test]
fn the_train_screen_offers_imagenet_weights_and_forecasts_the_run() {
    let (_d, root) = small_demo(24, 5);
    let mut app = open_window(&root);
    // Counting the data starts measuring the speed of the recipe as set (a warm-up step and a
    // timed one on the device), in the background.
    let task = click(&mut app, "Train");
    crate::window::settle_deep(&mut app, task);
    let downloaded = shows(&app, "ImageNet weights: mobilenet_v2-b0353104.pth");
    assert!(
        downloaded || (shows(&app, "ImageNet weights (14 MB) —") && shows(&app, "Download")),
        "the recipe's ImageNet weights are offered"
    );
    assert!(shows(&app, "Segmenter: about"), "a forecast of the run");
    assert!(shows(&app, "measured at"));
    if !downloaded {
        assert!(shows(
            &app,
            "expect weak results; ImageNet weights recommended."
        ));
    }

    // Random weights, said plainly; then back to ImageNet.
    let task = click(&mut app, "Random");
    settle(&mut app, task);
    assert!(shows(&app, "every layer trains from the first epoch"));
    assert!(shows(&app, "From scratch on"));
    let task = click(&mut app, "ImageNet");
    settle(&mut app, task);
    assert!(!shows(&app, "random weights: every layer"));

    // MU-Net has no torchvision weights, and the screen says why.
    drop(app.update(Message::Train(TrainMessage::Recipe(
        MlTask::Segment,
        "mu_net".into(),
    ))));
    assert!(shows(&app, "no ImageNet weights of that width"));
}

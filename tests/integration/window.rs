//! Driving the whole window through iced_test: run the tasks `update` returns, click, press
//! keys, look for text. Shared by the screen flows.

use iced::futures::executor::block_on;
use iced::futures::stream::BoxStream;
use iced::futures::{StreamExt, future};
use iced::keyboard::Key;
use iced_test::selector::Candidate;
use iced_test::simulator;
use nerve_studio::gui::{App, Launch, Message, Screen};
use std::path::Path;

/// The messages a task produces, one at a time, as its background thread sends them.
pub fn messages<M: Send + 'static>(task: iced::Task<M>) -> BoxStream<'static, M> {
    match iced_runtime::task::into_stream(task) {
        Some(stream) => stream
            .filter_map(|action| {
                future::ready(match action {
                    iced_runtime::Action::Output(m) => Some(m),
                    _ => None,
                })
            })
            .boxed(),
        None => iced::futures::stream::empty().boxed(),
    }
}

/// Runs a finite task to its end and feeds what it produces to the app; what those messages
/// start (thumbnail loading, which never ends) is left unrun.
pub fn settle(app: &mut App, task: iced::Task<Message>) {
    let produced: Vec<Message> = block_on(messages(task).collect());
    for m in produced {
        drop(app.update(m));
    }
}

/// Runs a task to its end, and what its messages start, and so on (for jobs that all end).
pub fn settle_deep(app: &mut App, task: iced::Task<Message>) {
    let produced: Vec<Message> = block_on(messages(task).collect());
    for m in produced {
        let next = app.update(m);
        settle_deep(app, next);
    }
}

/// Clicks the text `label` in the window; returns the task its message started.
pub fn click(app: &mut App, label: &str) -> iced::Task<Message> {
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.click(label)
            .unwrap_or_else(|e| panic!("no {label:?} to click: {e:?}"));
        ui.into_messages().collect()
    };
    assert!(!produced.is_empty(), "clicking {label:?} did nothing");
    iced::Task::batch(produced.into_iter().map(|m| app.update(m)))
}

/// Presses and releases the character key `k`; returns the task its message started.
pub fn key(app: &mut App, k: &str) -> iced::Task<Message> {
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.tap_key(Key::Character(k.into()));
        ui.into_messages().collect()
    };
    assert!(!produced.is_empty(), "the key {k:?} did nothing");
    iced::Task::batch(produced.into_iter().map(|m| app.update(m)))
}

/// Presses Ctrl and the character key `k`; returns the task its message started.
pub fn ctrl_key(app: &mut App, k: &str) -> iced::Task<Message> {
    use iced::keyboard::{Event, Location, Modifiers, key};
    let key = Key::Character(k.into());
    let produced: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.simulate([iced::Event::Keyboard(Event::KeyPressed {
            key: key.clone(),
            modified_key: key,
            physical_key: key::Physical::Unidentified(key::NativeCode::Unidentified),
            location: Location::Standard,
            modifiers: Modifiers::CTRL,
            repeat: false,
            text: None,
        })]);
        ui.into_messages().collect()
    };
    assert!(!produced.is_empty(), "Ctrl+{k} did nothing");
    iced::Task::batch(produced.into_iter().map(|m| app.update(m)))
}

/// Whether some text in the window contains `wanted`.
pub fn shows(app: &App, wanted: &str) -> bool {
    let mut ui = simulator(app.view());
    let wanted = wanted.to_string();
    ui.find(move |c: Candidate<'_>| match c {
        Candidate::Text { content, .. } if content.contains(&wanted) => Some(()),
        _ => None,
    })
    .is_ok()
}

/// The window on `root` (Images screen, nothing remembered), opened.
pub fn open_window(root: &Path) -> App {
    let (mut app, task) = App::new(Launch {
        project: Some(root.to_path_buf()),
        image: None,
        remember: false,
        annotate: false,
        screen: Screen::Images,
    });
    settle(&mut app, task);
    app
}

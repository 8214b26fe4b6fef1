//! Labeling the chosen images in one step: pick a class, status or split, see how many images it
//! changes, apply (written in the background), undo.

use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Length};

use super::Message;
use crate::gui::style::{Notice, class_color, muted, panel};
use crate::project::bulk::{Before, Change};
use crate::project::{Project, Split, Status};

const BAD: iced::Color = iced::Color::from_rgb(0.92, 0.42, 0.38);

/// A step that was applied, to undo.
#[derive(Debug, Clone)]
pub struct Done {
    /// "class nerve on 12 images".
    pub what: String,
    pub before: Vec<Before>,
}

#[derive(Debug, Default)]
pub struct Bulk {
    /// The change chosen, waiting for Apply (the count is shown first).
    pub pending: Option<Change>,
    /// Applied steps, newest last.
    pub undo: Vec<Done>,
    /// A write or an undo is under way.
    pub writing: bool,
    /// How the last step ended, in words.
    pub last: Option<crate::gui::style::Notice>,
}

/// The right-hand panel while several images are chosen.
pub fn view<'a>(bulk: &'a Bulk, chosen: usize, project: &'a Project) -> Element<'a, Message> {
    let busy = bulk.writing || project.is_read_only();
    let choice = |label: String, change: Change| {
        button(text(label).size(12))
            .style(if bulk.pending.as_ref() == Some(&change) {
                button::primary
            } else {
                button::secondary
            })
            .on_press_maybe((!busy).then_some(Message::Stage(change)))
    };
    let mut classes = column![].spacing(4);
    for class in &project.manifest.classes {
        classes = classes.push(
            row![
                container(text("●").size(12).color(class_color(Some(class)))).width(14),
                choice(
                    class.clone(),
                    Change {
                        class: Some(Some(class.clone())),
                        ..Change::default()
                    }
                ),
            ]
            .spacing(4)
            .align_y(Alignment::Center),
        );
    }
    classes = classes.push(choice(
        "no class".into(),
        Change {
            class: Some(None),
            ..Change::default()
        },
    ));
    let statuses = row(Status::ALL.iter().map(|s| {
        let change = Change {
            status: Some(*s),
            ..Change::default()
        };
        choice(s.name().into(), change).into()
    }))
    .spacing(4)
    .wrap();
    let splits = row(Split::ALL.iter().map(|s| {
        let change = Change {
            split: Some(*s),
            ..Change::default()
        };
        choice(s.name().into(), change).into()
    }))
    .spacing(4);
    let mut col = column![
        text(format!("{chosen} images chosen")).size(16),
        text("Set for all of them:").size(13),
        text("Class").size(12).style(muted),
        classes,
        text("Status").size(12).style(muted),
        statuses,
        text("Split").size(12).style(muted),
        splits,
    ]
    .spacing(6);
    col = col.push(outcome(bulk, chosen, busy));
    col = col.push(
        text(
            "Shift+click chooses a range, Ctrl+click adds or removes an image, Ctrl+A chooses \
             every image shown, Esc chooses none, Ctrl+Z undoes the last step.",
        )
        .size(11)
        .style(muted),
    );
    container(scrollable(col.padding(10)).height(Length::Fill))
        .width(300)
        .height(Length::Fill)
        .style(panel)
        .into()
}

/// The step waiting for Apply, the write in progress, its outcome, and Undo.
fn outcome(bulk: &Bulk, chosen: usize, busy: bool) -> Element<'_, Message> {
    let mut col = column![].spacing(6);
    if let Some(change) = &bulk.pending {
        col = col.push(
            container(
                column![
                    text(format!("Set {} on {chosen} images?", change.describe())).size(13),
                    row![
                        button(text(format!("Apply to {chosen} images")).size(12))
                            .on_press_maybe((!busy).then_some(Message::Apply)),
                        button(text("Cancel").size(12))
                            .style(button::secondary)
                            .on_press(Message::Unstage),
                    ]
                    .spacing(6),
                ]
                .spacing(6),
            )
            .padding(8)
            .style(container::rounded_box),
        );
    }
    if bulk.writing {
        col = col.push(text("Saving…").size(12).style(muted));
    }
    match &bulk.last {
        Some(Notice::Done(done)) => col = col.push(text(done).size(12)),
        Some(Notice::Failed(e)) => col = col.push(text(e).size(12).color(BAD)),
        None => {}
    }
    if let Some(last) = bulk.undo.last() {
        col = col.push(
            button(text(format!("Undo: {}", last.what)).size(12))
                .style(button::secondary)
                .on_press_maybe((!busy).then_some(Message::Undo)),
        );
    }
    col.into()
}

//! Colours and small styled pieces shared by the screens.

use iced::widget::{container, text};
use iced::{Background, Border, Color, Element, Theme};

/// The colour that marks a class everywhere (thumbnail chips, filters, plots later).
pub fn class_color(class: Option<&str>) -> Color {
    match class.map(crate::project::manifest::class_key).as_deref() {
        Some("nerve") => Color::from_rgb8(0xE8, 0xC5, 0x47),
        Some("opening wound") => Color::from_rgb8(0xE0, 0x6C, 0x5F),
        Some("tendon") => Color::from_rgb8(0x7F, 0xB3, 0xD5),
        Some(_) => Color::from_rgb8(0xB0, 0x9C, 0xD8),
        None => Color::from_rgb8(0x80, 0x80, 0x80),
    }
}

/// A small rounded label with a coloured background.
pub fn chip<'a, M: 'a>(label: impl text::IntoFragment<'a>, color: Color) -> Element<'a, M> {
    container(
        text(label)
            .size(11)
            .color(Color::from_rgb8(0x1A, 0x1A, 0x1A)),
    )
    .padding([1, 6])
    .style(move |_: &Theme| container::Style {
        background: Some(Background::Color(color)),
        border: Border {
            radius: 8.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    })
    .into()
}

/// A panel: a slightly lighter box with rounded corners.
pub fn panel(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style {
        background: Some(Background::Color(p.background.weak.color)),
        border: Border {
            radius: 6.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// A "name: value" line of a details panel.
pub fn field<'a, M: 'a>(
    name: &'a str,
    value: String,
    size: f32,
    name_width: f32,
) -> iced::widget::Row<'a, M> {
    iced::widget::row![
        text(name).size(size).style(muted).width(name_width),
        text(value).size(size)
    ]
    .spacing(6)
}

/// A muted secondary line of text.
pub fn muted(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(
            theme
                .extended_palette()
                .background
                .strong
                .text
                .scale_alpha(0.7),
        ),
    }
}

/// The height of a screen's message line, in pixels (one line of 13 px text).
pub const MESSAGE_LINE: f32 = 20.0;

/// What the last action on a screen did, in the words shown ("Run … deleted."), or why it
/// failed ("Nothing was accepted: …").
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Done(String),
    Failed(String),
}

impl Notice {
    /// The notice of an outcome: `done` says what happened, `failed` why it did not.
    pub fn of<T, E: std::fmt::Display>(
        result: Result<T, E>,
        done: impl FnOnce(T) -> String,
        failed: &str,
    ) -> Notice {
        match result {
            Ok(v) => Notice::Done(done(v)),
            Err(e) if failed.is_empty() => Notice::Failed(e.to_string()),
            Err(e) => Notice::Failed(format!("{failed}: {e}")),
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Notice::Done(t) | Notice::Failed(t) => t,
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self, Notice::Failed(_))
    }
}

/// A screen's message line ("Run … deleted", "Nothing was accepted: …"): always there, one line
/// high, empty when there is nothing to say, so a message never moves the buttons below it.
pub fn message_line<'a, M: 'a>(message: Option<Notice>) -> Element<'a, M> {
    let line: Element<'a, M> = match message {
        Some(Notice::Done(m)) => text(m).size(13).into(),
        Some(Notice::Failed(e)) => text(e).size(13).style(text::danger).into(),
        None => text("").size(13).into(),
    };
    container(line)
        .height(iced::Length::Fixed(MESSAGE_LINE))
        .width(iced::Length::Fill)
        .clip(true)
        .into()
}

//! What the window shows when no project is open: opening (with progress while the demo is
//! generated or an import runs), and a failure with what to do next.

use crate::gui::style::muted;
use iced::widget::{button, column, container, progress_bar, text};
use iced::{Alignment, Element, Length};
use std::path::{Path, PathBuf};

pub fn busy<'a, M: 'a>(
    title: String,
    detail: String,
    progress: Option<(usize, usize)>,
) -> Element<'a, M> {
    let mut c = column![text(title).size(22), text(detail).size(14).style(muted)]
        .spacing(10)
        .align_x(Alignment::Center);
    if let Some((done, total)) = progress {
        c = c.push(
            progress_bar(0.0..=total.max(1) as f32, done as f32)
                .length(360)
                .girth(10),
        );
        c = c.push(text(format!("{done} of {total}")).size(13).style(muted));
    }
    container(c).center(Length::Fill).into()
}

pub fn failed<'a, M: Clone + 'a>(
    path: &'a Path,
    error: &'a str,
    recent: &'a [PathBuf],
    open_dialog: M,
    open: impl Fn(PathBuf) -> M + 'a,
) -> Element<'a, M> {
    let mut c = column![
        text("This project could not be opened").size(22),
        text(path.display().to_string()).size(14).style(muted),
        container(text(error).size(14)).max_width(640).padding(10),
        button("Open another project…").on_press(open_dialog),
    ]
    .spacing(10)
    .align_x(Alignment::Center);
    let others: Vec<&PathBuf> = recent.iter().filter(|p| p.as_path() != path).collect();
    if !others.is_empty() {
        c = c.push(text("Recent projects").size(14).style(muted));
        for p in others {
            c = c.push(
                button(text(p.display().to_string()).size(13))
                    .style(button::text)
                    .on_press(open(p.clone())),
            );
        }
    }
    container(c).center(Length::Fill).into()
}

//! The window's frame around the screen shown: the toolbar with the tabs and the training
//! badge, the close question, the typed-path bar and the notice.

use super::{App, CloseChoice, Closing, Message, Screen, Screens, State};
use crate::gui::dialogs::Prompt;
use crate::gui::screens::welcome;
use crate::gui::training::Phase;
use crate::project::Project;
use crate::project::exchange::ImportFormat;
use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Length};

impl App {
    pub fn view(&self) -> Element<'_, Message> {
        let body: Element<'_, Message> = match &self.state {
            State::Busy {
                title,
                detail,
                progress,
            } => welcome::busy(title.clone(), detail.clone(), *progress),
            State::Failed { path, error } => {
                welcome::failed(path, error, &self.recent, Message::OpenDialog, |p| {
                    Message::Open(Some(p))
                })
            }
            State::Ready { project, screens } => self.screen_view(project, screens),
        };
        let mut page = column![self.toolbar()].spacing(8).padding(8);
        if let Some(closing) = self.closing {
            page = page.push(close_question(closing));
        }
        if let Some(p) = &self.prompt {
            page = page.push(prompt_bar(p));
        }
        if let Some(n) = &self.notice {
            page = page.push(
                container(
                    row![
                        text(n).size(14).width(Length::Fill),
                        button(text("Dismiss").size(13))
                            .style(button::secondary)
                            .on_press(Message::DismissNotice)
                    ]
                    .align_y(Alignment::Center)
                    .spacing(10),
                )
                .padding([6, 10])
                .style(container::warning),
            );
        }
        page.push(body).into()
    }

    /// The screen shown, over the open project.
    fn screen_view<'a>(
        &'a self,
        project: &'a Project,
        screens: &'a Screens,
    ) -> Element<'a, Message> {
        let ctx = ctx!(project, screens, self);
        let waiting = || welcome::busy("Opening".into(), String::new(), None);
        match (self.screen, &screens.annotate) {
            (Screen::Images, Some(a)) => a.view(&ctx).map(Message::Annotate),
            (Screen::Images, None) => screens.browse.view(&ctx).map(Message::Browse),
            (Screen::Train, _) => screens
                .train
                .as_ref()
                .map_or_else(waiting, |s| s.view(&ctx).map(Message::Train)),
            (Screen::Models, _) => screens
                .models
                .as_ref()
                .map_or_else(waiting, |s| s.view(&ctx).map(Message::Models)),
            (Screen::Review, _) => screens
                .review
                .as_ref()
                .map_or_else(waiting, |s| s.view(&ctx).map(Message::Review)),
        }
    }

    /// The training's progress (a click shows it), or the device when nothing trains.
    fn training_badge(&self) -> Element<'_, Message> {
        let compute = self
            .compute
            .as_deref()
            .unwrap_or("finding the compute device…");
        match self.training.as_ref() {
            Some(t) if self.training_active() || matches!(t.phase, Phase::Paused) => {
                let what = match (matches!(t.phase, Phase::Paused), t.batch) {
                    (true, _) => "Training paused".to_string(),
                    (false, Some(b)) => format!(
                        "Training: epoch {}/{} · {:.0} %",
                        b.epoch,
                        b.epochs,
                        b.fraction() * 100.0
                    ),
                    (false, None) => "Training: preparing".to_string(),
                };
                button(text(what).size(12))
                    .style(button::secondary)
                    .on_press(Message::Show(Screen::Train))
                    .into()
            }
            // Nothing trains: the device training and inference would use.
            _ => text(compute.replace("(R)", "").replace("(TM)", ""))
                .size(12)
                .style(crate::gui::style::muted)
                .wrapping(iced::widget::text::Wrapping::None)
                .into(),
        }
    }

    fn toolbar(&self) -> Element<'_, Message> {
        let (name, path, read_only) = match &self.state {
            State::Ready { project, .. } => (
                project.manifest.name.clone(),
                project.root().display().to_string(),
                project.is_read_only(),
            ),
            _ => ("Nerve Studio".into(), String::new(), false),
        };
        let ready = matches!(self.state, State::Ready { .. });
        let import = |label: &'static str, f: ImportFormat| {
            button(text(label).size(13))
                .style(button::secondary)
                .on_press_maybe((ready && !read_only).then_some(Message::ImportDialog(f)))
        };
        let mut title = row![text(name).size(20)]
            .spacing(10)
            .align_y(Alignment::Center);
        if read_only {
            title = title.push(crate::gui::style::chip(
                "read-only",
                iced::Color::from_rgb8(0xF0, 0xAD, 0x4E),
            ));
        }
        title = title.push(text(path).size(12).style(crate::gui::style::muted));
        let tab = |label: &'static str, screen: Screen| {
            button(text(label).size(14))
                .style(if self.screen == screen {
                    button::primary
                } else {
                    button::text
                })
                .on_press_maybe(ready.then_some(Message::Show(screen)))
        };
        let training_active = self.training_active();
        let status = self.training_badge();
        // A fixed width: the badge's text changes every batch, and the tabs beside it must
        // not move between two clicks.
        let status = container(status)
            .width(Length::Fixed(STATUS_WIDTH))
            .align_x(Alignment::Center)
            .clip(true);
        row![
            title.width(Length::Fill),
            tab("Images", Screen::Images),
            tab("Train", Screen::Train),
            tab("Models", Screen::Models),
            tab("Review", Screen::Review),
            status,
            button(text("Open project…").size(13))
                .on_press_maybe((!training_active).then_some(Message::OpenDialog)),
            import("Import class folders…", ImportFormat::Folders),
            import("Import Supervisely…", ImportFormat::Supervisely),
            import("Import VOC…", ImportFormat::Voc),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into()
    }
}

/// The toolbar's training badge / compute device, in pixels.
const STATUS_WIDTH: f32 = 270.0;

/// The typed-path field's widget id (focused when it appears).
pub(super) const PROMPT_ID: &str = "typed-path";

/// Where the system has no file dialog: say so, and take a typed path.
fn prompt_bar(p: &Prompt) -> Element<'_, Message> {
    use iced::widget::text_input;
    let mut col = iced::widget::Column::new().spacing(6).push(
        text(format!(
            "{}: this system has no file dialog (it needs a desktop portal or zenity). \
             Type the path instead:",
            p.purpose.title()
        ))
        .size(14),
    );
    col = col.push(
        row![
            text_input("/path/to/…", &p.text)
                .id(PROMPT_ID)
                .on_input(Message::PromptText)
                .on_submit(Message::PromptSubmit)
                .size(14)
                .width(Length::Fill),
            button(text("OK").size(13)).on_press(Message::PromptSubmit),
            button(text("Cancel").size(13))
                .style(button::secondary)
                .on_press(Message::PromptCancel),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
    );
    if let Some(e) = &p.error {
        col = col.push(text(e.to_string()).size(13).style(text::danger));
    }
    container(col)
        .padding([8, 10])
        .width(Length::Fill)
        .style(container::warning)
        .into()
}

/// "A training is running": stop it, keep it going in the background, or stay.
fn close_question(closing: Closing) -> Element<'static, Message> {
    let body: Element<'static, Message> = match closing {
        Closing::Asking(_) => row![
            text("A training is running. Close the window and…")
                .size(14)
                .width(Length::Fill),
            button(text("Keep training in the background").size(13))
                .on_press(Message::Close(CloseChoice::KeepTraining)),
            button(text("Stop the training").size(13))
                .style(button::danger)
                .on_press(Message::Close(CloseChoice::StopTraining)),
            button(text("Don't close").size(13))
                .style(button::secondary)
                .on_press(Message::Close(CloseChoice::Stay)),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into(),
        Closing::Stopping(_) => text("Stopping the training after this batch, then closing…")
            .size(14)
            .into(),
        Closing::HandingOver(_) => text(
            "Handing the training over to a background process after this batch, then closing…",
        )
        .size(14)
        .into(),
    };
    container(body)
        .padding([8, 10])
        .width(Length::Fill)
        .style(container::warning)
        .into()
}

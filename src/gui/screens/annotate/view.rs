//! The Annotate screen's layout: tools above, the canvas, class and status at the right, the
//! neighbouring images below, and the key help on `?`.

use super::{Annotate, Message, Tool};
use crate::gui::keys::{BINDINGS, Command};
use crate::gui::screens::Context;
use crate::gui::style::{chip, class_color, field, muted, panel};
use crate::gui::thumbnails::Thumbnails;
use crate::gui::widgets::mask_canvas;
use crate::project::{Project, Status};
use iced::widget::{
    button, column, container, image, opaque, row, scrollable, slider, stack, text,
};
use iced::{Alignment, Element, Length, Theme};

impl Annotate {
    pub fn view<'a>(&'a self, ctx: &Context<'a>) -> Element<'a, Message> {
        let project = ctx.project;
        let board: Element<'a, Message> = match (&self.load_error, &self.loaded) {
            (Some(e), _) => container(text(e.to_string()).size(15))
                .center(Length::Fill)
                .into(),
            (None, None) => container(text("Loading…").size(15).style(muted))
                .center(Length::Fill)
                .into(),
            (None, Some(_)) => mask_canvas::stacked(self),
        };
        let main = column![
            self.toolbar(),
            row![
                container(board).width(Length::Fill).height(Length::Fill),
                self.side(project)
            ]
            .spacing(8)
            .height(Length::Fill),
            self.strip(ctx.thumbnails),
        ]
        .spacing(8);
        if self.help {
            stack![main, opaque(container(help()).center(Length::Fill))].into()
        } else {
            main.into()
        }
    }

    fn toolbar(&self) -> Element<'_, Message> {
        let tool = |label: &'static str, t: Tool| {
            button(text(label).size(13))
                .style(if self.tool == t {
                    button::primary
                } else {
                    button::secondary
                })
                .on_press(Message::Tool(t))
        };
        let cmd = |label: &'static str, c: Command| {
            button(text(label).size(13))
                .style(button::secondary)
                .on_press(Message::Command(c))
        };
        let position = self
            .order
            .iter()
            .position(|s| *s == self.current)
            .map_or(0, |i| i + 1);
        let place = row![
            cmd("← Browse", Command::Cancel),
            text(&self.current).size(18),
            text(format!("{position} of {}", self.order.len()))
                .size(13)
                .style(muted),
            cmd("Keys (?)", Command::Help),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        // The tools flow onto a second line in a narrow window rather than off its edge.
        let tools = row![
            tool("Brush (B)", Tool::Brush),
            tool("Eraser (E)", Tool::Eraser),
            tool("Fill (F)", Tool::Fill),
            tool("Polygon (P)", Tool::Polygon),
            tool("Tracer (T)", Tool::Tracer),
            text(if self.tool == Tool::Tracer {
                format!("×{:.2}", self.trace_width)
            } else {
                format!("{:.0} px", self.radius)
            })
            .size(13)
            .width(48),
            text("Mask").size(13),
            slider(0.0..=1.0, self.opacity, Message::Opacity)
                .step(0.05)
                .width(56),
            cmd(
                if self.show_mask { "Hide" } else { "Show" },
                Command::ToggleMask
            ),
            cmd("Undo", Command::Undo),
            cmd("Redo", Command::Redo),
            cmd("Fill holes", Command::FillHoles),
            cmd("Clear", Command::Clear),
            cmd("Fit", Command::Fit),
            cmd("100%", Command::ActualSize),
        ]
        .spacing(4)
        .align_y(Alignment::Center)
        .wrap()
        .vertical_spacing(4)
        .align_x(Alignment::End);
        row![
            place,
            container(tools)
                .width(Length::Fill)
                .align_right(Length::Fill)
        ]
        .spacing(12)
        .align_y(Alignment::Center)
        .into()
    }

    /// One button per class of the project, with its number key.
    fn class_buttons<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
        let mut classes = column![text("Class").size(14)].spacing(4);
        for (i, class) in project.manifest.classes.iter().enumerate() {
            let selected = self.label.class.as_deref() == Some(class.as_str());
            classes = classes.push(
                button(
                    row![
                        chip(format!("{}", i + 1), class_color(Some(class))),
                        text(class).size(13)
                    ]
                    .spacing(6)
                    .align_y(Alignment::Center),
                )
                .width(Length::Fill)
                .style(if selected {
                    button::primary
                } else {
                    button::text
                })
                .on_press_maybe((i < 9).then_some(Message::Command(Command::Class(i)))),
            );
        }
        classes.into()
    }

    /// The label's status, mask provenance, author and time.
    fn label_facts(&self) -> Element<'_, Message> {
        let l = &self.label;
        let line = |name: &'static str, value: String| field(name, value, 12.0, 70.0);
        column![
            line("Status", l.status.name().into()),
            line(
                "Mask",
                l.mask.map_or("none".into(), |p| p.name().to_string())
            ),
            line(
                "By",
                if l.annotator.is_empty() {
                    "—".into()
                } else {
                    l.annotator.clone()
                }
            ),
            line(
                "When",
                l.updated_at
                    .replace('T', " ")
                    .trim_end_matches('Z')
                    .to_string()
            ),
        ]
        .spacing(4)
        .into()
    }

    fn side<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
        let classes = self.class_buttons(project);
        let status_button = |s: Status, key: &'static str, c: Command| {
            button(text(format!("{} ({key})", s.name())).size(13))
                .width(Length::Fill)
                .style(if self.label.status == s {
                    button::primary
                } else {
                    button::text
                })
                .on_press(Message::Command(c))
        };
        let info = self.label_facts();
        let saved = text(self.save_state())
            .size(12)
            .style(move |theme: &Theme| {
                if self.save_error.is_some() || self.read_only.is_some() {
                    text::Style {
                        color: Some(theme.palette().danger),
                    }
                } else {
                    muted(theme)
                }
            });
        let content = column![
            classes,
            column![
                text("Status").size(14),
                status_button(Status::Labeled, "L", Command::Labeled),
                status_button(Status::Reviewed, "R", Command::Reviewed),
                status_button(Status::Flagged, "G", Command::Flagged),
            ]
            .spacing(4),
            self.nerves(),
            self.view_settings(),
            info,
            saved,
        ]
        .spacing(16)
        .padding(10);
        container(scrollable(content))
            .width(230)
            .height(Length::Fill)
            .style(panel)
            .into()
    }

    /// The traced nerves: how many, which is being traced, where widths jump, and how the
    /// tracer is used while it is the tool.
    fn nerves(&self) -> Element<'_, Message> {
        let paths = self.paths();
        let mut col = column![text("Nerves traced").size(14)].spacing(4);
        let jumps: usize = paths.iter().map(|p| p.jumps().len()).sum();
        col = col.push(
            text(match (paths.len(), self.tracing()) {
                (0, _) => "none".to_string(),
                (n, Some(i)) => format!(
                    "{n} (tracing nerve {}, {} waypoints)",
                    i + 1,
                    paths[i].waypoints.len()
                ),
                (n, None) => format!("{n}"),
            })
            .size(12),
        );
        if jumps > 0 {
            col = col.push(
                text(format!(
                    "{jumps} sudden width change{} (red rings): check them",
                    if jumps == 1 { "" } else { "s" }
                ))
                .size(12)
                .style(text::danger),
            );
        }
        if self.heat_map().is_some() {
            col = col.push(
                text("The segmenter's doubt is shown: red where its mirrored views disagree (K hides it).")
                    .size(12),
            );
        }
        if let Some(note) = &self.carry_note {
            col = col.push(text(note).size(12));
        }
        if self.tool == Tool::Tracer {
            let hint = if self.tracer().is_none() && self.loaded.is_some() {
                "Reading the nerve ridges…"
            } else {
                "Click along a nerve; Enter finishes it. Click beside a nerve to add a \
                 waypoint, Ctrl+click to branch. Wheel on a node: its width; Shift+wheel \
                 or [ ]: the whole nerve."
            };
            col = col.push(text(hint).size(11).style(muted));
        }
        col.into()
    }

    /// Brightness and contrast for viewing (the image file never changes).
    fn view_settings(&self) -> Element<'_, Message> {
        let a = self.adjust;
        column![
            text("View").size(14),
            row![
                text("Brightness").size(12).width(75),
                slider(-0.5..=0.5, a.brightness, Message::Brightness).step(0.02)
            ]
            .spacing(6),
            row![
                text("Contrast").size(12).width(75),
                slider(0.5..=3.0, a.contrast, Message::Contrast).step(0.05)
            ]
            .spacing(6),
            button(text("Reset view").size(12))
                .style(button::secondary)
                .on_press_maybe((!a.is_neutral()).then_some(Message::ResetView)),
        ]
        .spacing(6)
        .into()
    }

    fn strip<'a>(&'a self, thumbnails: &'a Thumbnails) -> Element<'a, Message> {
        let cells = self.neighbours(4).into_iter().map(|stem| {
            let current = stem == self.current;
            let thumb: Element<'a, Message> = match thumbnails.get(&stem) {
                Some(h) => image(h.clone()).height(54).into(),
                None => container(text("…").size(11))
                    .width(96)
                    .height(54)
                    .center_x(96)
                    .center_y(54)
                    .into(),
            };
            button(column![thumb, text(stem.clone()).size(10)].align_x(Alignment::Center))
                .padding(3)
                .style(if current {
                    button::primary
                } else {
                    button::text
                })
                .on_press(Message::Go(stem))
                .into()
        });
        container(row(cells).spacing(6))
            .center_x(Length::Fill)
            .into()
    }
}

fn help<'a>() -> Element<'a, Message> {
    let mut lines = column![text("Keys").size(18)].spacing(3);
    for b in BINDINGS.iter().filter(|b| !b.keys.is_empty()) {
        lines =
            lines.push(row![text(b.keys).size(13).width(120), text(b.what).size(13)].spacing(10));
    }
    lines = lines.push(
        text("Space + drag or middle drag: pan · wheel: zoom at the cursor")
            .size(13)
            .style(muted),
    );
    lines = lines.push(button(text("Close").size(13)).on_press(Message::Command(Command::Help)));
    container(lines).padding(20).style(panel).into()
}

//! The Review screen's layout: the run pickers and tabs, then the queue and the side-by-side
//! view (or the summary, the comparison, the linked view).

use super::{Choice, Message, Review, Tab};
use crate::gui::style::{Notice, chip, message_line, muted, panel};
use crate::gui::widgets::compare::{KEYS, Pane};
use crate::ml::models::Task;
use crate::review::decisions::Take;
use crate::review::overlay::{FALSE_NEGATIVE, FALSE_POSITIVE, TRUE_POSITIVE};
use crate::review::{Order, Review as Table, Row};
use iced::widget::{
    Column, button, canvas, column, container, pick_list, progress_bar, row, scrollable, text,
    text_input,
};
use iced::{Alignment, Color, Element, Length};

/// Rows listed in the queue at most (the rest are reached with Next).
const LISTED: usize = 400;

fn swatch<'a>(c: [u8; 3], label: &'a str) -> Element<'a, Message> {
    chip(label, Color::from_rgb8(c[0], c[1], c[2]))
}

impl Review {
    pub fn view<'a>(&'a self, ctx: &crate::gui::screens::Context) -> Element<'a, Message> {
        let read_only = ctx.read_only();
        let seg = self.runs_of(Task::Segment);
        let cls = self.runs_of(Task::Classify);
        let chosen = |list: &[Choice<String>], v: &Option<String>| {
            list.iter().find(|c| &c.value == v).cloned()
        };
        let tab = |label: &'static str, t: Tab| {
            button(text(label).size(13))
                .style(if self.tab == t {
                    button::primary
                } else {
                    button::text
                })
                .on_press(Message::Tab(t))
        };
        let header = row![
            text("Review").size(20),
            text("Segmenter").size(13),
            pick_list(
                seg.clone(),
                chosen(&seg, &self.models.segmenter),
                Message::PickSegmenter
            )
            .text_size(13),
            text("Classifier").size(13),
            pick_list(
                cls.clone(),
                chosen(&cls, &self.models.classifier),
                Message::PickClassifier
            )
            .text_size(13),
            iced::widget::space::horizontal(),
            button(text("Write review report").size(13))
                .style(button::secondary)
                .on_press_maybe(self.table.as_ref().map(|_| Message::WriteReport)),
        ]
        .spacing(10)
        .align_y(Alignment::Center);
        let tabs = row![
            tab("Images", Tab::Images),
            tab("Summary", Tab::Summary),
            tab("Compare runs", Tab::Compare),
            tab("Linked view", Tab::Linked),
        ]
        .spacing(6);
        let mut page = Column::new().spacing(8).push(header).push(tabs);
        // One fixed line for what the last action did, or why the review cannot be built.
        let error = self.error.clone().map(Notice::Failed);
        page = page.push(message_line(error.or_else(|| self.outcome.clone())));
        if let Some((what, done, total)) = &self.loading {
            page = page.push(
                row![
                    text(if *total > 0 {
                        format!("{what}: {done} of {total}")
                    } else {
                        format!("{what}…")
                    })
                    .size(13),
                    progress_bar(0.0..=(*total).max(1) as f32, *done as f32).girth(8),
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            );
        }
        let body: Element<'_, Message> = match self.tab {
            Tab::Linked => self.linked.view().map(Message::Linked),
            _ if self.table.is_none() => text("").into(),
            Tab::Images => self.images(read_only),
            Tab::Summary => self.summary(),
            Tab::Compare => self.compare(),
        };
        page.push(body).into()
    }

    fn images(&self, read_only: bool) -> Element<'_, Message> {
        row![
            container(self.queue_list())
                .width(Length::Fixed(330.0))
                .height(Length::Fill)
                .padding(8)
                .style(panel),
            self.detail(read_only)
        ]
        .spacing(10)
        .into()
    }

    fn queue_list(&self) -> Element<'_, Message> {
        let Some(table) = &self.table else {
            return text("").into();
        };
        let classes = any(
            "class",
            table
                .classes
                .iter()
                .enumerate()
                .map(|(i, c)| (i, c.clone())),
        );
        let splits = any(
            "split",
            crate::project::Split::ALL.map(|s| (s, s.name().to_string())),
        );
        let statuses = any(
            "status",
            crate::project::Status::ALL.map(|s| (s, s.name().to_string())),
        );
        let mut col = Column::new()
            .spacing(6)
            .push(
                pick_list(Order::ALL, Some(self.order), Message::Sort)
                    .text_size(12)
                    .width(Length::Fill),
            )
            .push(
                row![
                    pick(classes, self.filter.class, Message::FilterClass),
                    pick(splits, self.filter.split, Message::FilterSplit),
                    pick(statuses, self.filter.status, Message::FilterStatus),
                ]
                .spacing(4),
            );
        if let Some((t, c)) = self.filter.cell {
            col = col.push(
                row![
                    text(format!(
                        "Labeled {} → called {}",
                        table.class_name(t),
                        table.class_name(c)
                    ))
                    .size(12)
                    .width(Length::Fill),
                    button(text("Show all").size(12))
                        .style(button::secondary)
                        .on_press(Message::ClearCell)
                ]
                .align_y(Alignment::Center),
            );
        }
        col = col.push(
            text(format!("{} images", self.queue.len()))
                .size(12)
                .style(muted),
        );
        col.push(scrollable(self.queue_rows(table)).height(Length::Fill))
            .into()
    }

    /// The queue's first images, the one shown highlighted; a click shows another.
    fn queue_rows<'a>(&'a self, table: &'a Table) -> Element<'a, Message> {
        let mut list = Column::new().spacing(2);
        for (pos, &i) in self.queue.iter().enumerate().take(LISTED) {
            let r = &table.rows[i];
            let selected = pos == self.position;
            list = list.push(
                button(self.row_line(r))
                    .width(Length::Fill)
                    .padding([3, 6])
                    .style(if selected {
                        button::primary
                    } else {
                        button::text
                    })
                    .on_press(Message::Select(pos)),
            );
        }
        if self.queue.len() > LISTED {
            list = list.push(
                text(format!(
                    "… and {} more (use Next)",
                    self.queue.len() - LISTED
                ))
                .size(11)
                .style(muted),
            );
        }
        list.into()
    }

    fn row_line(&self, r: &Row) -> Element<'_, Message> {
        let table = self.table.as_ref().expect("a table is shown");
        let iou = r
            .iou()
            .map(|i| format!("IoU {i:.2}"))
            .unwrap_or_else(|| "–".into());
        let call = match (r.call(), r.misclassified()) {
            (Some((c, p)), Some(true)) => format!("✗ {} {p:.2}", table.class_name(c)),
            (Some((c, p)), _) => format!("{} {p:.2}", table.class_name(c)),
            _ => String::new(),
        };
        row![
            text(r.stem.clone()).size(12).width(Length::Fill),
            text(iou).size(12).width(Length::Fixed(62.0)),
            text(call).size(12).width(Length::Fixed(120.0)),
        ]
        .spacing(4)
        .into()
    }

    fn detail(&self, read_only: bool) -> Element<'_, Message> {
        let (Some(table), Some(r)) = (&self.table, self.current()) else {
            return container(text("No image matches these filters.").size(14))
                .padding(20)
                .into();
        };
        let mut col = Column::new().spacing(6).push(
            row![
                text(r.stem.clone()).size(16),
                text(self.facts(table, r).join("   ·   ")).size(13)
            ]
            .spacing(16)
            .align_y(Alignment::Center),
        );
        if let Some((_, why)) = table.disagreement(r) {
            col = col.push(
                text(format!("Disagreement: {why}"))
                    .size(13)
                    .color(Color::from_rgb8(0xF0, 0xAD, 0x4E)),
            );
        }
        col.push(self.panes_view())
            .push(self.decisions_view(table, r, read_only))
            .push(self.queue_moves())
            .width(Length::Fill)
            .into()
    }

    /// The image's label, the classifier's call and the segmenter's scores, in words.
    fn facts(&self, table: &Table, r: &Row) -> Vec<String> {
        let label = r.truth.map_or("unlabeled", |t| table.class_name(t));
        let mut facts = vec![format!("Label: {label}"), format!("status {}", r.status)];
        if let Some((c, p)) = r.call() {
            let verdict = match r.misclassified() {
                Some(true) => " — wrong",
                Some(false) => " — right",
                None => "",
            };
            facts.push(format!(
                "Classifier: {} ({:.0} %){verdict}",
                table.class_name(c),
                p * 100.0
            ));
        }
        if let Some(s) = &r.scores {
            facts.push(format!(
                "IoU {:.3} · Dice {:.3} · clDice {:.3}",
                s.iou, s.dice, s.cl_dice
            ));
        } else if let Some(share) = r.predicted_share {
            facts.push(format!(
                "predicted nerve: {:.1} % of the image",
                share * 100.0
            ));
        }
        facts
    }

    /// Truth, prediction and difference side by side, with the difference's legend.
    fn panes_view(&self) -> Element<'_, Message> {
        let pane = |index: usize, title: &'static str| {
            column![
                text(title).size(13),
                canvas(Pane {
                    review: self,
                    index
                })
                .width(Length::Fill)
                .height(Length::Fill)
            ]
            .spacing(4)
            .width(Length::Fill)
        };
        let panes: Element<'_, Message> = match (&self.panes, &self.panes_error) {
            (_, Some(e)) => text(e).size(13).style(text::danger).into(),
            _ => row![
                pane(0, "Ground truth"),
                pane(1, "Prediction"),
                pane(2, "Difference")
            ]
            .spacing(6)
            .height(Length::Fill)
            .into(),
        };
        column![
            panes,
            row![
                text("Difference:").size(12),
                swatch(TRUE_POSITIVE, "both (true positive)"),
                swatch(FALSE_POSITIVE, "predicted only (false positive)"),
                swatch(FALSE_NEGATIVE, "missed (false negative)"),
                text("Wheel: zoom all three · drag: pan")
                    .size(12)
                    .style(muted),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        ]
        .spacing(6)
        .height(Length::Fill)
        .into()
    }

    /// Accept, undo, edit, flag (or the flag's comment box).
    fn decisions_view(&self, table: &Table, r: &Row, read_only: bool) -> Element<'_, Message> {
        let can_write = !read_only && !self.busy;
        if let Some(comment) = &self.flagging {
            return row![
                text("Why flag it?").size(13),
                text_input("a comment for whoever looks next", comment)
                    .id("review-comment")
                    .on_input(Message::Comment)
                    .on_submit(Message::ConfirmFlag)
                    .size(13)
                    .width(Length::Fill),
                button(text("Flag").size(13)).on_press(Message::ConfirmFlag),
                button(text("Cancel").size(13))
                    .style(button::secondary)
                    .on_press(Message::CancelFlag),
            ]
            .spacing(8)
            .align_y(Alignment::Center)
            .into();
        }
        row![
            button(text("Accept mask (A)").size(13)).on_press_maybe(
                (can_write && self.can_accept(r, Take::Mask))
                    .then_some(Message::Accept(Take::Mask))
            ),
            button(
                text(match r.call() {
                    Some((c, _)) => format!("Accept class: {} (C)", table.class_name(c)),
                    None => "Accept class (C)".into(),
                })
                .size(13)
            )
            .on_press_maybe(
                (can_write && self.can_accept(r, Take::Class))
                    .then_some(Message::Accept(Take::Class))
            ),
            button(text("Undo accept (Ctrl+Z)").size(13))
                .style(button::secondary)
                .on_press_maybe((can_write && self.can_undo()).then_some(Message::Undo)),
            button(text("Edit in Annotate (E)").size(13))
                .style(button::secondary)
                .on_press_maybe((!read_only).then_some(Message::Edit)),
            button(text("Flag… (F)").size(13))
                .style(button::secondary)
                .on_press_maybe(can_write.then_some(Message::Flag)),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into()
    }

    /// Previous and Next, where the image is in the queue, and the keys.
    fn queue_moves(&self) -> Element<'_, Message> {
        // Moving through the queue has a row of its own, always there: the decisions above
        // never push it out of a narrow window, and the flag box never moves the pictures.
        let keys = KEYS
            .iter()
            .map(|(k, w)| format!("{k} {w}"))
            .collect::<Vec<_>>()
            .join(" · ");
        row![
            button(text("Previous").size(13))
                .style(button::secondary)
                .on_press_maybe((self.position > 0).then_some(Message::Previous)),
            button(text("Next").size(13))
                .style(button::secondary)
                .on_press_maybe((self.position + 1 < self.queue.len()).then_some(Message::Next)),
            text(format!("{} of {}", self.position + 1, self.queue.len())).size(12),
            text(keys).size(11).style(muted).width(Length::Fill),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into()
    }
}

/// "any `what`", then each value with its words.
fn any<T>(what: &str, values: impl IntoIterator<Item = (T, String)>) -> Vec<Choice<T>> {
    let mut list = vec![Choice {
        value: None,
        label: format!("any {what}"),
    }];
    list.extend(values.into_iter().map(|(value, label)| Choice {
        value: Some(value),
        label,
    }));
    list
}

/// A filter's pick list, `value` selected.
fn pick<'a, T: Clone + PartialEq + 'a>(
    list: Vec<Choice<T>>,
    value: Option<T>,
    on_pick: fn(Choice<T>) -> Message,
) -> Element<'a, Message> {
    let selected = list.iter().find(|c| c.value == value).cloned();
    pick_list(list, selected, on_pick)
        .text_size(12)
        .width(Length::Fill)
        .into()
}

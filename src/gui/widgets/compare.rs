//! One pane of the Review screen's side-by-side view: a picture drawn with the screen's shared
//! viewport, so the three panes zoom and pan together. The first pane also turns the review's
//! keys into messages (the others would repeat them).

use crate::gui::screens::review::{Message, Review};
use crate::review::decisions::Take;
use iced::advanced::image::{FilterMethod, Image};
use iced::keyboard::{self, Key, key::Named};
use iced::mouse::{self, Button, ScrollDelta};
use iced::widget::canvas::{self, Event, Frame, Geometry};
use iced::{Color, Point, Rectangle, Renderer, Size, Theme};

pub struct Pane<'a> {
    pub review: &'a Review,
    /// 0 truth, 1 prediction, 2 difference.
    pub index: usize,
}

#[derive(Debug, Default)]
pub struct PaneState {
    drag: Option<Point>,
    size: Option<Size>,
}

/// The review's key bindings: (key, what it does), as the help line lists them.
pub const KEYS: [(&str, &str); 8] = [
    ("A", "accept the mask"),
    ("C", "accept the class"),
    ("E", "edit in Annotate"),
    ("F", "flag with a comment"),
    ("N / →", "next"),
    ("P / ←", "previous"),
    ("0", "fit"),
    ("Ctrl+Z", "undo the last accept"),
];

fn key_message(key: &Key) -> Option<Message> {
    match key.as_ref() {
        Key::Character("a") => Some(Message::Accept(Take::Mask)),
        Key::Character("c") => Some(Message::Accept(Take::Class)),
        Key::Character("e") => Some(Message::Edit),
        Key::Character("f") => Some(Message::Flag),
        Key::Character("n") | Key::Named(Named::ArrowRight) => Some(Message::Next),
        Key::Character("p") | Key::Named(Named::ArrowLeft) => Some(Message::Previous),
        Key::Character("0") => Some(Message::Fit),
        _ => None,
    }
}

impl canvas::Program<Message> for Pane<'_> {
    type State = PaneState;

    fn update(
        &self,
        state: &mut PaneState,
        event: &Event,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Option<canvas::Action<Message>> {
        use canvas::Action;
        let is_input = matches!(
            event,
            Event::Mouse(mouse::Event::ButtonPressed(_) | mouse::Event::ButtonReleased(_))
                | Event::Keyboard(_)
        );
        if self.index == 0 && !is_input && state.size != Some(bounds.size()) {
            state.size = Some(bounds.size());
            return Some(Action::publish(Message::CanvasSize(bounds.size())));
        }
        let pos = cursor.position_in(bounds);
        match event {
            Event::Mouse(mouse::Event::ButtonPressed(Button::Left | Button::Middle)) => {
                state.drag = Some(pos?);
                Some(Action::capture())
            }
            Event::Mouse(mouse::Event::CursorMoved { .. }) => {
                let (last, p) = (state.drag?, cursor.position_in(bounds)?);
                state.drag = Some(p);
                Some(Action::publish(Message::Pan(p - last)))
            }
            Event::Mouse(mouse::Event::ButtonReleased(Button::Left | Button::Middle)) => {
                state.drag.take().map(|_| Action::capture())
            }
            Event::Mouse(mouse::Event::WheelScrolled { delta }) => {
                let p = pos?;
                let dy = match delta {
                    ScrollDelta::Lines { y, .. } => *y,
                    ScrollDelta::Pixels { y, .. } => *y / 40.0,
                };
                Some(Action::publish(Message::Zoom(p, 1.2f32.powf(dy))).and_capture())
            }
            Event::Keyboard(keyboard::Event::KeyPressed { key, modifiers, .. })
                if self.index == 0 && self.review.flagging.is_none() && !modifiers.alt() =>
            {
                let message = if modifiers.command() {
                    (key.as_ref() == Key::Character("z") && !modifiers.shift())
                        .then_some(Message::Undo)
                } else {
                    key_message(key)
                };
                message.map(|m| Action::publish(m).and_capture())
            }
            _ => None,
        }
    }

    fn draw(
        &self,
        _state: &PaneState,
        renderer: &Renderer,
        _theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<Geometry> {
        let mut frame = Frame::new(renderer, bounds.size());
        frame.fill_rectangle(
            Point::ORIGIN,
            bounds.size(),
            Color::from_rgb8(0x18, 0x18, 0x1b),
        );
        if let Some(p) = &self.review.panes {
            let v = &self.review.viewport;
            let filter = if v.scale >= 2.0 {
                FilterMethod::Nearest
            } else {
                FilterMethod::Linear
            };
            frame.draw_image(
                Rectangle::new(
                    v.to_screen(Point::ORIGIN),
                    Size::new(p.size.0 as f32 * v.scale, p.size.1 as f32 * v.scale),
                ),
                Image::new(p.images[self.index].clone()).filter_method(filter),
            );
        }
        vec![frame.into_geometry()]
    }

    fn mouse_interaction(
        &self,
        state: &PaneState,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> mouse::Interaction {
        match (state.drag, cursor.is_over(bounds)) {
            (Some(_), _) => mouse::Interaction::Grabbing,
            (None, true) => mouse::Interaction::Grab,
            _ => mouse::Interaction::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_keys_map_to_their_messages() {
        assert!(matches!(
            key_message(&Key::Character("a".into())),
            Some(Message::Accept(Take::Mask))
        ));
        assert!(matches!(
            key_message(&Key::Named(Named::ArrowRight)),
            Some(Message::Next)
        ));
        assert!(key_message(&Key::Character("z".into())).is_none());
    }
}

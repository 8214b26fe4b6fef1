//! The annotation editor's key bindings: one table, read by the canvas and listed in the
//! help overlay.

use iced::keyboard::{Key, Modifiers, key::Named};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Brush,
    Eraser,
    Fill,
    Polygon,
    Tracer,
    CarryPrevious,
    CarryNext,
    FinishPolygon,
    Cancel,
    Smaller,
    Larger,
    ZoomIn,
    ZoomOut,
    Fit,
    ActualSize,
    ToggleMask,
    Class(usize),
    Labeled,
    Reviewed,
    Flagged,
    Undo,
    Redo,
    Save,
    FillHoles,
    Clear,
    Next,
    Previous,
    NextUnlabeled,
    MostUseful,
    HeatMap,
    Help,
}

/// What a binding listens for.
#[derive(Debug, Clone, Copy)]
pub enum Press {
    Char(&'static str),
    Named(Named),
}

pub struct Binding {
    pub press: Press,
    pub ctrl: bool,
    pub shift: bool,
    pub command: Command,
    pub keys: &'static str,
    pub what: &'static str,
}

const fn bind(
    press: Press,
    ctrl: bool,
    shift: bool,
    command: Command,
    keys: &'static str,
    what: &'static str,
) -> Binding {
    Binding {
        press,
        ctrl,
        shift,
        command,
        keys,
        what,
    }
}

use Command as C;
use Press::{Char, Named as N};

pub const BINDINGS: &[Binding] = &[
    bind(Char("1"), false, false, C::Class(0), "1", "class: nerve"),
    bind(
        Char("2"),
        false,
        false,
        C::Class(1),
        "2",
        "class: opening wound",
    ),
    bind(Char("3"), false, false, C::Class(2), "3", "class: tendon"),
    bind(Char("b"), false, false, C::Brush, "B", "brush"),
    bind(Char("e"), false, false, C::Eraser, "E", "eraser"),
    bind(
        Char("f"),
        false,
        false,
        C::Fill,
        "F",
        "fill an enclosed area (click inside)",
    ),
    bind(
        Char("p"),
        false,
        false,
        C::Polygon,
        "P",
        "polygon / lasso (click points; Shift subtracts)",
    ),
    bind(
        Char("t"),
        false,
        false,
        C::Tracer,
        "T",
        "nerve tracer (click along a nerve; Ctrl+click branches; wheel on a node: width)",
    ),
    bind(
        Char("c"),
        false,
        false,
        C::CarryPrevious,
        "C",
        "carry the mask from the frame before (Enter keeps it, Esc discards it)",
    ),
    bind(
        Char("x"),
        false,
        false,
        C::CarryNext,
        "X",
        "carry the mask from the frame after",
    ),
    bind(
        N(Named::Enter),
        false,
        false,
        C::FinishPolygon,
        "Enter",
        "keep a carried mask / close the polygon / finish the nerve",
    ),
    bind(
        N(Named::Escape),
        false,
        false,
        C::Cancel,
        "Esc",
        "cancel the polygon, else back to Browse",
    ),
    bind(
        Char("["),
        false,
        false,
        C::Smaller,
        "[",
        "smaller brush (or Ctrl + wheel)",
    ),
    bind(Char("]"), false, false, C::Larger, "]", "larger brush"),
    bind(
        Char("+"),
        false,
        false,
        C::ZoomIn,
        "+",
        "zoom in (or the wheel, at the cursor)",
    ),
    bind(Char("="), false, false, C::ZoomIn, "=", "zoom in"),
    bind(Char("-"), false, false, C::ZoomOut, "-", "zoom out"),
    bind(Char("0"), false, false, C::Fit, "0", "fit the image"),
    bind(
        Char("0"),
        true,
        false,
        C::ActualSize,
        "Ctrl+0",
        "100% (one image pixel per screen pixel)",
    ),
    bind(
        Char("m"),
        false,
        false,
        C::ToggleMask,
        "M",
        "show / hide the mask",
    ),
    bind(Char("l"), false, false, C::Labeled, "L", "status: labeled"),
    bind(
        Char("r"),
        false,
        false,
        C::Reviewed,
        "R",
        "status: reviewed",
    ),
    bind(Char("g"), false, false, C::Flagged, "G", "status: flagged"),
    bind(Char("z"), true, false, C::Undo, "Ctrl+Z", "undo"),
    bind(Char("z"), true, true, C::Redo, "Ctrl+Shift+Z", "redo"),
    bind(Char("y"), true, false, C::Redo, "Ctrl+Y", "redo"),
    bind(
        Char("s"),
        true,
        false,
        C::Save,
        "Ctrl+S",
        "save now (changes are saved within a second anyway)",
    ),
    bind(
        Char("h"),
        false,
        false,
        C::FillHoles,
        "H",
        "fill holes in the mask",
    ),
    bind(
        N(Named::Delete),
        true,
        false,
        C::Clear,
        "Ctrl+Delete",
        "clear the mask",
    ),
    bind(Char("d"), false, false, C::Next, "D / Right", "next image"),
    bind(N(Named::ArrowRight), false, false, C::Next, "", ""),
    bind(
        Char("a"),
        false,
        false,
        C::Previous,
        "A / Left",
        "previous image",
    ),
    bind(N(Named::ArrowLeft), false, false, C::Previous, "", ""),
    bind(
        Char("n"),
        false,
        false,
        C::NextUnlabeled,
        "N",
        "next unlabeled image",
    ),
    bind(
        Char("u"),
        false,
        false,
        C::MostUseful,
        "U",
        "the most useful unlabeled image (Browse: Most useful to label first)",
    ),
    bind(
        Char("k"),
        false,
        false,
        C::HeatMap,
        "K",
        "show / hide the segmenter's doubt as a heat map",
    ),
    bind(
        Char("?"),
        false,
        false,
        C::Help,
        "?",
        "show / hide this help",
    ),
    bind(Char("/"), false, true, C::Help, "", ""),
];

/// The command for a key press, if any. Shift is ignored for characters that need it.
pub fn command_for(key: &Key, modifiers: Modifiers) -> Option<Command> {
    BINDINGS
        .iter()
        .filter(|b| b.ctrl == modifiers.command())
        .filter(|b| match b.press {
            Press::Char(c) => {
                matches!(key, Key::Character(k) if k.eq_ignore_ascii_case(c))
                    && (!b.ctrl || b.shift == modifiers.shift())
            }
            Press::Named(n) => *key == Key::Named(n) && b.shift == modifiers.shift(),
        })
        .map(|b| b.command)
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(c: &str) -> Key {
        Key::Character(c.into())
    }

    #[test]
    fn table_lookups() {
        assert_eq!(
            command_for(&ch("2"), Modifiers::empty()),
            Some(Command::Class(1))
        );
        assert_eq!(command_for(&ch("z"), Modifiers::CTRL), Some(Command::Undo));
        assert_eq!(
            command_for(&ch("Z"), Modifiers::CTRL | Modifiers::SHIFT),
            Some(Command::Redo)
        );
        assert_eq!(command_for(&ch("z"), Modifiers::empty()), None);
        assert_eq!(
            command_for(&ch("0"), Modifiers::CTRL),
            Some(Command::ActualSize)
        );
        assert_eq!(
            command_for(&Key::Named(Named::ArrowRight), Modifiers::empty()),
            Some(Command::Next)
        );
        assert_eq!(command_for(&ch("?"), Modifiers::SHIFT), Some(Command::Help));
        assert_eq!(command_for(&ch("D"), Modifiers::SHIFT), Some(Command::Next));
    }

    #[test]
    fn every_key_is_bound_once() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let same = match (a.press, b.press) {
                    (Press::Char(x), Press::Char(y)) => x == y,
                    (Press::Named(x), Press::Named(y)) => x == y,
                    _ => false,
                };
                assert!(
                    !(same && a.ctrl == b.ctrl && a.shift == b.shift),
                    "{} bound twice",
                    a.keys
                );
            }
        }
    }
}

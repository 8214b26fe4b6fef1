//! The screens. Each has the same shape, in the same places of its module:
//!
//! - `Message`: what reaches it (from its widgets and from its own background jobs);
//! - `Request`: what only the app can do for it (open another screen, write the project's
//!   index, show a file dialog); its update returns them inside an [`Action`];
//! - `new(ctx, …) -> (Self, Task<Message>)`: the screen and its first loads;
//! - `update(&mut self, message, ctx) -> Action<Message, Request>`;
//! - `view(&self, ctx) -> Element<Message>`;
//! - `subscription(&self) -> Subscription<Message>`: its keys and ticks.
//!
//! A screen sees the open project, the loaded thumbnails and the window's settings through a
//! read-only [`Context`], never another screen. Screens live in the open project's state, so
//! opening another project starts every screen afresh.

pub mod annotate;
pub mod browse;
pub mod models;
pub mod review;
pub mod train;
pub mod welcome;

use crate::gui::thumbnails::Thumbnails;
use crate::gui::training::Session;
use crate::ml::device::DeviceChoice;
use crate::project::Project;
use iced::Task;
use std::path::Path;

/// The window's settings that outlive a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// The device training, review and inference run on.
    pub device: DeviceChoice,
}

/// What every screen may read: the open project and what the window knows beside it.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub project: &'a Project,
    pub thumbnails: &'a Thumbnails,
    pub settings: &'a Settings,
    /// This window's training (running, paused or ended), if one was started.
    pub training: Option<&'a Session>,
}

impl Context<'_> {
    pub fn root(&self) -> &Path {
        self.project.root()
    }

    pub fn read_only(&self) -> bool {
        self.project.is_read_only()
    }

    /// Whether this window's training is running (or stopping).
    pub fn training_active(&self) -> bool {
        self.training.is_some_and(|t| t.phase.is_active())
    }
}

/// What a screen's update hands back: its own work to run (whose messages come back to it)
/// and what it asks of the app, in order.
#[must_use]
pub struct Action<M, R> {
    pub task: Task<M>,
    pub requests: Vec<R>,
}

impl<M: 'static, R> Action<M, R> {
    pub fn none() -> Self {
        Action {
            task: Task::none(),
            requests: Vec::new(),
        }
    }

    pub fn run(task: Task<M>) -> Self {
        Action {
            task,
            requests: Vec::new(),
        }
    }

    pub fn request(request: R) -> Self {
        Action {
            task: Task::none(),
            requests: vec![request],
        }
    }

    /// This action and `other`'s work and requests after it.
    pub fn and(mut self, other: Action<M, R>) -> Self {
        self.task = Task::batch([self.task, other.task]);
        self.requests.extend(other.requests);
        self
    }

    pub fn and_request(mut self, request: R) -> Self {
        self.requests.push(request);
        self
    }
}

impl<M: 'static, R> Default for Action<M, R> {
    fn default() -> Self {
        Action::none()
    }
}

impl<M, R: std::fmt::Debug> std::fmt::Debug for Action<M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Action")
            .field("tasks", &self.task.units())
            .field("requests", &self.requests)
            .finish()
    }
}

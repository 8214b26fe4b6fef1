use clap::Parser;
use nerve_studio::cli::{Cli, Command, run};
use nerve_studio::gui;

fn main() {
    let cli = Cli::parse();
    nerve_studio::cli::bench::register_ui_bench(gui::bench::ui_latency);
    if !matches!(cli.command, None | Some(Command::Open { .. })) {
        // Mesa's Vulkan device-selection layer looks for a Wayland or X11 display whenever a
        // Vulkan instance is made, and prints "XDG_RUNTIME_DIR is invalid" where there is none.
        // It only re-orders GPUs for the window's screen: a command without a window needs none.
        // SAFETY: set before any thread exists (the start of main).
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
        // `nerve-studio info P | head` ends quietly when head has read enough, as Unix tools
        // do, instead of panicking on the closed pipe.
        #[cfg(unix)]
        // SAFETY: restores the default action of one signal, before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match cli.command {
        None => gui::run(gui::Launch::default()),
        Some(Command::Open {
            project,
            image,
            screen,
        }) => gui::run(gui::Launch {
            project: Some(project),
            image,
            annotate: screen == nerve_studio::cli::Screen::Annotate,
            screen: match screen {
                nerve_studio::cli::Screen::Train => gui::Screen::Train,
                nerve_studio::cli::Screen::Models => gui::Screen::Models,
                nerve_studio::cli::Screen::Review => gui::Screen::Review,
                _ => gui::Screen::Images,
            },
            ..Default::default()
        }),
        Some(command) => run(command),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

//! The two errors every layer's error type has, written once: a file that cannot be read or
//! written (`File { path, source: Arc<io::Error> }`) and a file that holds the wrong thing
//! (`Invalid { path, why }`). `path_errors!(Error)` gives the type `Error::file(path)` (for
//! `map_err`) and `Error::invalid(path, why)`.

macro_rules! path_errors {
    ($error:ident) => {
        impl $error {
            /// For `map_err`: an I/O error on `path`.
            pub fn file(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> $error + '_ {
                move |source| $error::File {
                    path: path.to_path_buf(),
                    source: std::sync::Arc::new(source),
                }
            }

            /// `path` holds the wrong thing, and why.
            pub fn invalid(path: &std::path::Path, why: impl std::fmt::Display) -> $error {
                $error::Invalid {
                    path: path.to_path_buf(),
                    why: why.to_string(),
                }
            }
        }
    };
}

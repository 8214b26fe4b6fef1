//! Image stems: the file name without extension, the key that ties image, label, mask and split.

/// Image file extensions a project accepts, lower case.
pub const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "bmp", "tif", "tiff"];

pub fn is_image_file(name: &str) -> bool {
    split_name(name)
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Splits `name.ext` into (`name`, `ext`).
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    let dot = name.rfind('.')?;
    (dot > 0 && dot + 1 < name.len()).then(|| (&name[..dot], &name[dot + 1..]))
}

/// Checks that a stem is safe as a file name in every project folder (the one rule for names
/// that become path components, [`super::names::problem`]). Returns the reason when it is not.
pub fn check_stem(stem: &str) -> Result<(), super::ProjectError> {
    super::names::problem(stem).map_or(Ok(()), |why| Err(super::ProjectError::Unacceptable(why)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_that_escape_are_refused() {
        assert!(check_stem("2021-03-09_f0001").is_ok());
        assert!(check_stem("a b (copy)").is_ok());
        for bad in ["", "../x", "a/b", "a\\b", "..", ".hidden", "x\u{7}y"] {
            assert!(check_stem(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn image_names_are_recognised() {
        assert!(is_image_file("a.JPG"));
        assert!(is_image_file("a.b.png"));
        assert!(!is_image_file("a.json"));
        assert!(!is_image_file(".jpg"));
        assert_eq!(split_name("x.tar.gz"), Some(("x.tar", "gz")));
    }
}

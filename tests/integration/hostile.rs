//! Hostile and odd inputs (issue 16): each ends in a clear error naming the file, or in correct
//! behaviour, with nothing written outside the target and nothing already saved changed.

use crate::support::{demo_export, folder, quiet, small_demo, tree};
use nerve_studio::project::exchange::{ExportFormat, ImportFormat, export, import};
use nerve_studio::project::{Project, Split};
use std::path::{Path, PathBuf};

/// A Supervisely export of a small demo, and the path of one annotation in it.
fn supervisely_export(images: usize, seed: u64) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, _, out) = demo_export(images, seed, ExportFormat::Supervisely);
    let ann = walk_files(&out)
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "json")
                && std::fs::read_to_string(p).unwrap().contains("\"bitmap\"")
        })
        .expect("an annotation with a bitmap");
    (dir, out, ann)
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_string(&v).unwrap()).unwrap();
}

/// Imports `src` into a new project beside it and returns the error text.
fn import_fails(format: ImportFormat, src: &Path) -> String {
    let dest = src.parent().unwrap().join("imported");
    let err = import(format, src, &dest, &mut quiet())
        .expect_err("a hostile input was imported")
        .to_string();
    assert!(
        !dest.join("images").is_dir() || tree(&dest).is_empty(),
        "{err}"
    );
    err
}

#[test]
fn a_tiny_supervisely_file_cannot_claim_gigabytes() {
    for claim in [200_000u64, u32::MAX as u64] {
        let (_d, src, ann) = supervisely_export(4, 31);
        edit_json(&ann, |v| {
            v["size"] = serde_json::json!({"width": claim, "height": claim});
        });
        let err = import_fails(ImportFormat::Supervisely, &src);
        let name = ann.file_name().unwrap().to_string_lossy().to_string();
        assert!(err.contains(&name) && err.contains("size"), "{err}");
    }
}

#[test]
fn a_bitmap_that_inflates_to_gigabytes_or_sits_at_i64_max_is_refused() {
    use base64::Engine;
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write;
    // 200 MB of zeros, a few hundred kilobytes compressed: far beyond a 192x108 image.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    for _ in 0..200 {
        z.write_all(&vec![0u8; 1 << 20]).unwrap();
    }
    let bomb = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
    let (_d, src, ann) = supervisely_export(4, 32);
    edit_json(&ann, |v| v["objects"][0]["bitmap"]["data"] = bomb.into());
    let err = import_fails(ImportFormat::Supervisely, &src);
    assert!(err.contains("inflates to more than"), "{err}");

    let (_d, src, ann) = supervisely_export(4, 33);
    edit_json(&ann, |v| {
        v["objects"][0]["bitmap"]["origin"] = serde_json::json!([i64::MAX - 2, 0])
    });
    let err = import_fails(ImportFormat::Supervisely, &src);
    assert!(err.contains("runs outside"), "{err}");
}

/// A PNG header claiming `w` x `h`, and nothing after it.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend(b"IHDR");
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    let crc = {
        let mut c = flate2::Crc::new();
        c.update(&ihdr);
        c.sum()
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc.to_be_bytes());
    png
}

#[test]
fn a_voc_mask_whose_header_claims_a_huge_size_is_refused() {
    let (_dir, _, out) = demo_export(4, 34, ExportFormat::Voc);
    let mask = walk_files(&out.join("SegmentationClass"))[0].clone();
    std::fs::write(&mask, png_header(100_000, 100_000)).unwrap();
    let err = import_fails(ImportFormat::Voc, &out);
    let name = mask.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name), "{err}");

    // A mask of another size than its image is named too.
    let mut small = image::GrayImage::new(10, 10);
    small.put_pixel(1, 1, image::Luma([1]));
    small.save(&mask).unwrap();
    let err = import_fails(ImportFormat::Voc, &out);
    assert!(err.contains("10x10 but its image is 192x108"), "{err}");
}

#[test]
fn names_from_data_never_write_outside_the_destination() {
    // A class `../x` in project.toml: the project does not open, and says why.
    let (_d, root) = small_demo(4, 35);
    let manifest = root.join("project.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("\"tendon\"", "\"../x\"", 1)).unwrap();
    let err = Project::open_read_only(&root).unwrap_err().to_string();
    assert!(
        err.contains("project.toml") && err.contains("`../x`"),
        "{err}"
    );

    // A label whose class is an absolute path, an experiment named `..`: shown without them,
    // reported, and exports stay inside DEST.
    let (dir, root) = small_demo(6, 36);
    let stem = Project::open_read_only(&root).unwrap().images()[0]
        .stem
        .clone();
    let label = root.join("labels").join(format!("{stem}.json"));
    edit_json(&label, |v| {
        v["class"] = "/tmp/evil".into();
        v["experiment"] = "..".into();
    });
    let before = std::fs::read(&label).unwrap();
    let project = Project::open_read_only(&root).unwrap();
    let problem = project
        .open_problems
        .iter()
        .find(|p| p.file.contains(&stem))
        .expect("the label is reported");
    assert!(
        problem.problem.contains("would leave its folder"),
        "{problem:?}"
    );
    assert_eq!(project.get(&stem).unwrap().label.class, None);
    let outside = dir.path().join("dest-sibling");
    for format in [
        ExportFormat::Folders,
        ExportFormat::Supervisely,
        ExportFormat::Voc,
    ] {
        let dest = dir.path().join("exports").join(format!("{format:?}"));
        export(&project, format, &dest, &mut quiet()).unwrap();
        assert!(!outside.exists() && !Path::new("/tmp/evil").exists());
        for file in walk_files(&dest) {
            assert!(file.starts_with(&dest), "{} outside", file.display());
        }
    }
    assert_eq!(
        std::fs::read(&label).unwrap(),
        before,
        "nothing saved changed"
    );
}

#[test]
fn odd_but_legal_stems_keep_their_splits_through_a_reopen_and_voc() {
    let (dir, root) = small_demo(6, 37);
    // Rename three images to a stem with a leading space, one beginning with '#', and one with
    // spaces inside; give them splits through the project itself.
    let mut project = Project::open(&root).unwrap();
    let originals: Vec<String> = project.images()[..3]
        .iter()
        .map(|e| e.stem.clone())
        .collect();
    drop(project);
    let odd = [" leading space", "#12 hash", "two words here"];
    for (from, to) in originals.iter().zip(odd) {
        for (folder, ext) in [("images", "jpg"), ("labels", "json"), ("masks", "png")] {
            let a = root.join(folder).join(format!("{from}.{ext}"));
            if a.exists() {
                std::fs::rename(&a, root.join(folder).join(format!("{to}.{ext}"))).unwrap();
            }
        }
    }
    project = Project::open(&root).unwrap();
    let splits = odd.iter().map(|s| (s.to_string(), Split::Test)).collect();
    project.set_splits(&splits).unwrap();
    drop(project);
    let project = Project::open(&root).unwrap();
    for s in odd {
        assert_eq!(project.get(s).unwrap().split, Some(Split::Test), "{s:?}");
    }
    // Through a VOC export and import, names with spaces come back with their splits.
    let out = dir.path().join("voc");
    export(&project, ExportFormat::Voc, &out, &mut quiet()).unwrap();
    drop(project);
    let back = dir.path().join("back");
    import(ImportFormat::Voc, &out, &back, &mut quiet()).unwrap();
    let again = Project::open(&back).unwrap();
    for s in odd {
        assert_eq!(
            again.get(s).map(|e| e.split),
            Some(Some(Split::Test)),
            "{s:?}"
        );
    }
    assert_eq!(
        folder(&tree(&root), "images"),
        folder(&tree(&back), "images")
    );
}

#[test]
fn a_split_list_that_is_not_utf8_still_opens_and_is_reported() {
    let (_d, root) = small_demo(6, 38);
    let list = root.join("splits").join("val.txt");
    let mut bytes = std::fs::read(&list).unwrap();
    bytes.extend(b"\xff\xfe broken\n");
    std::fs::write(&list, bytes).unwrap();
    let project = Project::open_read_only(&root).expect("the project opens");
    assert!(
        project
            .open_problems
            .iter()
            .any(|p| p.file == "splits/val.txt" && p.problem.contains("not UTF-8")),
        "{:?}",
        project.open_problems
    );
    assert!(project.images().iter().any(|e| e.split == Some(Split::Val)));
}

#[test]
fn our_exports_are_what_the_real_readers_expect() {
    // Supervisely's SDK refuses an object without `tags`.
    let (_d, _src, ann) = supervisely_export(6, 39);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ann).unwrap()).unwrap();
    for object in v["objects"].as_array().unwrap() {
        assert!(object["tags"].is_array(), "{object}");
    }
    // VOC readers open a mask for every image a Segmentation list names.
    let (_dir, _, out) = demo_export(12, 40, ExportFormat::Voc);
    let mut listed = 0;
    for list in walk_files(&out.join("ImageSets").join("Segmentation")) {
        for stem in std::fs::read_to_string(&list).unwrap().lines() {
            listed += 1;
            assert!(
                out.join("SegmentationClass")
                    .join(format!("{stem}.png"))
                    .is_file(),
                "{} lists {stem} without a mask",
                list.display()
            );
        }
    }
    assert!(listed > 0);
}

#[cfg(unix)]
#[test]
fn a_colleague_can_still_read_and_write_after_a_save() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, root) = small_demo(4, 41);
    let stem = Project::open_read_only(&root).unwrap().images()[0]
        .stem
        .clone();
    let label = root.join("labels").join(format!("{stem}.json"));
    std::fs::set_permissions(&label, std::fs::Permissions::from_mode(0o664)).unwrap();
    let mut project = Project::open(&root).unwrap();
    let mut l = project.get(&stem).unwrap().label.clone();
    l.comment = "checked".into();
    project.save_label(&stem, &l).unwrap();
    project.save_manifest().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&label), 0o664, "a replaced file keeps its mode");
    assert_ne!(
        mode(&root.join("project.toml")) & 0o044,
        0,
        "not owner-only"
    );
}

/// Class folders of `n` new images (copies of a demo's) to import into an existing project.
fn new_images(dir: &Path, n: usize) -> PathBuf {
    let (_d, donor) = small_demo(n, 50);
    let src = dir.join("more");
    let nerve = src.join("nerve");
    std::fs::create_dir_all(&nerve).unwrap();
    for (i, e) in Project::open_read_only(&donor)
        .unwrap()
        .images()
        .iter()
        .enumerate()
    {
        std::fs::copy(
            donor.join("images").join(&e.file_name),
            nerve.join(format!("new_{i:03}.jpg")),
        )
        .unwrap();
    }
    src
}

#[test]
fn an_import_killed_half_way_is_completed_by_running_it_again() {
    let (dir, root) = small_demo(6, 51);
    let src = new_images(dir.path(), 5);
    // A kill after some images were moved in: their files are there, nothing else.
    for name in ["new_000.jpg", "new_001.jpg"] {
        std::fs::copy(src.join("nerve").join(name), root.join("images").join(name)).unwrap();
    }
    std::fs::create_dir_all(root.join(".import-x9/images")).unwrap();
    let report = import(ImportFormat::Folders, &src, &root, &mut quiet()).unwrap();
    assert_eq!(report.images, 5);
    let project = Project::open_read_only(&root).unwrap();
    for i in 0..5 {
        let e = project.get(&format!("new_{i:03}")).unwrap();
        assert_eq!(e.label.class.as_deref(), Some("nerve"), "{}", e.stem);
        assert!(e.split.is_some(), "{} has a split", e.stem);
    }
    assert!(
        !root.join(".import-x9").exists(),
        "the leftover went at open"
    );
    assert!(project.check().is_empty(), "{:?}", project.check());
    // Running it once more is refused as a duplicate and changes nothing.
    let before = tree(&root);
    let err = import(ImportFormat::Folders, &src, &root, &mut quiet())
        .unwrap_err()
        .to_string();
    assert!(err.contains("already in the project"), "{err}");
    assert_eq!(tree(&root), before);
}

#[test]
fn a_stray_mask_is_not_adopted_and_leftovers_are_listed_then_cleaned() {
    let (dir, root) = small_demo(4, 52);
    let src = new_images(dir.path(), 2);
    let stray = root.join("masks").join("new_001.png");
    std::fs::write(
        &stray,
        nerve_studio::mask::encode_mask_png(&nerve_studio::mask::Mask::empty(8, 8)),
    )
    .unwrap();
    let err = import(ImportFormat::Folders, &src, &root, &mut quiet())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("masks/new_001.png") && err.contains("would adopt"),
        "{err}"
    );
    assert!(
        Project::open_read_only(&root)
            .unwrap()
            .get("new_000")
            .is_none(),
        "all or nothing"
    );

    // Leftovers of killed writers: listed by info, removed by the next editing open.
    std::fs::remove_file(&stray).unwrap();
    std::fs::create_dir_all(root.join(".import-abc/images")).unwrap();
    let part = root.join("labels").join(".tmp-x1.part");
    std::fs::write(&part, b"{").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&part)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    let listed = Project::open_read_only(&root).unwrap().check();
    for what in [".import-abc", "labels/.tmp-x1.part"] {
        assert!(listed.iter().any(|p| p.file == what), "{what}: {listed:?}");
    }
    drop(Project::open(&root).unwrap());
    assert!(!part.exists() && !root.join(".import-abc").exists());
}

#[cfg(unix)]
#[test]
fn a_pipe_named_like_an_image_does_not_hang_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src/nerve");
    std::fs::create_dir_all(&src).unwrap();
    image::RgbImage::new(40, 40)
        .save(src.join("a.jpg"))
        .unwrap();
    let fifo = std::ffi::CString::new(src.join("x.jpg").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let err = import_fails(ImportFormat::Folders, &dir.path().join("src"));
    assert!(
        err.contains("x.jpg") && err.contains("not a regular file"),
        "{err}"
    );
}

#[test]
fn tables_and_masks_from_elsewhere_are_read_or_refused_with_a_reason() {
    use nerve_studio::eval::labels::{Scores, read_csv};
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("excel.csv");
    let table = "stem,truth,pred,p_nerve,p_opening_wound,p_tendon\na,nerve,nerve,0.8,0.1,0.1\n";
    std::fs::write(&csv, format!("\u{feff}{table}")).unwrap();
    assert_eq!(
        read_csv(&csv, Scores::Probabilities).unwrap().rows.len(),
        1,
        "a BOM is fine"
    );
    std::fs::write(&csv, table.replace(",nerve,0.8", ",,0.8")).unwrap();
    let err = read_csv(&csv, Scores::Probabilities)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("empty pred"),
        "{err}"
    );
    std::fs::write(&csv, table.replace("0.8", "7")).unwrap();
    let err = read_csv(&csv, Scores::Probabilities)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a probability") && err.contains("--softmax"),
        "{err}"
    );
    assert!(
        read_csv(&csv, Scores::Logits).is_ok(),
        "logits are fine with --softmax"
    );

    // A 16-bit truth mask of 0 and 1 is a mask, not an empty one.
    let path = dir.path().join("t16.png");
    let mut m = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::new(8, 8);
    m.put_pixel(2, 2, image::Luma([1]));
    m.save(&path).unwrap();
    let mut note = None;
    let grey = nerve_studio::eval::masks::read_map(&path, &mut note).unwrap();
    assert_eq!(grey.get_pixel(2, 2).0[0], 255);
    assert!(note.unwrap().contains("16-bit"));

    // An RGBA mask in a project is reported; a mask of another size is left out of training.
    let (_d, root) = small_demo(8, 53);
    let project = Project::open_read_only(&root).unwrap();
    let masked: Vec<String> = project
        .images()
        .iter()
        .filter(|e| e.has_mask)
        .map(|e| e.stem.clone())
        .collect();
    image::RgbaImage::from_pixel(192, 108, image::Rgba([255, 255, 255, 255]))
        .save(project.mask_path(&masked[0]))
        .unwrap();
    image::GrayImage::new(50, 50)
        .save(project.mask_path(&masked[1]))
        .unwrap();
    let project = Project::open_read_only(&root).unwrap();
    let problems = project.check();
    assert!(
        problems
            .iter()
            .any(|p| p.file.contains(&masked[0]) && p.problem.contains("not an 8-bit grey")),
        "{problems:?}"
    );
    let plan = nerve_studio::ml::data::plan(&project, nerve_studio::ml::models::Task::Segment);
    if project.get(&masked[1]).unwrap().label.class.as_deref() == Some("nerve") {
        assert!(
            plan.excluded
                .iter()
                .any(|(s, why)| *s == masked[1] && why.contains("another size"))
        );
    }
}

#[test]
fn command_line_limits_and_messages_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::cli::nerve_studio(
        &["demo", "p", "--images", "18446744073709551615"],
        dir.path(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 to 100000 images") && !err.contains("panicked"),
        "{err}"
    );

    // A second copy says who edits the project, in words.
    let (_d, root) = small_demo(2, 54);
    let first = Project::open(&root).unwrap();
    let second = Project::open(&root).unwrap();
    let mut label = second.images()[0].label.clone();
    label.comment = "x".into();
    let stem = second.images()[0].stem.clone();
    let mut second = second;
    let err = second.save_label(&stem, &label).unwrap_err().to_string();
    assert!(
        err.starts_with("the project is open read-only: process "),
        "{err}"
    );
    assert!(err.contains("is editing it; close that copy"), "{err}");
    drop(first);
}

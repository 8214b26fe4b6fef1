use crate::support::{folder, quiet, small_demo, tree};
use nerve_studio::mask::{Mask, read_mask};
use nerve_studio::project::exchange::{ExportFormat, ImportFormat, export, import};
use nerve_studio::project::{MaskProvenance, Project, Split, Status};
use std::path::Path;

fn export_to(root: &Path, format: ExportFormat, dest: &Path) {
    let p = Project::open_read_only(root).unwrap();
    export(&p, format, dest, &mut quiet()).unwrap();
}

#[test]
fn supervisely_round_trip_is_byte_exact() {
    let (dir, root) = small_demo(24, 11);
    let out = dir.path().join("sly");
    export_to(&root, ExportFormat::Supervisely, &out);
    assert!(out.join("meta.json").is_file());
    let back = dir.path().join("again").join("demo");
    let report = import(ImportFormat::Supervisely, &out, &back, &mut quiet()).unwrap();
    assert_eq!(report.images, 24);
    assert_eq!(
        tree(&root),
        tree(&back),
        "images, labels, masks, splits and project.toml must survive"
    );
}

#[test]
fn voc_round_trip_keeps_images_masks_classes_and_splits() {
    let (dir, root) = small_demo(24, 12);
    let out = dir.path().join("voc");
    export_to(&root, ExportFormat::Voc, &out);
    assert!(out.join("ImageSets/Segmentation/trainval.txt").is_file());
    let back = dir.path().join("back");
    import(ImportFormat::Voc, &out, &back, &mut quiet()).unwrap();
    let (a, b) = (tree(&root), tree(&back));
    for f in ["images", "masks", "splits"] {
        assert_eq!(folder(&a, f), folder(&b, f), "{f} differ");
    }
    let (pa, pb) = (Project::open(&root).unwrap(), Project::open(&back).unwrap());
    for e in pa.images() {
        let f = pb.get(&e.stem).unwrap();
        assert_eq!(e.label.class, f.label.class, "{}", e.stem);
        assert_eq!(f.label.mask.is_some(), e.has_mask);
    }
}

#[test]
fn class_folders_round_trip_keeps_images_classes_and_splits() {
    let (dir, root) = small_demo(30, 13);
    let out = dir.path().join("folders");
    export_to(&root, ExportFormat::Folders, &out);
    assert!(out.join("training").is_dir() && out.join("testing").is_dir());
    let back = dir.path().join("back");
    let report = import(ImportFormat::Folders, &out, &back, &mut quiet()).unwrap();
    let pa = Project::open(&root).unwrap();
    let pb = Project::open(&back).unwrap();
    let labeled: Vec<_> = pa
        .images()
        .iter()
        .filter(|e| e.label.class.is_some())
        .collect();
    assert_eq!(report.images, labeled.len());
    for e in labeled {
        let f = pb.get(&e.stem).unwrap();
        assert_eq!(f.label.class, e.label.class);
        assert_eq!(f.split, e.split, "{}", e.stem);
        assert_eq!(
            std::fs::read(pa.image_path(e)).unwrap(),
            std::fs::read(pb.image_path(f)).unwrap()
        );
    }
}

#[test]
fn masks_export_is_plain_0_255_by_stem() {
    let (dir, root) = small_demo(10, 14);
    let out = dir.path().join("masks");
    export_to(&root, ExportFormat::Masks, &out);
    let p = Project::open(&root).unwrap();
    for e in p.images().iter().filter(|e| e.has_mask) {
        let path = out.join(format!("{}.png", e.stem));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(p.mask_path(&e.stem)).unwrap()
        );
        let img = image::open(&path).unwrap();
        assert_eq!(img.color(), image::ColorType::L8);
        assert!(
            img.to_luma8()
                .pixels()
                .all(|q| q.0[0] == 0 || q.0[0] == 255)
        );
    }
}

/// The worked example of shared/reference/supervisely-format.md, section 2.5.
fn write_documented_example(src: &Path) {
    std::fs::create_dir_all(src.join("exp12/img")).unwrap();
    std::fs::create_dir_all(src.join("exp12/ann")).unwrap();
    std::fs::write(src.join("meta.json"), r##"{"classes": [{"title": "nerve", "shape": "bitmap", "color": "#00FF12", "geometry_config": {}, "id": 6509777, "hotkey": ""}],
      "tags": [{"name": "tissue", "value_type": "oneof_string", "values": ["nerve", "opening_wound", "tendon"]}, {"name": "train", "value_type": "none"}],
      "projectType": "images"}"##).unwrap();
    image::RgbImage::from_pixel(1920, 1080, image::Rgb([150, 40, 40]))
        .save(src.join("exp12/img/exp12_L_0031.jpg"))
        .unwrap();
    std::fs::write(src.join("exp12/ann/exp12_L_0031.jpg.json"), r#"{
      "description": "", "name": "exp12_L_0031.jpg", "size": {"height": 1080, "width": 1920},
      "tags": [{"name": "tissue", "value": "nerve", "labelerLogin": "tech01", "createdAt": "2025-03-04T10:15:02.120Z", "updatedAt": "2025-03-04T10:15:02.120Z"},
               {"name": "train", "value": null}],
      "objects": [{"classTitle": "nerve", "geometryType": "bitmap", "description": "", "tags": [], "labelerLogin": "tech01",
        "createdAt": "2025-03-04T10:16:40.007Z", "updatedAt": "2025-03-04T10:19:11.931Z", "nnCreated": true, "nnUpdated": true,
        "bitmap": {"origin": [847, 512], "data": "eJzrDPBz5+WS4mJgYOD19HAJAtI8QMzGyAwkzyq8PQTiBPiEuALp////L705/y6QxVgS5BfM4PDsRhqQI+Xp4hhSMSe54sABk+ZGx77GiXsnNX5kZHZmZFDQZ84WM/0xCaiKwdPVz2WdU0ITAHmNIN8="}}]}"#).unwrap();
}

#[test]
fn supervisely_documented_example_imports_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sly");
    write_documented_example(&src);
    let dest = dir.path().join("p");
    import(ImportFormat::Supervisely, &src, &dest, &mut quiet()).unwrap();
    let p = Project::open(&dest).unwrap();
    let e = p.get("exp12_L_0031").unwrap();
    assert_eq!(e.label.class.as_deref(), Some("nerve"));
    assert_eq!(e.label.mask, Some(MaskProvenance::PredictedEdited));
    assert_eq!(e.label.annotator, "tech01");
    assert_eq!(e.label.updated_at, "2025-03-04T10:19:11.931Z");
    assert_eq!(e.split, Some(Split::Train));
    let m = p.load_mask("exp12_L_0031").unwrap().unwrap();
    assert_eq!((m.width(), m.height()), (1920, 1080));
    let rows = [
        "111000000000",
        "011110000000",
        "000111100000",
        "000001111000",
        "000000011110",
        "000000000111",
    ];
    let mut expected = Mask::empty(1920, 1080);
    for (r, line) in rows.iter().enumerate() {
        for (c, ch) in line.chars().enumerate() {
            expected.set(847 + c as u32, 512 + r as u32, ch == '1');
        }
    }
    assert_eq!(m, expected);
}

#[test]
fn supervisely_machine_masks_use_the_class_to_value_map() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sly");
    std::fs::create_dir_all(src.join("ds0/img")).unwrap();
    std::fs::create_dir_all(src.join("ds0/ann")).unwrap();
    std::fs::create_dir_all(src.join("ds0/masks_machine")).unwrap();
    std::fs::write(src.join("meta.json"), r#"{"classes": [{"title": "tendon", "shape": "bitmap"}, {"title": "Nerve", "shape": "bitmap"}],
        "tags": [{"name": "nerve", "value_type": "none"}, {"name": "opening_wound", "value_type": "none"}]}"#).unwrap();
    std::fs::write(
        src.join("obj_class_to_machine_color.json"),
        r#"{"tendon": [1,1,1], "Nerve": [2,2,2]}"#,
    )
    .unwrap();
    image::RgbImage::new(8, 4)
        .save(src.join("ds0/img/f_0001.png"))
        .unwrap();
    let mut machine = image::GrayImage::new(8, 4);
    machine.put_pixel(1, 1, image::Luma([1]));
    machine.put_pixel(5, 2, image::Luma([2]));
    machine.put_pixel(6, 2, image::Luma([2]));
    machine
        .save(src.join("ds0/masks_machine/f_0001.png"))
        .unwrap();
    std::fs::write(src.join("ds0/ann/f_0001.png.json"), r#"{"size": {"height": 4, "width": 8}, "tags": [{"name": "nerve", "value": null}], "objects": []}"#).unwrap();
    let dest = dir.path().join("p");
    import(ImportFormat::Supervisely, &src, &dest, &mut quiet()).unwrap();
    let p = Project::open(&dest).unwrap();
    let m = p.load_mask("f_0001").unwrap().unwrap();
    assert_eq!(m.count(), 2);
    assert!(m.get(5, 2) && m.get(6, 2) && !m.get(1, 1));
    let e = p.get("f_0001").unwrap();
    assert_eq!(e.label.class.as_deref(), Some("nerve"));
    assert_eq!(e.label.status, Status::Labeled);
    assert_eq!(e.label.experiment.as_deref(), Some("ds0"));
}

fn assert_fails_naming(
    result: Result<
        nerve_studio::project::exchange::ImportReport,
        nerve_studio::project::ProjectError,
    >,
    file: &str,
) {
    let err = result.expect_err("import must fail").to_string();
    assert!(err.contains(file), "error does not name {file}: {err}");
}

#[test]
fn bad_sources_name_the_file_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // Supervisely annotation without its image.
    let src = dir.path().join("sly");
    write_documented_example(&src);
    std::fs::remove_file(src.join("exp12/img/exp12_L_0031.jpg")).unwrap();
    let dest = dir.path().join("new");
    assert_fails_naming(
        import(ImportFormat::Supervisely, &src, &dest, &mut quiet()),
        "exp12_L_0031.jpg",
    );
    assert!(!dest.exists(), "a failed import left a project behind");

    // A corrupt image among class folders.
    let folders = dir.path().join("folders");
    std::fs::create_dir_all(folders.join("testing/nerve")).unwrap();
    image::RgbImage::new(4, 4)
        .save(folders.join("testing/nerve/good.png"))
        .unwrap();
    std::fs::write(
        folders.join("testing/nerve/broken.jpg"),
        b"\xff\xd8\xff not really",
    )
    .unwrap();
    assert_fails_naming(
        import(ImportFormat::Folders, &folders, &dest, &mut quiet()),
        "broken.jpg",
    );
    assert!(!dest.exists());

    // An unknown class folder.
    std::fs::remove_file(folders.join("testing/nerve/broken.jpg")).unwrap();
    std::fs::create_dir_all(folders.join("testing/bone")).unwrap();
    assert_fails_naming(
        import(ImportFormat::Folders, &folders, &dest, &mut quiet()),
        "bone",
    );

    // VOC: a mask of the wrong size, and a list that tries to leave the project.
    let voc = dir.path().join("voc");
    std::fs::create_dir_all(voc.join("JPEGImages")).unwrap();
    std::fs::create_dir_all(voc.join("SegmentationClass")).unwrap();
    std::fs::create_dir_all(voc.join("ImageSets/Segmentation")).unwrap();
    image::RgbImage::new(10, 6)
        .save(voc.join("JPEGImages/a.png"))
        .unwrap();
    image::GrayImage::new(9, 6)
        .save(voc.join("SegmentationClass/a.png"))
        .unwrap();
    assert_fails_naming(
        import(ImportFormat::Voc, &voc, &dest, &mut quiet()),
        "a.png",
    );
    image::GrayImage::new(10, 6)
        .save(voc.join("SegmentationClass/a.png"))
        .unwrap();
    std::fs::write(
        voc.join("ImageSets/Segmentation/train.txt"),
        "a\n../../etc/passwd\n",
    )
    .unwrap();
    assert_fails_naming(
        import(ImportFormat::Voc, &voc, &dest, &mut quiet()),
        "train.txt",
    );
    assert!(!dest.exists());
}

#[test]
fn import_into_an_existing_project_adds_and_refuses_duplicates_untouched() {
    let (dir, root) = small_demo(10, 15);
    let before = tree(&root);
    let folders = dir.path().join("folders");
    std::fs::create_dir_all(folders.join("training and validation/Tendon")).unwrap();
    std::fs::create_dir_all(folders.join("testing/opening_wound")).unwrap();
    for i in 0..6 {
        image::RgbImage::new(12, 8)
            .save(folders.join(format!("training and validation/Tendon/t{i}.png")))
            .unwrap();
    }
    image::RgbImage::new(12, 8)
        .save(folders.join("testing/opening_wound/w0.png"))
        .unwrap();
    let report = import(ImportFormat::Folders, &folders, &root, &mut quiet()).unwrap();
    assert_eq!(report.images, 7);
    let p = Project::open(&root).unwrap();
    assert_eq!(p.images().len(), 17);
    assert_eq!(p.get("w0").unwrap().split, Some(Split::Test));
    assert_eq!(
        p.get("w0").unwrap().label.class.as_deref(),
        Some("opening wound")
    );
    for i in 0..6 {
        let s = p.get(&format!("t{i}")).unwrap().split;
        assert!(
            matches!(s, Some(Split::Train | Split::Val)),
            "trainval image went to {s:?}"
        );
    }
    for (k, v) in folder(&before, "images")
        .into_iter()
        .chain(folder(&before, "labels"))
        .chain(folder(&before, "masks"))
    {
        assert_eq!(std::fs::read(root.join(&k)).unwrap(), v, "{k} changed");
    }
    drop(p);
    // The same images again: refused, and nothing changes.
    let snapshot = tree(&root);
    assert_fails_naming(
        import(ImportFormat::Folders, &folders, &root, &mut quiet()),
        "is already in the project",
    );
    assert_eq!(tree(&root), snapshot);
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".import-"))
        .collect();
    assert!(leftovers.is_empty());
    assert!(read_mask(&root.join("masks/nothing.png")).is_err());
}

#[test]
fn a_deeplab_dataset_without_class_lists_imports_ready_to_train_the_segmenter() {
    let (dir, root) = small_demo(24, 14);
    let out = dir.path().join("voc");
    export_to(&root, ExportFormat::Voc, &out);
    // The lab's DeepLabV3+ layout has no class lists: only images, class PNGs and splits.
    std::fs::remove_dir_all(out.join("ImageSets/Main")).unwrap();
    // One image's mask emptied: a negative.
    let masks = out.join("SegmentationClass");
    let first = std::fs::read_dir(&masks)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let size = image::image_dimensions(&first).unwrap();
    std::fs::write(
        &first,
        nerve_studio::project::exchange::encode_voc_mask(&Mask::empty(size.0, size.1)),
    )
    .unwrap();
    let empty_stem = first.file_stem().unwrap().to_str().unwrap().to_string();

    let dest = dir.path().join("lab");
    let report = import(ImportFormat::Voc, &out, &dest, &mut quiet()).unwrap();
    let p = Project::open(&dest).unwrap();
    let masked: Vec<_> = p.images().iter().filter(|e| e.has_mask).collect();
    assert!(masked.len() > 5);
    for e in &masked {
        assert_eq!(e.label.status, Status::Labeled, "{}", e.stem);
        let painted = !p.load_mask(&e.stem).unwrap().unwrap().is_empty();
        let expected = painted.then_some("nerve");
        assert_eq!(e.label.class.as_deref(), expected, "{}", e.stem);
    }
    assert_eq!(p.get(&empty_stem).unwrap().label.class, None);
    assert_eq!(report.statuses["labeled"], masked.len());
    assert!(
        report.notes.iter().any(|n| n.contains("empty mask")),
        "{:?}",
        report.notes
    );
    // The segmenter learns from every masked image, the negative included.
    let plan = nerve_studio::ml::data::plan(&p, nerve_studio::ml::models::Task::Segment);
    assert_eq!(plan.items.len(), masked.len(), "{:?}", plan.excluded);
    assert!(plan.items.iter().any(|i| i.stem == empty_stem));
}

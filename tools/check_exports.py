#!/usr/bin/env python3
"""Reads Nerve Studio's exports with the real readers of each format and compares every mask
pixel for pixel with the project's own masks (issue 16).

- Supervisely: the `supervisely` SDK opens the exported project (`sly.Project`), loads every
  annotation against the project meta and renders its bitmap objects.
- VOC: torchvision's `VOCSegmentation` opens every image of every ImageSets/Segmentation list and
  its class mask.

Needs a virtual environment with `pip install supervisely torch torchvision` (CPU wheels will
do). Usage:

    python3 tools/check_exports.py --binary target/release/nerve-studio [--images 40] [--keep DIR]

Prints one line per format and exits non-zero on the first difference. CI skips it where the
libraries are absent (they are large); run it before resolving an export change.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image


def run(binary, *args):
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL)


def project_masks(project):
    """stem -> bool array of the project's own masks."""
    out = {}
    folder = os.path.join(project, "masks")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".png"):
            out[name[:-4]] = np.array(Image.open(os.path.join(folder, name))) > 127
    return out


def check_supervisely(export, masks):
    import supervisely as sly

    project = sly.Project(export, sly.OpenMode.READ)
    seen = 0
    for dataset in project.datasets:
        for name in dataset.get_items_names():
            ann = sly.Annotation.load_json_file(dataset.get_ann_path(name), project.meta)
            stem = os.path.splitext(name)[0]
            drawn = np.zeros(ann.img_size, dtype=bool)
            for label in ann.labels:
                label.geometry.draw(drawn, color=True)
            truth = masks.get(stem, np.zeros(ann.img_size, dtype=bool))
            if drawn.shape != truth.shape or not np.array_equal(drawn, truth):
                sys.exit(f"supervisely: {name}: the SDK's mask differs from masks/{stem}.png "
                         f"({int((drawn != truth).sum())} pixels)")
            seen += 1
    return seen


def check_voc(export, masks):
    from torchvision.datasets import VOCSegmentation

    # VOCSegmentation wants ROOT/VOCdevkit/VOC<year>/{JPEGImages,SegmentationClass,ImageSets};
    # the 2007 layout is the one with a test list.
    root = tempfile.mkdtemp(prefix="voc-root-")
    os.makedirs(os.path.join(root, "VOCdevkit"))
    os.symlink(os.path.abspath(export), os.path.join(root, "VOCdevkit", "VOC2007"))
    seen = 0
    for image_set in ["train", "val", "test", "trainval"]:
        listed = os.path.join(export, "ImageSets", "Segmentation", f"{image_set}.txt")
        if not os.path.exists(listed) or os.path.getsize(listed) == 0:
            continue
        data = VOCSegmentation(root, year="2007", image_set=image_set, download=False)
        for i in range(len(data)):
            image, target = data[i]
            stem = os.path.splitext(os.path.basename(data.images[i]))[0]
            got = np.array(target) == 1
            truth = masks[stem]
            if got.shape != truth.shape or not np.array_equal(got, truth):
                sys.exit(f"voc: {stem} ({image_set}): torchvision's mask differs from "
                         f"masks/{stem}.png")
            if image.size != (truth.shape[1], truth.shape[0]):
                sys.exit(f"voc: {stem}: image and mask sizes differ")
            seen += 1
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--keep")
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="nerve-exports-")
    project = os.path.join(work, "project")
    if not os.path.exists(project):
        run(args.binary, "demo", project, "--images", str(args.images), "--size", "320x180")
    masks = project_masks(project)
    sly_dir, voc_dir = os.path.join(work, "sly"), os.path.join(work, "voc")
    for fmt, dest in [("supervisely", sly_dir), ("voc", voc_dir)]:
        if not os.path.exists(dest):
            run(args.binary, "export", fmt, project, dest)
    checks = [("supervisely SDK", "supervisely", check_supervisely, sly_dir, "annotations"),
              ("torchvision VOCSegmentation", "torchvision", check_voc, voc_dir, "images")]
    for name, module, check, folder, what in checks:
        try:
            __import__(module)
        except ImportError:
            print(f"{name}: not installed here, skipped (pip install {module})")
            continue
        n = check(folder, masks)
        print(f"{name}: {n} {what}, every mask pixel equal")


if __name__ == "__main__":
    main()

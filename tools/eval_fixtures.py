#!/usr/bin/env python3
"""Writes tests/fixtures/eval/: inputs and the values scikit-learn, SciPy and scikit-image give
for them, which the Rust tests must reproduce to 1e-9.

    pip install numpy scipy scikit-learn scikit-image pillow
    python3 tools/eval_fixtures.py

Versions used for the committed files are recorded in versions.json.
"""
import json
import os

import numpy as np
import scipy
import scipy.stats
import skimage
import sklearn
from PIL import Image
from skimage.morphology import skeletonize
from sklearn import metrics

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "eval")
CLASSES = ["nerve", "opening wound", "tendon"]


def floats(a):
    """JSON-safe list: inf becomes None."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


def classification_case(name, truth, pred, scores):
    k = len(CLASSES)
    labels = list(range(k))
    truth, pred, scores = np.asarray(truth), np.asarray(pred), np.asarray(scores, dtype=float)
    mcm = metrics.multilabel_confusion_matrix(truth, pred, labels=labels)
    per_class = []
    for c in labels:
        (tn, fp), (fn, tp) = mcm[c]
        t, p = truth == c, pred == c
        pos = dict(zero_division=0)
        entry = dict(
            tp=int(tp), tn=int(tn), fp=int(fp), fn=int(fn),
            sensitivity=metrics.recall_score(t, p, **pos),
            specificity=metrics.recall_score(~t, ~p, **pos),
            ppv=metrics.precision_score(t, p, **pos),
            npv=metrics.precision_score(~t, ~p, **pos),
            accuracy=metrics.accuracy_score(t, p),
            f1_positive=metrics.f1_score(t, p, **pos),
            f1_negative=metrics.f1_score(~t, ~p, **pos),
            mcc=metrics.matthews_corrcoef(t, p),
        )
        if t.any() and (~t).any():
            fpr, tpr, thr = metrics.roc_curve(t, scores[:, c])
            entry["roc"] = dict(fpr=floats(fpr), tpr=floats(tpr), thresholds=floats(thr))
            entry["auc"] = metrics.auc(fpr, tpr)
        else:
            entry["roc"] = None
            entry["auc"] = None
        per_class.append({key: (float(v) if isinstance(v, (np.floating, float)) else v) for key, v in entry.items()})
    onehot = np.eye(k)[truth]
    fpr, tpr, thr = metrics.roc_curve(onehot.ravel(), scores.ravel())
    micro = dict(fpr=floats(fpr), tpr=floats(tpr), thresholds=floats(thr), auc=float(metrics.auc(fpr, tpr)))
    # The seed lab's macro average: the union of FPRs, each defined class's TPR interpolated.
    defined = [c for c in labels if per_class[c]["roc"] is not None]
    all_fpr = np.unique(np.concatenate([per_class[c]["roc"]["fpr"] for c in defined]))
    mean_tpr = np.zeros_like(all_fpr)
    for c in defined:
        mean_tpr += np.interp(all_fpr, per_class[c]["roc"]["fpr"], per_class[c]["roc"]["tpr"])
    mean_tpr /= len(defined)
    macro = dict(fpr=floats(all_fpr), tpr=floats(mean_tpr), auc=float(metrics.auc(all_fpr, mean_tpr)))
    prf = {}
    for avg in ["macro", "micro", "weighted"]:
        p, r, f, _ = metrics.precision_recall_fscore_support(truth, pred, labels=labels, average=avg, zero_division=0)
        prf[avg] = dict(precision=float(p), recall=float(r), f1=float(f))
    # The lab's notebook: softmax applied again to the probabilities before roc_curve.
    double = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    double_auc = [float(metrics.auc(*metrics.roc_curve(truth == c, double[:, c])[:2])) if (truth == c).any() and (truth != c).any() else None for c in labels]
    fpr_d, tpr_d, _ = metrics.roc_curve(onehot.ravel(), double.ravel())
    return dict(
        name=name,
        classes=CLASSES,
        truth=truth.tolist(),
        pred=pred.tolist(),
        scores=scores.tolist(),
        expected=dict(
            confusion=metrics.confusion_matrix(truth, pred, labels=labels).tolist(),
            accuracy=float(metrics.accuracy_score(truth, pred)),
            mcc=float(metrics.matthews_corrcoef(truth, pred)),
            per_class=per_class,
            averages=prf,
            micro_roc=micro,
            macro_roc=macro,
            double_softmax=dict(per_class_auc=double_auc, micro_auc=float(metrics.auc(fpr_d, tpr_d))),
        ),
    )


def classification_cases():
    rng = np.random.default_rng(7)
    n = 90
    truth = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), truth] += 1.4
    scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    scores = np.round(scores, 2)  # ties, as 2-decimal outputs of old notebooks have
    pred = scores.argmax(1)
    cases = [classification_case("noisy three classes with tied scores", truth, pred, scores)]
    # Degenerate: tendon never occurs, every call is nerve.
    truth = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    pred = np.zeros(8, dtype=int)
    scores = np.tile([0.7, 0.2, 0.1], (8, 1)) + np.linspace(0, 0.07, 8)[:, None] * [[-1, 1, 0]]
    cases.append(classification_case("a class absent, every call the same class", truth, pred, scores))
    return cases


def segmentation_masks():
    """Small truth (0/255) and probability (0-255) maps: shapes, a miss, both empty."""
    rng = np.random.default_rng(11)
    h, w = 36, 44
    yy, xx = np.mgrid[0:h, 0:w]
    cases = []
    for i in range(6):
        cy, cx, r = 18 + rng.integers(-5, 5), 22 + rng.integers(-8, 8), 7 + rng.integers(0, 6)
        truth = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)
        if i == 1:  # a thin branch (a nerve fibre)
            truth |= (abs(yy - cy) <= 1) & (xx > cx) & (xx < w - 2)
        dist = np.sqrt((yy - cy - rng.integers(-3, 4)) ** 2 + (xx - cx - rng.integers(-3, 4)) ** 2)
        prob = np.clip(1.0 / (1.0 + np.exp((dist - r) / 2.0)) + rng.normal(0, 0.08, (h, w)), 0, 1)
        cases.append((f"frame_{i:02d}", truth, np.round(prob * 255).astype(np.uint8)))
    # Both empty; a missed nerve; a false alarm.
    cases.append(("empty_both", np.zeros((h, w), bool), (rng.random((h, w)) * 60).astype(np.uint8)))
    cases.append(("missed", (yy - 18) ** 2 + (xx - 20) ** 2 <= 36, np.full((h, w), 20, np.uint8)))
    fa = np.zeros((h, w), np.uint8)
    fa[5:12, 5:15] = 230
    cases.append(("false_alarm", np.zeros((h, w), bool), fa))
    return cases


def segmentation_fixture(threshold):
    cases = segmentation_masks()
    truth_dir, pred_dir = os.path.join(OUT, "masks", "truth"), os.path.join(OUT, "masks", "pred")
    os.makedirs(truth_dir, exist_ok=True)
    os.makedirs(pred_dir, exist_ok=True)
    per_image = []
    all_t, all_p = [], []
    for stem, truth, prob in cases:
        Image.fromarray(truth.astype(np.uint8) * 255).save(os.path.join(truth_dir, stem + ".png"))
        Image.fromarray(prob).save(os.path.join(pred_dir, stem + ".png"))
        y = truth.astype(float)
        yhat = (prob / 255.0 >= threshold).astype(float)
        smooth = 1e-15
        inter = (y * yhat).sum()
        iou = (inter + smooth) / (y.sum() + yhat.sum() - inter + smooth)
        dice = (2 * inter + smooth) / (y.sum() + yhat.sum() + smooth)
        both_empty = y.sum() == 0 and yhat.sum() == 0
        t, p = truth.ravel(), yhat.ravel().astype(bool)
        prec = 1.0 if both_empty else metrics.precision_score(t, p, zero_division=0)
        rec = 1.0 if both_empty else metrics.recall_score(t, p, zero_division=0)
        f1 = 1.0 if both_empty else metrics.f1_score(t, p, zero_division=0)
        per_image.append(dict(stem=stem, iou=float(iou), dice=float(dice), precision=float(prec), recall=float(rec), f1=float(f1)))
        all_t.append(t)
        all_p.append(prob.ravel() / 255.0)
    t, s = np.concatenate(all_t), np.concatenate(all_p)
    precision, recall, thresholds = metrics.precision_recall_curve(t, s)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision), where=(precision + recall) > 0)[:-1]
    best = int(np.argmax(f1))
    summaries = {}
    for key in ["iou", "dice", "precision", "recall", "f1"]:
        v = np.array([r[key] for r in per_image])
        sem = scipy.stats.sem(v)
        lo, hi = scipy.stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=sem)
        summaries[key] = dict(mean=float(v.mean()), std=float(v.std(ddof=1)), sem=float(sem), ci95=[float(lo), float(hi)], median=float(np.median(v)))
    return dict(
        threshold=threshold,
        per_image=per_image,
        summaries=summaries,
        pr_curve=dict(
            precision=floats(precision), recall=floats(recall), thresholds=floats(thresholds),
            best=dict(threshold=float(thresholds[best]), f1=float(f1[best]), precision=float(precision[best]), recall=float(recall[best])),
            auc=float(metrics.auc(recall, precision)),
            average_precision=float(metrics.average_precision_score(t, s)),
        ),
    )


def zhang_suen_paper(mask):
    """The paper's two sub-iterations, written plainly (independent of the Rust table)."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            remove = []
            for y, x in zip(*np.nonzero(img)):
                p = [img[y - 1, x], img[y - 1, x + 1], img[y, x + 1], img[y + 1, x + 1],
                     img[y + 1, x], img[y + 1, x - 1], img[y, x - 1], img[y - 1, x - 1]]  # P2..P9
                b = sum(p)
                a = sum(1 for i in range(8) if p[i] == 0 and p[(i + 1) % 8] == 1)
                p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
                if not (2 <= b <= 6 and a == 1):
                    continue
                if step == 0 and p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0:
                    remove.append((y, x))
                if step == 1 and p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0:
                    remove.append((y, x))
            for y, x in remove:
                img[y, x] = 0
            changed |= bool(remove)
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def cl_dice(truth, pred, skel_t, skel_p):
    tprec = (skel_p & truth).sum() / skel_p.sum()
    tsens = (skel_t & pred).sum() / skel_t.sum()
    return float(2 * tprec * tsens / (tprec + tsens)) if tprec + tsens > 0 else 0.0


def skeleton_fixture(threshold):
    out = []
    for stem, truth, prob in segmentation_masks():
        pred = prob / 255.0 >= threshold
        if not truth.any() or not pred.any():
            continue
        sk_t, sk_p = skeletonize(truth), skeletonize(pred)
        zs_t, zs_p = zhang_suen_paper(truth), zhang_suen_paper(pred)
        h, w = truth.shape
        out.append(dict(
            stem=stem, width=w, height=h,
            truth=truth.astype(int).ravel().tolist(), pred=pred.astype(int).ravel().tolist(),
            skimage_truth=sk_t.astype(int).ravel().tolist(), skimage_pred=sk_p.astype(int).ravel().tolist(),
            paper_truth=zs_t.astype(int).ravel().tolist(), paper_pred=zs_p.astype(int).ravel().tolist(),
            cl_dice_skimage=cl_dice(truth, pred, sk_t, sk_p),
            cl_dice_paper=cl_dice(truth, pred, zs_t, zs_p),
        ))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    threshold = 0.5
    fixtures = {
        "classification.json": classification_cases(),
        "segmentation.json": segmentation_fixture(threshold),
        "skeleton.json": skeleton_fixture(threshold),
        "student_t.json": [dict(df=df, q975=float(scipy.stats.t.ppf(0.975, df))) for df in [1, 2, 3, 4, 5, 7, 10, 20, 30, 60, 100, 861, 5000]],
        "versions.json": dict(numpy=np.__version__, scipy=scipy.__version__, sklearn=sklearn.__version__, skimage=skimage.__version__),
    }
    for name, value in fixtures.items():
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(value, f, separators=(",", ":"))
            f.write("\n")
    # The same classification case as a predictions table for `eval labels`.
    case = fixtures["classification.json"][0]
    with open(os.path.join(OUT, "labels.csv"), "w") as f:
        f.write("stem,truth,pred," + ",".join("p_" + c.replace(" ", "_") for c in CLASSES) + "\n")
        for i, (t, p, s) in enumerate(zip(case["truth"], case["pred"], case["scores"])):
            f.write(f"img_{i:03d},{CLASSES[t]},{CLASSES[p]}," + ",".join(repr(v) for v in s) + "\n")
    print("written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()

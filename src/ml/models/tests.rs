//! Shapes and parameter counts of every architecture (CPU backend).

use burn::tensor::{Device, Distribution, Tensor};

use super::{Arch, ModelSpec, Output, ParamCounts};

fn counts(arch: Arch) -> ParamCounts {
    ModelSpec::new(arch).build(&Device::flex()).counts()
}

#[test]
fn mu_net_has_the_published_416209_parameters() {
    let c = counts(Arch::MuNet);
    assert_eq!(
        (c.total, c.trainable, c.non_trainable),
        (416_209, 409_025, 7_184)
    );
}

#[test]
fn double_unet_has_the_published_29297570_parameters() {
    let c = counts(Arch::DoubleUnet);
    assert_eq!(
        (c.total, c.trainable, c.non_trainable),
        (29_297_570, 29_290_274, 7_296)
    );
}

#[test]
fn tutorial_unet_matches_the_keras_total() {
    // seed-models.md §3: 6,502,786 at 224x224 with two output classes.
    assert_eq!(counts(Arch::UnetMobilenetV2).total, 6_502_786);
}

#[test]
fn classifiers_match_torchvision_with_a_three_class_head() {
    // torch 2.15 / torchvision 0.29: parameters + batch-norm running statistics.
    for (arch, params, stats) in [
        (Arch::MobilenetV2, 2_227_715, 34_112),
        (Arch::Resnet50, 23_514_179, 53_120),
        (Arch::Resnet101, 42_506_307, 105_344),
        (Arch::Densenet169, 12_489_475, 158_400),
        (Arch::Densenet201, 18_098_691, 229_056),
    ] {
        let c = counts(arch);
        assert_eq!((c.trainable, c.non_trainable), (params, stats), "{arch}");
    }
}

#[test]
fn mobilenet_width_multiplier_matches_torchvision() {
    let spec = ModelSpec {
        width: 0.35,
        ..ModelSpec::new(Arch::MobilenetV2)
    };
    let c = spec.build(&Device::flex()).counts();
    assert_eq!((c.trainable, c.non_trainable), (399_971, 14_080));
}

#[test]
fn every_architecture_keeps_the_input_size_at_multiples_of_32() {
    let device = Device::flex();
    for arch in Arch::ALL {
        let network = ModelSpec::new(arch).build(&device);
        for (h, w) in [(64, 64), (64, 96)] {
            let x = Tensor::<4>::random([2, 3, h, w], Distribution::Normal(0.0, 1.0), &device);
            match network.forward(x) {
                Output::Classes(l) => assert_eq!(l.dims(), [2, 3], "{arch}"),
                Output::Masks(m) => {
                    let k = if arch == Arch::DoubleUnet { 2 } else { 1 };
                    assert_eq!(m.dims(), [2, k, h, w], "{arch} at {h}x{w}");
                }
            }
        }
    }
}

#[test]
fn architecture_ids_round_trip() {
    for arch in Arch::ALL {
        assert_eq!(Arch::parse(arch.id()), Some(arch));
        let text = toml::to_string(&std::collections::BTreeMap::from([("a", arch)])).unwrap();
        assert!(text.contains(arch.id()), "{text}");
    }
}

#[test]
fn the_fine_tune_point_freezes_the_units_before_it() {
    use super::classifier::Backbone;
    let device = Device::flex().autodiff();
    let trainable = |backbone: &Backbone| match backbone {
        Backbone::MobileNet(m) => (
            m.stem.conv.weight.is_require_grad(),
            m.blocks[15].project.conv.weight.is_require_grad(),
            m.blocks[16].project.conv.weight.is_require_grad(),
            m.last.as_ref().unwrap().conv.weight.is_require_grad(),
        ),
        _ => unreachable!(),
    };
    let super::Network::Classifier(c) = ModelSpec::new(Arch::MobilenetV2).build(&device) else {
        unreachable!()
    };
    // The recipe's point: block 16 (unit 17) and the last layer (unit 18) train.
    let b = c.backbone.unfreeze_from(17);
    assert_eq!(trainable(&b), (false, false, true, true));
    assert_eq!(b.units(), 19);
    let b = b.unfreeze_from(usize::MAX);
    assert_eq!(trainable(&b), (false, false, false, false));
    let b = b.unfreeze_from(0);
    assert_eq!(trainable(&b), (true, true, true, true));
}

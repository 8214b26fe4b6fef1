#!/usr/bin/env python3
"""Makes the torchvision fixtures of the Rust tests (tests/fixtures/torchvision/).

Run from the repository root with PyTorch and torchvision installed (CPU is enough):

    python3 tools/torchvision_fixtures.py

It writes
  * mobilenet_v2_w035.{pth,safetensors}: a width-0.35, 3-class torchvision MobileNetV2 with
    seeded random weights and random batch-norm statistics (so inference-mode batch norm is not
    an identity), saved as a state dict;
  * input.png: a 64x64 RGB test image;
  * mobilenet_v2_w035_logits.json: the model's logits for input.png, normalised with the ImageNet
    mean and std, in eval mode;
  * keys_<arch>.json: the state-dict keys and shapes of torchvision's resnet50, resnet101,
    densenet169, densenet201, vgg19 and mobilenet_v2, so the key mapping of every architecture
    is tested without committing hundreds of megabytes of weights.
"""

import json
import os

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

OUT = os.path.join("tests", "fixtures", "torchvision")


def randomise_batch_norm(model, generator):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.num_features, generator=generator) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.1)


def test_image():
    y, x = np.mgrid[0:64, 0:64]
    r = (x * 4) % 256
    g = (y * 4) % 256
    b = ((x + y) * 2 + 40) % 256
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    generator = torch.Generator().manual_seed(11)
    model = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=3)
    randomise_batch_norm(model, generator)
    with torch.no_grad():
        # torchvision starts the head at N(0, 0.01); a unit-scale head gives logits of order 1,
        # so the 1e-4 comparison is meaningful.
        model.classifier[1].weight.copy_(torch.randn(3, model.last_channel, generator=generator))
        model.classifier[1].bias.copy_(torch.randn(3, generator=generator))
    model.eval()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save(state, os.path.join(OUT, "mobilenet_v2_w035.pth"))
    save_file(state, os.path.join(OUT, "mobilenet_v2_w035.safetensors"))

    pixels = test_image()
    from PIL import Image

    Image.fromarray(pixels).save(os.path.join(OUT, "input.png"))
    x = torch.from_numpy(pixels).float().permute(2, 0, 1) / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    x = ((x - mean) / std).unsqueeze(0)
    with torch.no_grad():
        logits = model(x)[0].tolist()
    with open(os.path.join(OUT, "mobilenet_v2_w035_logits.json"), "w") as f:
        json.dump({"input": "input.png", "logits": logits, "torch": torch.__version__,
                   "torchvision": torchvision.__version__}, f, indent=1)

    builders = {
        "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(),
        "resnet50": lambda: torchvision.models.resnet50(),
        "resnet101": lambda: torchvision.models.resnet101(),
        "densenet169": lambda: torchvision.models.densenet169(),
        "densenet201": lambda: torchvision.models.densenet201(),
        "vgg19": lambda: torchvision.models.vgg19(),
    }
    for name, build in builders.items():
        keys = {k: list(v.shape) for k, v in build().state_dict().items()}
        with open(os.path.join(OUT, f"keys_{name}.json"), "w") as f:
            json.dump(keys, f, indent=0)


if __name__ == "__main__":
    main()

"""Network architectures, all taking [N,1,48,48] float input already normalised to about [-1, 1]."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ReferenceCNN(nn.Module):
    """The seeds' Keras baseline (~4.5 M params): conv 32-64-128-512-512, dense 256-512."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        widths = [32, 64, 128, 512, 512]
        layers: list[nn.Module] = []
        in_channels = 1
        for index, width in enumerate(widths):
            layers += [nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            if index >= 1:
                layers += [nn.MaxPool2d(2), nn.Dropout(0.25)]
            in_channels = width
        self.features = nn.Sequential(*layers)  # 48 → 3
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(512 * 3 * 3, 256),
            nn.BatchNorm1d(256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.25),
            nn.Linear(256, 512),
            nn.BatchNorm1d(512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.25),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class VGGNet(nn.Module):
    """VGG-style: four stages of two 3×3 convs, max-pool, then global pooling and a dense head."""

    def __init__(self, num_classes: int = 7, widths: tuple[int, ...] = (64, 128, 256, 512)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 1
        for width in widths:
            layers += [conv_bn_relu(in_channels, width), conv_bn_relu(width, width), nn.MaxPool2d(2)]
            in_channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.4),
            nn.Linear(in_channels, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.4),
            nn.Linear(256, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet-style for 48×48: a 3×3 stem (or the one given), then stages of basic blocks, stride 2 between."""

    def __init__(
        self,
        num_classes: int = 7,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        blocks: tuple[int, ...] = (2, 2, 2, 2),
        dropout: float = 0.3,
        stem: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.stem = stem if stem is not None else conv_bn_relu(1, widths[0])
        stages: list[nn.Module] = []
        in_channels = widths[0]
        for index, (width, count) in enumerate(zip(widths, blocks)):
            for block in range(count):
                stride = 2 if block == 0 and index > 0 else 1
                stages.append(BasicBlock(in_channels, width, stride))
                in_channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_channels, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class DeskNet(ResNet):
    """The shipped network: small residual CNN sized for ≤ 2 ms/face on one CPU thread.

    A stride-2 stem brings 48×48 to 24×24 early (most of a plain CNN's cost is at full resolution),
    then three residual stages at 24, 12 and 6 pixels.
    """

    def __init__(
        self,
        num_classes: int = 7,
        widths: tuple[int, int, int] = (48, 96, 192),
        blocks: tuple[int, int, int] = (1, 2, 2),
        dropout: float = 0.3,
    ) -> None:
        stem = nn.Sequential(conv_bn_relu(1, 32), conv_bn_relu(32, widths[0], stride=2))
        super().__init__(num_classes, widths, blocks, dropout, stem=stem)


class DeskNetXS(ResNet):
    """The fast network (~17.6 MMACs, ≤ 1 ms/face at batch 8 on one CPU thread): one 16-channel conv at
    48×48, a stride-2 conv to 24×24, then residual stages at 12 and 6 pixels (no stage at 24×24)."""

    def __init__(self, num_classes: int = 7, dropout: float = 0.3) -> None:
        stem = nn.Sequential(conv_bn_relu(1, 16), conv_bn_relu(16, 24, stride=2))
        super().__init__(num_classes, widths=(24, 48, 96), blocks=(0, 1, 2), dropout=dropout, stem=stem)


class TinyNet(nn.Module):
    """A few-thousand-parameter net for tests: trains in seconds."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(1, 8, stride=2),
            conv_bn_relu(8, 16, stride=2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(16, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


ARCHITECTURES: dict[str, Callable[[int], nn.Module]] = {
    "reference": ReferenceCNN,
    "vgg": VGGNet,
    "resnet": ResNet,
    "desknet": DeskNet,
    "desknet-s": lambda n: DeskNet(n, widths=(32, 64, 128), blocks=(1, 1, 2)),
    "desknet-xs": DeskNetXS,
    "tiny": TinyNet,
}


def build_model(architecture: str, num_classes: int) -> nn.Module:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose from {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[architecture](num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_mflops(model: nn.Module) -> float:
    """Multiply-accumulates of one 48×48 forward pass, in millions (conv + linear layers)."""
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total += output.numel() * kernel

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    hooks = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 48, 48))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    return total / 1e6

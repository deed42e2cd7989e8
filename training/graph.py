"""The deployable graph: raw 0–255 gray pixels in, probabilities out — the same module trains and exports."""

from __future__ import annotations

import torch
from torch import nn


class PerImageStandardize(nn.Module):
    """Subtract each face's mean and divide by its standard deviation (robust to webcam exposure)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True).add(1.0).sqrt()
        return (x - mean) / std


class EmotionNet(nn.Module):
    """`net` preceded by normalisation; `forward` gives logits, `probabilities` the deployed output."""

    def __init__(self, net: nn.Module, flip_tta: bool = False) -> None:
        super().__init__()
        self.normalize = PerImageStandardize()
        self.net = net
        self.flip_tta = flip_tta

    def forward(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(raw_pixels))

    def probabilities(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(self.forward(raw_pixels), dim=1)
        if self.flip_tta:
            flipped = torch.softmax(self.forward(torch.flip(raw_pixels, dims=[3])), dim=1)
            probs = (probs + flipped) / 2
        return probs


class ProbabilityHead(nn.Module):
    """Export wrapper: its forward is the deployed contract [N,1,48,48] 0–255 → [N,C] probabilities."""

    def __init__(self, model: EmotionNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        return self.model.probabilities(raw_pixels)

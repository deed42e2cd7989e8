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


class EnsembleNet(nn.Module):
    """Several EmotionNets averaged, each over test-time views folded into the graph: the face itself, its
    mirror (`flip_tta`) and, with `shifts`, copies moved by (dx, dy) pixels (edges replicated), each mirrored
    too. The views go through each member as one batch. `probabilities` is the deployed output."""

    def __init__(
        self, members: list[EmotionNet], flip_tta: bool = False, shifts: tuple[tuple[int, int], ...] = ()
    ) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.flip_tta = flip_tta
        self.shifts = tuple(shifts)

    def views(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        views = [raw_pixels]
        for dx, dy in self.shifts:
            pad = max(abs(dx), abs(dy))
            padded = nn.functional.pad(raw_pixels, (pad, pad, pad, pad), mode="replicate")
            height, width = raw_pixels.shape[2], raw_pixels.shape[3]
            views.append(padded[:, :, pad - dy : pad - dy + height, pad - dx : pad - dx + width])
        if self.flip_tta:
            views += [torch.flip(view, dims=[3]) for view in views]
        return torch.cat(views) if len(views) > 1 else raw_pixels

    def probabilities(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        batch = raw_pixels.shape[0]
        stacked = self.views(raw_pixels)
        count = stacked.shape[0] // batch
        total = sum(torch.softmax(member(stacked), dim=1) for member in self.members)
        return total.reshape(count, batch, -1).mean(dim=0) / len(self.members)

    def forward(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        return torch.log(self.probabilities(raw_pixels))


MEMBER_VIEWS = ("face", "mirror", "crop44", "crop44-mirror")


def view_of(raw_pixels: torch.Tensor, name: str) -> torch.Tensor:
    """One named test-time view of [N,1,48,48] faces: `face`, `mirror`, `crop44` (the centre 44×44 crop resized
    back to 48, bilinear, as cv2.INTER_LINEAR) or `crop44-mirror`."""
    if name not in MEMBER_VIEWS:
        raise ValueError(f"view must be one of {MEMBER_VIEWS}, not {name!r}")
    view = raw_pixels
    if name.startswith("crop44"):
        size = raw_pixels.shape[2]
        view = nn.functional.interpolate(
            view[:, :, 2 : size - 2, 2 : size - 2], size=(size, size), mode="bilinear", align_corners=False
        )
    if name.endswith("mirror"):
        view = torch.flip(view, dims=[3])
    return view


class MemberViewsNet(nn.Module):
    """Several EmotionNets, each over its own test-time views (`view_of` names), all probabilities averaged:
    e.g. one model on its centre 44-px crop and that crop's mirror, and a second model on the face itself."""

    def __init__(self, members: list[EmotionNet], member_views: list[list[str]]) -> None:
        super().__init__()
        if len(members) != len(member_views) or not all(member_views):
            raise ValueError("give every member at least one view")
        unknown = sorted({name for names in member_views for name in names} - set(MEMBER_VIEWS))
        if unknown:  # fail here, not at export
            raise ValueError(f"view must be one of {MEMBER_VIEWS}, not {unknown[0]!r}")
        self.members = nn.ModuleList(members)
        self.member_views = [list(names) for names in member_views]

    def probabilities(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        total, count = 0, 0
        for member, names in zip(self.members, self.member_views):
            for name in names:
                total = total + torch.softmax(member(view_of(raw_pixels, name)), dim=1)
                count += 1
        return total / count

    def forward(self, raw_pixels: torch.Tensor) -> torch.Tensor:
        return torch.log(self.probabilities(raw_pixels))
